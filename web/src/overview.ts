// The overview: cluster state, filters, and one row per check. Rows are keyed by check and
// re-rendered only when what they show changed; the table is re-ordered by moving rows, so an
// update touches only what moved.
import { Dashboard, DashCheck } from "./api";
import { segmentSpans, segmentTip, sparkline, uptimeBar } from "./charts";
import { ago, duration, esc, percent, pill, STATE_LABEL, timeEl } from "./format";

const STATE_ORDER: Record<string, number> = { failing: 0, running: 1, pending: 2, ok: 3, disabled: 4 };

export interface OverviewPrefs {
  ns: string;
  q: string;
  sort: string;
  window: string;
}

export function readPrefs(): OverviewPrefs {
  const p = new URLSearchParams(location.search);
  return { ns: p.get("namespace") ?? "", q: p.get("q") ?? "", sort: p.get("sort") ?? "state", window: p.get("window") ?? "24h" };
}

function writePrefs(p: OverviewPrefs): void {
  const s = new URLSearchParams();
  if (p.ns) s.set("namespace", p.ns);
  if (p.q) s.set("q", p.q);
  if (p.sort !== "state") s.set("sort", p.sort);
  if (p.window !== "24h") s.set("window", p.window);
  const qs = s.toString();
  history.replaceState(history.state, "", location.pathname + (qs ? "?" + qs : ""));
}

export function keyOf(c: { namespace: string; name: string }): string {
  return `${c.namespace}/${c.name}`;
}

export function checkHref(c: { namespace: string; name: string }): string {
  return `/ui/check/${encodeURIComponent(c.namespace)}/${encodeURIComponent(c.name)}`;
}

function compare(sort: string): (a: DashCheck, b: DashCheck) => number {
  const byKey = (a: DashCheck, b: DashCheck) => keyOf(a).localeCompare(keyOf(b));
  const time = (s: string | null) => (s ? new Date(s).getTime() : 0);
  switch (sort) {
    case "name":
      return byKey;
    case "lastRun":
      return (a, b) => time(b.lastRun) - time(a.lastRun) || byKey(a, b);
    case "uptime":
      return (a, b) => (a.uptime ?? 2) - (b.uptime ?? 2) || byKey(a, b);
    case "duration":
      return (a, b) => b.durationSeconds - a.durationSeconds || byKey(a, b);
    default:
      return (a, b) => (STATE_ORDER[a.state] ?? 9) - (STATE_ORDER[b.state] ?? 9) || byKey(a, b);
  }
}

export class Overview {
  private data: Dashboard | null = null;
  // Rows are ARIA table rows on CSS grid, not <tr>s: off-screen rows then skip layout and paint
  // (content-visibility), which is what keeps 2,000 rows fast.
  private rows = new Map<string, { tr: HTMLElement; sig: string }>();
  private tbody!: HTMLElement;
  private summary!: HTMLElement;
  private count!: HTMLElement;
  private empty!: HTMLElement;
  private nsSelect!: HTMLSelectElement;
  private nsOptions = "";
  private byKey = new Map<string, DashCheck>();

  constructor(private root: HTMLElement, private prefs: OverviewPrefs, private onWindow: (w: string) => void) {
    root.innerHTML = `
<h1 class="sr-only" tabindex="-1">Checks</h1>
<section class="summary" id="summary" aria-label="Cluster state" aria-live="polite"></section>
<form class="controls" role="search">
  <label>Namespace <select id="f-ns"><option value="">All namespaces</option></select></label>
  <label>Search <input id="f-q" type="search" placeholder="Name, namespace or error" autocomplete="off"></label>
  <label>Sort by <select id="f-sort">
    <option value="state">State (failing first)</option><option value="name">Name</option>
    <option value="lastRun">Last run</option><option value="uptime">Uptime (lowest first)</option>
    <option value="duration">Duration (longest first)</option></select></label>
  <label>Uptime over <select id="f-window"><option value="24h">24 hours</option><option value="7d">7 days</option><option value="30d">30 days</option></select></label>
</form>
<p class="count" id="count" aria-live="polite"></p>
<div class="checks" role="table" aria-label="Every check: state, last run, uptime and duration">
  <div role="rowgroup"><div role="row" class="row head">
    <div role="columnheader" class="c-state">State</div><div role="columnheader" class="c-name">Check</div>
    <div role="columnheader" class="c-last">Last run</div><div role="columnheader" class="c-bar">Uptime</div>
    <div role="columnheader" class="c-up"><span class="sr-only">Uptime percent</span></div>
    <div role="columnheader" class="c-spark">Duration</div><div role="columnheader" class="c-error">Error</div>
  </div></div>
  <div role="rowgroup" id="rows"></div>
</div>
<div id="empty" class="empty" hidden></div>
<div id="bar-tip" class="bar-tip" role="tooltip" hidden></div>`;
    this.tbody = root.querySelector("#rows")!;
    this.tbody.addEventListener("pointermove", (e) => this.barTip(e));
    this.tbody.addEventListener("pointerleave", () => (root.querySelector<HTMLElement>("#bar-tip")!.hidden = true));
    this.summary = root.querySelector("#summary")!;
    this.count = root.querySelector("#count")!;
    this.empty = root.querySelector("#empty")!;
    this.nsSelect = root.querySelector("#f-ns")!;
    const q = root.querySelector<HTMLInputElement>("#f-q")!;
    const sort = root.querySelector<HTMLSelectElement>("#f-sort")!;
    const win = root.querySelector<HTMLSelectElement>("#f-window")!;
    q.value = prefs.q;
    sort.value = prefs.sort;
    win.value = prefs.window;
    root.querySelector("form")!.addEventListener("submit", (e) => e.preventDefault());
    this.nsSelect.addEventListener("change", () => this.update({ ns: this.nsSelect.value }));
    q.addEventListener("input", () => this.update({ q: q.value }));
    sort.addEventListener("change", () => this.update({ sort: sort.value }));
    win.addEventListener("change", () => {
      this.update({ window: win.value });
      this.onWindow(win.value);
    });
  }

