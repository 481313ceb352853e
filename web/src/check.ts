// The check page: state and spec, uptime per window, the last runs (timeline, duration chart,
// table), downtime events, logs, and "Run now".
import { CheckDetail, checkQuery, DowntimeEvent, getJson, getText, HttpError, Poller, Run } from "./api";
import { durationChart, timeline } from "./charts";
import { duration, esc, percent, pill, timeEl } from "./format";

const TOKEN_KEY = "sonde-api-token";

export class CheckPage {
  private poller: Poller<CheckDetail>;
  private detail: CheckDetail | null = null;
  private lastSeen = "";
  private running = false;

  constructor(private root: HTMLElement, private ns: string, private name: string) {
    this.poller = new Poller<CheckDetail>(`/api/dashboard/check?${checkQuery(ns, name)}`);
    root.innerHTML = `
<nav class="crumbs" aria-label="Breadcrumb"><a href="/ui" data-link>All checks</a> <span aria-hidden="true">/</span> ${esc(ns)}</nav>
<div class="check-head">
  <h1 tabindex="-1">${esc(name)}</h1><span id="c-pill"></span>
  <button id="run" type="button" class="primary">Run now</button>
  <p id="run-msg" class="run-msg" role="status" aria-live="polite"></p>
</div>
<div id="c-errors"></div>
<div class="grid">
  <section aria-labelledby="h-spec"><h2 id="h-spec">Summary</h2><dl class="spec" id="c-spec"></dl></section>
  <section aria-labelledby="h-up"><h2 id="h-up">Uptime</h2><ul class="uptime" id="c-uptime"></ul></section>
</div>
<section aria-labelledby="h-runs"><h2 id="h-runs">Recent runs</h2>
  <div id="c-timeline" class="timeline-wrap"></div>
  <h3>Run duration</h3><div id="c-chart" class="chart-wrap"></div>
  <details><summary>Run list</summary><div class="table-wrap" tabindex="0" role="region" aria-label="Recent runs"><table class="runs"><caption class="sr-only">Recent runs, newest first</caption>
  <thead><tr><th scope="col">Started</th><th scope="col">Result</th><th scope="col">Duration</th><th scope="col">Errors</th></tr></thead><tbody id="c-runs"></tbody></table></div></details>
</section>
<section aria-labelledby="h-events"><h2 id="h-events">Downtime events</h2><div id="c-events"></div></section>
<section aria-labelledby="h-logs"><h2 id="h-logs">Logs of the last runs</h2><pre id="c-logs" class="logs" tabindex="0" aria-label="Logs of the last runs"></pre></section>`;
    root.querySelector("#run")!.addEventListener("click", () => void this.runNow());
    document.title = `${name} · ${ns} · Sonde`;
  }

  // One poll: the check's state; history, events and logs again only when a run ended.
  async poll(): Promise<void> {
    try {
      const { changed, data } = await this.poller.get();
      if (!changed) return;
      this.detail = data;
      this.renderDetail(data);
      const seen = `${data.lastRun}|${data.state}`;
      if (seen !== this.lastSeen) {
        this.lastSeen = seen;
        await this.loadHistory();
      }
    } catch (e) {
      if (e instanceof HttpError && e.status === 404) {
        this.root.querySelector("#c-errors")!.innerHTML = `<div class="notice failing"><p>There is no check ${esc(this.ns)}/${esc(this.name)} (any more). It may have been removed from the check files. <a href="/ui" data-link>Back to all checks</a>.</p></div>`;
        return;
      }
      throw e;
    }
  }

  private renderDetail(d: CheckDetail): void {
    const q = (s: string) => this.root.querySelector<HTMLElement>(s)!;
    q("#c-pill").innerHTML = pill(d.state);
    const runBtn = q("#run") as HTMLButtonElement;
    runBtn.disabled = d.state === "running" || this.running;
    runBtn.textContent = d.state === "running" ? "Running…" : "Run now";
    q("#c-errors").innerHTML = d.errors.length
      ? `<div class="notice failing"><h2>Errors of the last run</h2><ul>${d.errors.map((e) => `<li><code>${esc(e)}</code></li>`).join("")}</ul></div>`
      : "";
    const containers = d.containers
      .map((c) => `<dt>${c.init ? "Init container" : "Container"} ${esc(c.name)}</dt><dd>${c.image ? `<span class="muted">image</span> ${esc(c.image)}<br>` : ""}<code>${esc(c.command)}</code></dd>`)
      .join("");
    q("#c-spec").innerHTML =
      `<dt>Namespace</dt><dd>${esc(d.namespace)}</dd><dt>Kind</dt><dd>${esc(d.kind)}${d.job ? " (runs once)" : ""}</dd>` +
      (d.job ? "" : `<dt>Interval</dt><dd>${duration(d.intervalSeconds)}</dd>`) +
      `<dt>Timeout</dt><dd>${duration(d.timeoutSeconds)}</dd><dt>Runner</dt><dd>${esc(d.runner)}</dd>${containers}` +
      (d.heartbeatUrl ? `<dt>Report to</dt><dd><code>${esc(d.heartbeatUrl)}</code></dd>` : "") +
      `<dt>Last run</dt><dd>${timeEl(d.lastRun)}${d.lastRun ? ` (${duration(d.durationSeconds)})` : ""}</dd>` +
      `<dt>Next run</dt><dd>${d.nextRun ? timeEl(d.nextRun) : '<span class="muted">not scheduled</span>'}</dd>` +
      `<dt>Runs</dt><dd>${d.successCount} OK, ${d.failureCount} failed${d.consecutiveFailures ? `, ${d.consecutiveFailures} failed in a row` : ""}</dd>` +
      (d.source ? `<dt>Defined in</dt><dd><code>${esc(d.source)}</code></dd>` : "");
    q("#c-uptime").innerHTML = d.uptime
      .map((u) => `<li><span class="w">${esc(u.window)}</span><span class="v">${percent(u.uptime)}</span><span class="muted">${u.runs} runs${u.p95DurationSeconds !== null ? `, p95 ${duration(u.p95DurationSeconds)}` : ""}</span></li>`)
      .join("");
  }

