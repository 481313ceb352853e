// Formatting: times in the viewer's time zone (UTC on hover), durations, percentages, and
// HTML escaping for everything that comes from check output.

const local = new Intl.DateTimeFormat(undefined, { dateStyle: "medium", timeStyle: "medium" });
const localShort = new Intl.DateTimeFormat(undefined, { month: "short", day: "numeric", hour: "2-digit", minute: "2-digit" });

export function esc(s: string): string {
  return s.replace(/[&<>"']/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" })[c]!);
}

export function utc(iso: string): string {
  return new Date(iso).toISOString().replace("T", " ").replace(/\.\d+Z$/, " UTC");
}

export function localTime(iso: string): string {
  return local.format(new Date(iso));
}

export function shortTime(d: Date): string {
  return localShort.format(d);
}

// A <time> element: local time as text (or relative when `relative`), UTC in the tooltip.
export function timeEl(iso: string | null, relative = false, now = Date.now()): string {
  if (!iso) return '<span class="muted">never</span>';
  const text = relative ? ago(iso, now) : localTime(iso);
  return `<time datetime="${esc(iso)}"${relative ? " data-rel" : ""} title="${esc(localTime(iso))} — ${esc(utc(iso))}">${esc(text)}</time>`;
}

export function ago(iso: string, now = Date.now()): string {
  const s = Math.round((now - new Date(iso).getTime()) / 1000);
  if (s < -5) return "in " + span(-s);
  if (s < 5) return "just now";
  return span(s) + " ago";
}

function span(s: number): string {
  if (s < 60) return `${s} s`;
  if (s < 3600) return `${Math.floor(s / 60)} min`;
  if (s < 86400) return `${Math.floor(s / 3600)} h`;
  return `${Math.floor(s / 86400)} d`;
}

export function duration(sec: number | null | undefined): string {
  if (sec === null || sec === undefined) return "—";
  if (sec < 0.001) return `${Math.round(sec * 1e6)} µs`;
  if (sec < 1) return `${Math.round(sec * 1000)} ms`;
  if (sec < 60) return `${sec.toFixed(sec < 10 ? 2 : 1)} s`;
  if (sec < 3600) return `${Math.floor(sec / 60)} min ${Math.round(sec % 60)} s`;
  if (sec < 86400) return `${Math.floor(sec / 3600)} h ${Math.round((sec % 3600) / 60)} min`;
  return `${Math.floor(sec / 86400)} d ${Math.round((sec % 86400) / 3600)} h`;
}

export function percent(ratio: number | null | undefined): string {
  if (ratio === null || ratio === undefined) return "—";
  // Never round up to 100%: 99.996% reads 99.99%.
  return (Math.floor(ratio * 10000 + 1e-6) / 100).toFixed(2) + "%";
}

export const STATE_LABEL: Record<string, string> = {
  ok: "OK",
  failing: "Failing",
  running: "Running",
  pending: "Never run",
  disabled: "Disabled",
};

// A state pill: text and a shape, never colour alone.
export function pill(state: string): string {
  const icon: Record<string, string> = {
    ok: '<path d="M3 8.5l3 3 7-7" />',
    failing: '<path d="M4 4l8 8M12 4l-8 8" />',
    running: '<circle cx="8" cy="8" r="5" />',
    pending: '<path d="M3 8h10" />',
    disabled: '<path d="M4 12L12 4" />',
  };
  return `<span class="pill ${esc(state)}"><svg viewBox="0 0 16 16" aria-hidden="true" focusable="false">${icon[state] ?? ""}</svg>${esc(STATE_LABEL[state] ?? state)}</span>`;
}