  private update(change: Partial<OverviewPrefs>): void {
    Object.assign(this.prefs, change);
    writePrefs(this.prefs);
    this.render();
  }

  // The hovered bar segment's time range, uptime and runs, in one floating tooltip (fixed
  // position: it never moves the layout).
  private barTip(e: PointerEvent): void {
    const tip = this.root.querySelector<HTMLElement>("#bar-tip")!;
    const svg = (e.target as Element).closest?.("svg.bar");
    const key = svg?.closest<HTMLElement>("[data-key]")?.dataset.key;
    const c = key ? this.byKey.get(key) : undefined;
    if (!svg || !c || !this.data) {
      tip.hidden = true;
      return;
    }
    const box = svg.getBoundingClientRect();
    const i = Math.min(c.bar.length - 1, Math.max(0, Math.floor(((e.clientX - box.left) / box.width) * c.bar.length)));
    const spans = segmentSpans(new Date(this.data.barStart), this.data.segmentSeconds, c.bar.length);
    const mean = c.durations[i];
    tip.textContent = segmentTip(spans[i], c.bar[i], c.runs[i] ?? 0) + (mean !== null && mean !== undefined ? `, mean ${duration(mean)}` : "");
    tip.hidden = false;
    tip.style.left = `${Math.min(e.clientX + 12, window.innerWidth - tip.offsetWidth - 8)}px`;
    tip.style.top = `${box.bottom + 6}px`;
  }

  setData(d: Dashboard): void {
    this.byKey = new Map(d.checks.map((c) => [keyOf(c), c]));
    const first = this.data === null;
    this.data = d;
    this.render();
    // For the scale test and anyone profiling: when the first full overview was in the DOM.
    if (first) performance.mark("sonde-overview-rendered");
  }

  // Called every poll even without new data: relative times move on.
  render(): void {
    const d = this.data;
    if (!d) return;
    this.renderSummary(d);
    this.renderNamespaces(d);
    const q = this.prefs.q.trim().toLowerCase();
    const shown = d.checks
      .filter((c) => !this.prefs.ns || c.namespace === this.prefs.ns)
      .filter((c) => !q || keyOf(c).toLowerCase().includes(q) || (c.error ?? "").toLowerCase().includes(q))
      .sort(compare(this.prefs.sort));
    const now = Date.now();
    // New rows are parsed in one go (one innerHTML for all of them is far cheaper than one
    // each); changed rows get new content; then the body is re-ordered only if the order moved.
    const fresh: { key: string; c: DashCheck; sig: string }[] = [];
    const order: HTMLElement[] = [];
    for (const c of shown) {
      const key = keyOf(c);
      const sig = JSON.stringify([c, d.window, d.barStart]);
      const row = this.rows.get(key);
      if (!row) {
        fresh.push({ key, c, sig });
        continue;
      }
      if (row.sig !== sig) {
        row.tr.className = "row state-" + c.state;
        row.tr.innerHTML = rowHtml(c, d, now);
        row.sig = sig;
      }
    }
    if (fresh.length) {
      const t = document.createElement("div");
      t.innerHTML = fresh.map((f) => `<div role="row" class="row state-${esc(f.c.state)}">${rowHtml(f.c, d, now)}</div>`).join("");
      const made = [...t.children] as HTMLElement[];
      fresh.forEach((f, i) => {
        made[i].dataset.key = f.key;
        this.rows.set(f.key, { tr: made[i], sig: f.sig });
      });
    }
    for (const c of shown) order.push(this.rows.get(keyOf(c))!.tr);
    const current = this.tbody.children;
    if (current.length !== order.length || order.some((tr, i) => current[i] !== tr)) {
      this.tbody.replaceChildren(...order);
    }
    // Relative times move on every poll: only their text changes, not the rows.
    for (const t of this.tbody.querySelectorAll<HTMLTimeElement>("time[data-rel]")) {
      const text = ago(t.dateTime, now);
      if (t.textContent !== text) t.textContent = text;
    }
    if (this.rows.size > d.checks.length) {
      const all = new Set(d.checks.map(keyOf));
      for (const k of [...this.rows.keys()]) if (!all.has(k)) this.rows.delete(k);
    }
    this.count.textContent = d.checks.length ? `Showing ${shown.length} of ${d.checks.length} checks` : "";
    this.renderEmpty(d, shown.length);
  }