  private async loadHistory(): Promise<void> {
    const qs = checkQuery(this.ns, this.name);
    const [hist, events, logs] = await Promise.all([
      getJson<{ runs: Run[] }>(`/api/history?${qs}&limit=100`),
      getJson<{ events: DowntimeEvent[] }>(`/api/events?${qs}&limit=50`),
      getText(`/api/logs?${qs}`).catch(() => ""),
    ]);
    const q = (s: string) => this.root.querySelector<HTMLElement>(s)!;
    const oldestFirst = [...hist.runs].reverse();
    q("#c-timeline").innerHTML = hist.runs.length ? timeline(oldestFirst) : '<p class="muted">No runs yet. Use “Run now” or wait for the schedule.</p>';
    q("#c-chart").innerHTML = durationChart(oldestFirst);
    q("#c-runs").innerHTML = hist.runs
      .map((r) => `<tr><td>${timeEl(r.started)}</td><td>${r.ok ? "OK" : "Failed"}${r.endedBy !== "report" ? ` <span class="muted">(${esc(r.endedBy)})</span>` : ""}</td><td>${duration(r.durationSeconds)}</td><td>${esc(r.errors.join("; "))}</td></tr>`)
      .join("");
    q("#c-events").innerHTML = events.events.length
      ? `<div class="table-wrap" tabindex="0" role="region" aria-label="Downtime events"><table class="events"><caption class="sr-only">Downtime events, newest first</caption><thead><tr><th scope="col">Start</th><th scope="col">End</th><th scope="col">Duration</th><th scope="col">Failed runs</th><th scope="col">Errors</th></tr></thead><tbody>` +
        events.events
          .map((e) => `<tr class="${e.open ? "open" : ""}"><td>${timeEl(e.start)}</td><td>${e.open ? '<strong class="down-text">ongoing</strong>' : timeEl(e.end)}</td><td>${duration(e.durationSeconds)}</td><td>${e.failedRuns}</td><td><code>${esc(e.firstError)}</code>${e.lastError && e.lastError !== e.firstError ? `<br><span class="muted">last:</span> <code>${esc(e.lastError)}</code>` : ""}</td></tr>`)
          .join("") + "</tbody></table></div>"
      : '<p class="muted">No downtime recorded.</p>';
    q("#c-logs").textContent = logs || "No output captured yet.";
  }

  private async runNow(token = sessionStorage.getItem(TOKEN_KEY) ?? ""): Promise<void> {
    const btn = this.root.querySelector<HTMLButtonElement>("#run")!;
    const msg = this.root.querySelector<HTMLElement>("#run-msg")!;
    this.running = true;
    btn.disabled = true;
    msg.textContent = "Starting a run…";
    try {
      const headers: Record<string, string> = {};
      if (token) headers.Authorization = `Bearer ${token}`;
      const r = await fetch(`/api/run?${checkQuery(this.ns, this.name)}`, { method: "POST", headers });
      const text = (await r.text()).trim();
      if (r.status === 401 || r.status === 403) {
        const t = await askToken();
        if (t) {
          sessionStorage.setItem(TOKEN_KEY, t);
          return this.runNow(t);
        }
        msg.textContent = "Not started: this server needs an API token.";
      } else if (r.status === 202) {
        msg.textContent = "Run started.";
      } else if (r.status === 409) {
        msg.textContent = "A run is already in progress.";
      } else {
        msg.textContent = `Not started: ${text || r.statusText}`;
      }
    } catch {
      msg.textContent = "Not started: the daemon cannot be reached.";
    } finally {
      this.running = false;
      btn.disabled = this.detail?.state === "running";
    }
  }
}

function askToken(): Promise<string> {
  const dialog = document.querySelector<HTMLDialogElement>("#token-dialog")!;
  const input = dialog.querySelector<HTMLInputElement>("#token-input")!;
  input.value = "";
  return new Promise((resolve) => {
    dialog.addEventListener("close", () => resolve(dialog.returnValue === "ok" ? input.value : ""), { once: true });
    dialog.showModal();
  });
}
