// Hand-drawn SVG charts: an uptime bar (coloured segments as Gatus and Uptime Kuma draw them),
// a duration sparkline, a run timeline and a duration chart. No chart library: these four
// shapes are a few dozen lines, and every byte here ships inside the daemon.
import { duration, esc, percent, shortTime, utc } from "./format";

export function segmentClass(u: number | null): string {
  if (u === null) return "seg-none";
  if (u >= 0.9999) return "seg-ok";
  if (u <= 0) return "seg-down";
  return "seg-part";
}

// The time range of segment i, as the bars' tooltips show it: the same for every check of one
// answer, so formatted once (thousands of rows would otherwise format it per row).
let spanCache = { key: "", spans: [] as string[] };
export function segmentSpans(start: Date, segSec: number, n: number): string[] {
  const key = `${start.getTime()}/${segSec}/${n}`;
  if (spanCache.key !== key) {
    const spans: string[] = [];
    for (let i = 0; i < n; i++) {
      const from = new Date(start.getTime() + i * segSec * 1000);
      spans.push(`${shortTime(from)} – ${shortTime(new Date(from.getTime() + segSec * 1000))}`);
    }
    spanCache = { key, spans };
  }
  return spanCache.spans;
}

export function segmentTip(span: string, u: number | null, runs: number): string {
  return `${span}: ${u === null ? "no data" : percent(u) + " up"}, ${runs} run${runs === 1 ? "" : "s"}`;
}

// Segments oldest first, one path per colour (not one element per segment: 2,000 rows of bars
// must stay a small DOM). The overview shows each segment's details in a tooltip on hover.
export function uptimeBar(bar: (number | null)[], label: string): string {
  const paths: Record<string, string> = {};
  bar.forEach((u, i) => {
    const cls = segmentClass(u);
    paths[cls] = (paths[cls] ?? "") + `M${i * 10} 0h8v24h-8z`;
  });
  const body = Object.entries(paths).map(([cls, d]) => `<path class="${cls}" d="${d}"/>`).join("");
  return `<svg class="bar" data-segments="${bar.length}" viewBox="0 0 ${Math.max(bar.length * 10 - 2, 1)} 24" preserveAspectRatio="none" role="img" aria-label="${esc(label)}">${body}</svg>`;
}

export function sparkline(values: (number | null)[], label: string): string {
  const pts = values.map((v, i) => [i, v] as const).filter((p): p is readonly [number, number] => p[1] !== null);
  if (pts.length === 0) return `<svg class="spark" viewBox="0 0 100 24" role="img" aria-label="${esc(label)}: no runs"></svg>`;
  const max = Math.max(...pts.map((p) => p[1]), 1e-9);
  const w = Math.max(values.length - 1, 1);
  const xy = pts.map(([i, v]) => [2 + (i / w) * 96, 21 - (v / max) * 18] as const);
  const d = xy.map(([px, py]) => `${px.toFixed(1)},${py.toFixed(1)}`).join(" ");
  // One point is no line: a short flat stroke marks it.
  const dot = pts.length === 1 ? `<line x1="${(xy[0][0] - 4).toFixed(1)}" y1="${xy[0][1].toFixed(1)}" x2="${xy[0][0].toFixed(1)}" y2="${xy[0][1].toFixed(1)}" vector-effect="non-scaling-stroke" />` : "";
  return `<svg class="spark" viewBox="0 0 100 24" preserveAspectRatio="none" role="img" aria-label="${esc(label)}"><polyline points="${d}" vector-effect="non-scaling-stroke" />${dot}</svg>`;
}

export interface TimelineRun {
  started: string;
  durationSeconds: number;
  ok: boolean;
  errors: string[];
  endedBy: string;
}

// Runs oldest first, one bar each; height by duration, colour by outcome, details on hover.
export function timeline(runs: TimelineRun[]): string {
  if (runs.length === 0) return "";
  const max = Math.max(...runs.map((r) => r.durationSeconds), 1e-9);
  const slot = 10;
  let bars = "";
  runs.forEach((r, i) => {
    const h = 6 + (r.durationSeconds / max) * 34;
    const tip = `${shortTime(new Date(r.started))} (${utc(r.started)}): ${r.ok ? "OK" : "failed"} in ${duration(r.durationSeconds)}` +
      (r.errors.length ? ` — ${r.errors.join("; ")}` : "") + (r.endedBy !== "report" ? ` [${r.endedBy}]` : "");
    bars += `<rect x="${i * slot}" y="${40 - h}" width="${slot - 2}" height="${h}" rx="1.5" class="${r.ok ? "seg-ok" : "seg-down"}"><title>${esc(tip)}</title></rect>`;
  });
  const width = runs.length * slot - 2;
  return `<svg class="timeline" viewBox="0 0 ${Math.max(width, 100)} 40" preserveAspectRatio="none" role="img" aria-label="Last ${runs.length} runs: ${runs.filter((r) => !r.ok).length} failed">${bars}</svg>`;
}

// Duration over time with a y axis in the run's units and the first and last times below.
export function durationChart(runs: TimelineRun[]): string {
  if (runs.length < 2) return '<p class="muted">Not enough runs for a chart yet.</p>';
  const t0 = new Date(runs[0].started).getTime();
  const t1 = new Date(runs[runs.length - 1].started).getTime();
  const span = Math.max(t1 - t0, 1);
  const max = Math.max(...runs.map((r) => r.durationSeconds), 1e-9);
  const x = (t: number) => 40 + ((t - t0) / span) * 550;
  const y = (v: number) => 110 - (v / max) * 100;
  const pts = runs.map((r) => `${x(new Date(r.started).getTime()).toFixed(1)},${y(r.durationSeconds).toFixed(1)}`).join(" ");
  const fails = runs.filter((r) => !r.ok).map((r) => `<circle cx="${x(new Date(r.started).getTime()).toFixed(1)}" cy="${y(r.durationSeconds).toFixed(1)}" r="3" class="fail-dot" />`).join("");
  return `<svg class="chart" viewBox="0 0 600 130" role="img" aria-label="Run duration over the last ${runs.length} runs, at most ${esc(duration(max))}">
<line x1="40" y1="10" x2="40" y2="110" class="axis" /><line x1="40" y1="110" x2="590" y2="110" class="axis" />
<text x="36" y="14" text-anchor="end" class="tick">${esc(duration(max))}</text><text x="36" y="112" text-anchor="end" class="tick">0</text>
<text x="40" y="126" class="tick">${esc(shortTime(new Date(t0)))}</text><text x="590" y="126" text-anchor="end" class="tick">${esc(shortTime(new Date(t1)))}</text>
<polyline points="${pts}" class="line" />${fails}</svg>`;
}
