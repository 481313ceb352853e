// Test support for the browser tests: a real `sonde serve` on a free loopback port (port 0,
// read back from --ready-file) with real checker scripts that report with curl, and Debian's
// Chromium driven by playwright-core (no browser download).
import { spawn } from "node:child_process";
import { mkdtempSync, writeFileSync, existsSync, readFileSync, rmSync, mkdirSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createRequire } from "node:module";

const webDir = new URL("../../web/", import.meta.url).pathname;
export const require = createRequire(join(webDir, "package.json"));
export const CHROMIUM = process.env.SONDE_CHROMIUM ?? "/usr/bin/chromium";

// Polls `pred` every 100 ms until it returns a truthy value or `ms` pass; returns that value.
export async function eventually(pred, ms = 30000, what = "condition") {
  const end = Date.now() + ms;
  let last;
  while (Date.now() < end) {
    try {
      last = await pred();
      if (last) return last;
    } catch (e) {
      last = e;
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`timed out after ${ms} ms waiting for ${what} (last: ${last})`);
}

// A check document of kind KuberhealthyCheck running `bash <script>` every `interval`.
export function checkYaml({ name, ns, script, interval = "1h", timeout = "30s", env = {} }) {
  let y = `apiVersion: comcast.github.io/v1\nkind: KuberhealthyCheck\nmetadata:\n  name: ${name}\n  namespace: ${ns}\n` +
    `spec:\n  runInterval: ${interval}\n  timeout: ${timeout}\n  podSpec:\n    containers:\n      - name: main\n` +
    `        image: example/checker:1\n        command: ["/bin/bash", "${script}"]\n`;
  const keys = Object.keys(env);
  if (keys.length) {
    y += "        env:\n" + keys.map((k) => `          - name: ${k}\n            value: "${env[k]}"\n`).join("");
  }
  return y;
}

export const REPORT_OK = `set -e
curl --silent --show-error --fail --request POST "$KH_REPORTING_URL" \\
  --header 'Content-Type: application/json' --data-raw '{ "OK": true }'
`;

// Fails while $FLAG exists, with the reason, else reports OK.
export const REPORT_BY_FLAG = `set -e
if [ -e "$FLAG" ]; then body='{"OK": false, "Errors": ["replica lag 30s over the 5s limit"]}'; else body='{"OK": true}'; fi
curl -sS --fail -X POST "$KH_REPORTING_URL" -H 'Content-Type: application/json' -d "$body"
`;

export const CRASH = "echo 'fatal: cannot connect to db:5432' >&2\nexit 3\n";

export const SLOW_OK = `sleep 600\n`;

export class Sonde {
  constructor(binary) {
    this.dir = mkdtempSync(join(tmpdir(), "sonde-e2e-"));
    this.checks = join(this.dir, "checks");
    mkdirSync(this.checks);
    this.state = join(this.dir, "state");
    this.binary = binary;
  }

  write(name, content) {
    writeFileSync(join(this.checks, name), content, { mode: 0o755 });
  }

  async start() {
    const ready = join(this.dir, "ready");
    this.log = join(this.dir, "daemon.log");
    const out = (await import("node:fs")).openSync(this.log, "w");
    this.proc = spawn(this.binary, ["serve", "--listen", "127.0.0.1:0", "--checks", this.checks,
      "--state-dir", this.state, "--ready-file", ready, "--reload-interval", "200ms",
      "--instance-name", "e2e", "--shutdown-timeout", "1s"], { stdio: ["ignore", out, out] });
    this.exited = false;
    this.proc.on("exit", () => (this.exited = true));
    await eventually(() => existsSync(ready) || this.exited, 60000, "sonde to serve");
    if (this.exited) throw new Error("sonde exited:\n" + readFileSync(this.log, "utf8"));
    this.url = readFileSync(ready, "utf8").trim();
  }

  async json(path) {
    const r = await fetch(this.url + path, { headers: { Accept: "application/json" } });
    if (!r.ok) throw new Error(`${path}: ${r.status}`);
    return r.json();
  }

  // The /api/checks entry of ns/name.
  async check(ns, name) {
    const d = await this.json("/api/checks");
    return d.checks.find((c) => c.namespace === ns && c.name === name);
  }

  async stop() {
    if (this.proc && !this.exited) {
      this.proc.kill("SIGTERM");
      await eventually(() => this.exited, 20000, "sonde to stop").catch(() => this.proc.kill("SIGKILL"));
    }
    rmSync(this.dir, { recursive: true, force: true });
  }
}