  private renderSummary(d: Dashboard): void {
    const counts: Record<string, number> = {};
    for (const c of d.checks) counts[c.state] = (counts[c.state] ?? 0) + 1;
    const failing = counts.failing ?? 0;
    const state = d.loadErrors.length || failing ? "failing" : d.checks.length ? "ok" : "pending";
    const headline = failing
      ? `${failing} of ${d.checks.length} checks failing`
      : d.checks.length
        ? d.loadErrors.length ? "Some check files failed to load" : `All ${d.checks.length} checks OK`
        : "No checks loaded";
    const chips = ["failing", "running", "pending", "ok"]
      .filter((s) => counts[s])
      .map((s) => `<li>${pill(s)} <span class="n">${counts[s]}</span></li>`)
      .join("");
    const html = `<p class="headline ${state}">${esc(headline)}</p><ul class="chips" aria-label="Checks by state">${chips}</ul>` +
      (d.instance ? `<p class="instance muted">Instance ${esc(d.instance)}</p>` : "");
    if (this.summary.innerHTML !== html) this.summary.innerHTML = html;
  }

  private renderNamespaces(d: Dashboard): void {
    const names = [...new Set(d.checks.map((c) => c.namespace))].sort();
    const sig = names.join("\n");
    if (sig === this.nsOptions) return;
    this.nsOptions = sig;
    this.nsSelect.innerHTML = `<option value="">All namespaces</option>` + names.map((n) => `<option>${esc(n)}</option>`).join("");
    this.nsSelect.value = this.prefs.ns;
  }

  private renderEmpty(d: Dashboard, shown: number): void {
    let html = "";
    if (d.loadErrors.length) {
      html += `<h2>Check files that failed to load</h2><ul class="errors">${d.loadErrors.map((e) => `<li><code>${esc(e)}</code></li>`).join("")}</ul><p>Fix them and save: Sonde re-reads check files within seconds.</p>`;
    }
    if (!d.checks.length) {
      html += `<h2>No checks loaded yet</h2><p>Put check YAML files (KuberhealthyCheck, KuberhealthyJob or HealthCheck) in the directory given to <code>sonde serve --checks</code>; they appear here within seconds. <code>sonde validate DIR</code> lists any problem in them.</p>`;
    } else if (!shown) {
      html += `<p>No check matches these filters.</p>`;
    }
    this.empty.hidden = !html;
    if (this.empty.innerHTML !== html) this.empty.innerHTML = html;
  }
}

function rowHtml(c: DashCheck, d: Dashboard, now: number): string {
  const win = d.window;
  const up = c.uptime === null ? "no data" : percent(c.uptime);
  const meanDur = c.durations.filter((v): v is number => v !== null);
  const sparkLabel = meanDur.length ? `Run duration over ${win}: from ${duration(Math.min(...meanDur))} to ${duration(Math.max(...meanDur))}` : `Run duration over ${win}`;
  const err = c.error ? `<div class="err" title="${esc(c.error)}">${esc(c.error)}${c.errorCount > 1 ? ` <span class="muted">(+${c.errorCount - 1} more)</span>` : ""}</div>` : "";
  return `<div role="cell" class="c-state">${pill(c.state)}</div>` +
    `<div role="rowheader" class="c-name"><a href="${checkHref(c)}" data-link>${esc(c.name)}</a><span class="ns">${esc(c.namespace)}</span></div>` +
    `<div role="cell" class="c-last">${c.lastRun ? timeEl(c.lastRun, true, now) : `<span class="muted">${esc(STATE_LABEL.pending)}</span>`}` +
    `<span class="dur">${c.lastRun ? duration(c.durationSeconds) : ""}</span></div>` +
    `<div role="cell" class="c-bar">${uptimeBar(c.bar, `Uptime over ${win}: ${up}`)}</div>` +
    `<div role="cell" class="c-up">${esc(up === "no data" ? "—" : up)}</div>` +
    `<div role="cell" class="c-spark">${sparkline(c.durations, sparkLabel)}</div>` +
    `<div role="cell" class="c-error">${err}</div>`;
}
