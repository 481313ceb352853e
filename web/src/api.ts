// The dashboard's reads: JSON answers polled with If-None-Match, so an unchanged answer is a
// bodiless 304 and costs no re-render.

export interface DashCheck {
  namespace: string;
  name: string;
  kind: string;
  job: boolean;
  state: "ok" | "failing" | "running" | "pending" | "disabled";
  lastRun: string | null;
  nextRun: string | null;
  durationSeconds: number;
  intervalSeconds: number;
  consecutiveFailures: number;
  error: string | null;
  errorCount: number;
  bar: (number | null)[];
  runs: number[];
  durations: (number | null)[];
  uptime: number | null;
}

export interface Dashboard {
  instance: string;
  loadErrors: string[];
  window: string;
  barStart: string;
  segmentSeconds: number;
  checks: DashCheck[];
}

export interface CheckDetail extends Omit<DashCheck, "error" | "errorCount" | "bar" | "runs" | "durations" | "uptime"> {
  errors: string[];
  timeoutSeconds: number;
  successCount: number;
  failureCount: number;
  lastOk: string | null;
  lastFailure: string | null;
  runner: string;
  heartbeatUrl: string | null;
  source: string;
  containers: { name: string; init: boolean; image: string; command: string }[];
  uptime: { window: string; uptime: number | null; runs: number; p95DurationSeconds: number | null }[];
}

export interface Run {
  runUuid: string;
  started: string;
  finished: string;
  durationSeconds: number;
  ok: boolean;
  errors: string[];
  endedBy: string;
}

export interface DowntimeEvent {
  id: number;
  start: string;
  end: string | null;
  open: boolean;
  durationSeconds: number;
  failedRuns: number;
  firstError: string;
  lastError: string;
}

export class HttpError extends Error {
  constructor(readonly status: number, message: string) {
    super(message);
  }
}

// Fetches `url`, remembering its ETag: `changed` is false when the server answered 304.
export class Poller<T> {
  private etag = "";
  private last: T | null = null;
  constructor(private url: string) {}

  async get(): Promise<{ changed: boolean; data: T }> {
    const headers: Record<string, string> = { Accept: "application/json" };
    if (this.etag && this.last !== null) headers["If-None-Match"] = this.etag;
    const r = await fetch(this.url, { headers, cache: "no-store" });
    if (r.status === 304 && this.last !== null) return { changed: false, data: this.last };
    if (!r.ok) throw new HttpError(r.status, (await r.text()).trim() || r.statusText);
    this.last = (await r.json()) as T;
    this.etag = r.headers.get("ETag") ?? "";
    return { changed: true, data: this.last };
  }
}

export async function getJson<T>(url: string): Promise<T> {
  const r = await fetch(url, { headers: { Accept: "application/json" }, cache: "no-store" });
  if (!r.ok) throw new HttpError(r.status, (await r.text()).trim() || r.statusText);
  return (await r.json()) as T;
}

export async function getText(url: string): Promise<string> {
  const r = await fetch(url, { cache: "no-store" });
  if (!r.ok) throw new HttpError(r.status, (await r.text()).trim() || r.statusText);
  return r.text();
}

export function checkQuery(ns: string, name: string): string {
  return `namespace=${encodeURIComponent(ns)}&healthcheck=${encodeURIComponent(name)}`;
}
