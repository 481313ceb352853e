// End-to-end browser tests of the dashboard: Debian's Chromium (headless, via playwright-core)
// against a real `sonde serve` with real checker scripts. Run by CTest (tests/CMakeLists.txt):
//   SONDE_BIN=<build>/sonde SONDE_SCREENSHOTS=<build>/e2e-screenshots node --test dashboard.test.mjs
// Waits poll for conditions (the ASan build is several times slower), never sleep blindly.
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { mkdirSync, writeFileSync, rmSync } from "node:fs";
import { join } from "node:path";
import { CHROMIUM, checkYaml, CRASH, eventually, REPORT_BY_FLAG, REPORT_OK, require, SLOW_OK, Sonde } from "./sonde.mjs";

const { chromium } = require("playwright-core");
const AXE = require.resolve("axe-core/axe.min.js");
const SHOTS = process.env.SONDE_SCREENSHOTS ?? join(process.cwd(), "e2e-screenshots");
const BIN = process.env.SONDE_BIN;
const DESKTOP = { width: 1280, height: 900 };
const PHONE = { width: 390, height: 844 };
// The sanitizer build's daemon is several times slower: its bound on "red within seconds" is wider.
const RED_WITHIN_S = process.env.SONDE_E2E_SLOW === "1" ? 8 : 5;

describe("dashboard", () => {
  let sonde, browser, flag;

  before(async () => {
    assert.ok(BIN, "SONDE_BIN must name the sonde binary");
    mkdirSync(SHOTS, { recursive: true });
    sonde = new Sonde(BIN);
    flag = join(sonde.dir, "replica-fails");
    sonde.write("ok.sh", REPORT_OK);
    sonde.write("flag.sh", REPORT_BY_FLAG);
    sonde.write("crash.sh", CRASH);
    sonde.write("slow.sh", SLOW_OK);
    sonde.write("login.yaml", checkYaml({ name: "login-works", ns: "shop", script: "ok.sh", interval: "2s" }));
    sonde.write("cart.yaml", checkYaml({ name: "cart-api", ns: "shop", script: "ok.sh", interval: "1h" }));
    sonde.write("replica.yaml", checkYaml({ name: "replica-lag", ns: "db", script: "flag.sh", interval: "1s", env: { FLAG: flag } }));
    sonde.write("backup.yaml", checkYaml({ name: "backup-fresh", ns: "db", script: "crash.sh", interval: "1h" }));
    sonde.write("slow.yaml", checkYaml({ name: "slow-batch", ns: "ops", script: "slow.sh", interval: "1h", timeout: "10m" }));
    await sonde.start();
    browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: ["--no-sandbox"] });
  });

  after(async () => {
    await browser?.close();
    await sonde?.stop();
  });

  async function page(opts = {}) {
    const context = await browser.newContext({ viewport: DESKTOP, colorScheme: "light", timezoneId: "Europe/Paris", ...opts });
    const p = await context.newPage();
    p.setDefaultTimeout(30000);
    return p;
  }

  const row = (p, key) => p.locator(`#rows > [data-key="${key}"]`);

  async function axeScan(p, label) {
    await p.addScriptTag({ path: AXE });
    const result = await p.evaluate(async () => await window.axe.run(document, { resultTypes: ["violations"] }));
    const bad = result.violations.filter((v) => v.impact === "serious" || v.impact === "critical");
    assert.deepEqual(bad.map((v) => `${v.id} (${v.impact}): ${v.nodes.map((n) => n.target.join(" ")).slice(0, 3).join(", ")}`), [], `${label}: accessibility violations`);
  }

  it("answers a browser's / with the dashboard and curl's with the v2 JSON", async () => {
    const html = await fetch(sonde.url + "/", { headers: { Accept: "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8" } });
    assert.equal(html.status, 200);
    assert.match(html.headers.get("content-type"), /^text\/html/);
    assert.match(await html.text(), /\/ui\/assets\/app\.js/);
    const json = await fetch(sonde.url + "/", { headers: { Accept: "*/*", "User-Agent": "curl/7.88.1" } });
    assert.match(json.headers.get("content-type"), /^application\/json/);
    const body = await json.json();
    assert.ok("CheckDetails" in body && "OK" in body, "Kuberhealthy v2 status JSON");
    const p = await page();
    await p.goto(sonde.url + "/");
    await p.locator("#rows > [data-key]").first().waitFor();
    await p.context().close();
  });

  it("lists every check with its state, failing first", async () => {
    const p = await page();
    await p.goto(sonde.url + "/ui");
    const states = { "shop/login-works": "ok", "shop/cart-api": "ok", "db/replica-lag": "ok", "db/backup-fresh": "failing", "ops/slow-batch": "running" };
    for (const [key, state] of Object.entries(states)) {
      await eventually(async () => (await row(p, key).getAttribute("class")) === `row state-${state}`, 30000, `${key} to be ${state}`);
    }
    assert.equal(await p.locator("#rows > [data-key]").first().getAttribute("data-key"), "db/backup-fresh");
    assert.match(await row(p, "db/backup-fresh").locator(".c-error").innerText(), /exit|fatal/i);
    assert.match(await p.locator(".headline").innerText(), /1 of 5 checks failing/);
    await p.context().close();
  });

  it("turns a failing check red within seconds of its report", async () => {
    const p = await page();
    await p.goto(sonde.url + "/ui");
    await eventually(async () => (await row(p, "db/replica-lag").getAttribute("class")) === "row state-ok", 30000, "replica OK");
    writeFileSync(flag, "");
    // The moment the daemon has the failed report...
    await eventually(async () => (await sonde.check("db", "replica-lag"))?.ok === false, 30000, "the failed report");
    const reported = Date.now();
    // ...to the moment the row is red, without a reload.
    await eventually(async () => (await row(p, "db/replica-lag").getAttribute("class")) === "row state-failing", 15000, "the row to turn red");
    const seconds = (Date.now() - reported) / 1000;
    assert.ok(seconds < RED_WITHIN_S, `red after ${seconds} s`);
    await eventually(async () => (await row(p, "db/replica-lag").locator(".c-error").innerText()).includes("replica lag 30s"), 10000, "the error text");
    rmSync(flag);  // recovers: the downtime event closes
    await eventually(async () => (await sonde.check("db", "replica-lag"))?.ok === true, 30000, "recovery");
    await p.context().close();
  });

  it("shows a check's history and downtime event on its page", async () => {
    const p = await page();
    await p.goto(sonde.url + "/ui");
    await row(p, "db/replica-lag").locator("a").click();
    await p.waitForURL(/\/ui\/check\/db\/replica-lag$/);
    await eventually(async () => (await p.locator("svg.timeline rect").count()) >= 3, 30000, "the run timeline");
    assert.ok((await p.locator("svg.timeline rect.seg-down").count()) >= 1, "a failed run in the timeline");
    const events = p.locator("table.events tbody tr");
    await eventually(async () => (await events.count()) >= 1, 30000, "a downtime event");
    assert.match(await events.first().innerText(), /replica lag 30s/);
    assert.match(await p.locator("#c-spec").innerText(), /flag\.sh/);
    assert.match(await p.locator("#c-uptime").innerText(), /24h/);
    await eventually(async () => /report accepted|\[main\]|OK/.test(await p.locator("#c-logs").innerText()), 15000, "logs");
    await p.goBack();
    await p.locator("#rows > [data-key]").first().waitFor();
    await p.context().close();
  });

  it("starts a run with “Run now”", async () => {
    const p = await page();
    await p.goto(sonde.url + "/ui/check/shop/cart-api");
    await eventually(async () => (await sonde.check("shop", "cart-api"))?.successCount === 1, 30000, "the first run");
    const button = p.getByRole("button", { name: "Run now" });
    await eventually(() => button.isEnabled(), 15000, "the button");
    await button.click();
    await eventually(async () => /Run started|already in progress/.test(await p.locator("#run-msg").innerText()), 15000, "the run message");
    await eventually(async () => (await sonde.check("shop", "cart-api"))?.successCount === 2, 30000, "the second run");
    await eventually(async () => (await p.locator("svg.timeline rect").count()) === 2, 15000, "two runs in the timeline");
    await p.context().close();
  });

  it("disables “Run now” while a run is in progress, and asks for a token when the server wants one", async () => {
    const p = await page();
    await p.goto(sonde.url + "/ui/check/ops/slow-batch");
    await eventually(async () => (await p.locator("#run").innerText()) === "Running…" && (await p.locator("#run").isDisabled()), 15000, "a disabled button");
    // Sonde has no API token yet; a server that answers 401 gets one from the dialog.
    const auth = [];
    await p.route("**/api/run?*", (route) => {
      auth.push(route.request().headers().authorization ?? "");
      return auth.length === 1 ? route.fulfill({ status: 401, body: "token required\n" }) : route.fulfill({ status: 202, body: "run started\n" });
    });
    await p.goto(sonde.url + "/ui/check/shop/login-works");
    await eventually(() => p.locator("#run").isEnabled(), 15000, "an enabled button");
    await p.locator("#run").click();
    await p.getByRole("textbox", { name: "API token" }).fill("s3cret");
    await p.getByRole("button", { name: "Use token" }).click();
    await eventually(async () => (await p.locator("#run-msg").innerText()) === "Run started.", 10000, "the retried run");
    assert.deepEqual(auth, ["", "Bearer s3cret"]);
    await p.context().close();
  });

  it("shows times in the viewer's time zone with UTC on hover", async () => {
    const p = await page({ timezoneId: "Asia/Tokyo" });
    await p.goto(sonde.url + "/ui/check/shop/cart-api");
    const t = p.locator("#c-spec time").first();
    await t.waitFor();
    const [iso, text, title] = [await t.getAttribute("datetime"), await t.innerText(), await t.getAttribute("title")];
    const tokyo = new Intl.DateTimeFormat("en-US", { timeZone: "Asia/Tokyo", hour: "numeric", hour12: true }).format(new Date(iso));
    assert.ok(text.includes(tokyo.split(" ")[0]), `${text} is Tokyo time (${tokyo})`);
    assert.match(title, /UTC$/);
    assert.match(await p.locator("#tz").innerText(), /Asia\/Tokyo/);
    await p.context().close();
  });

  it("filters by namespace and searches", async () => {
    const p = await page();
    await p.goto(sonde.url + "/ui");
    await p.locator("#rows > [data-key]").first().waitFor();
    await p.getByLabel("Namespace").selectOption("db");
    await eventually(async () => (await p.locator("#rows > [data-key]").count()) === 2, 5000, "two db checks");
    assert.deepEqual((await p.locator("#rows > [data-key]").evaluateAll((rs) => rs.map((r) => r.dataset.key))).sort(), ["db/backup-fresh", "db/replica-lag"]);
    await p.getByLabel("Namespace").selectOption("");
    await p.getByLabel("Search").fill("login");
    await eventually(async () => (await p.locator("#rows > [data-key]").count()) === 1, 5000, "one match");
    assert.equal(await p.locator("#rows > [data-key]").first().getAttribute("data-key"), "shop/login-works");
    await p.getByLabel("Search").fill("cannot connect");  // errors are searched too
    await eventually(async () => (await p.locator("#rows > [data-key]").first().getAttribute("data-key")) === "db/backup-fresh", 5000, "error search");
    await p.getByLabel("Search").fill("no-such-thing");
    await eventually(() => p.getByText("No check matches these filters.").isVisible(), 5000, "the empty state");
    await p.context().close();
  });

  it("works at 390 px, in light and dark, passes axe, and saves screenshots", async () => {
    for (const colorScheme of ["light", "dark"]) {
      for (const [label, viewport] of [["desktop", DESKTOP], ["phone", PHONE]]) {
        const p = await page({ viewport, colorScheme, bypassCSP: true });  // CSP would block axe's injected script
        await p.goto(sonde.url + "/ui");
        await eventually(async () => (await p.locator("#rows > .state-ok").count()) >= 2, 30000, "rows");
        if (label === "phone") {
          const overflow = await p.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
          assert.ok(overflow <= 0, `overview scrolls sideways by ${overflow}px at 390px`);
          assert.ok(await row(p, "db/backup-fresh").locator(".c-bar svg").isVisible());
        }
        await axeScan(p, `overview ${label} ${colorScheme}`);
        await p.screenshot({ path: join(SHOTS, `overview-${label}-${colorScheme}.png`), fullPage: label === "phone" });
        await p.goto(sonde.url + "/ui/check/db/replica-lag");
        await eventually(async () => (await p.locator("table.events tbody tr").count()) >= 1, 30000, "events");
        if (label === "phone") {
          const overflow = await p.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
          assert.ok(overflow <= 0, `check page scrolls sideways by ${overflow}px at 390px`);
        }
        await axeScan(p, `check page ${label} ${colorScheme}`);
        await p.screenshot({ path: join(SHOTS, `check-${label}-${colorScheme}.png`), fullPage: true });
        await p.context().close();
      }
    }
  });

  it("does not shift its layout while loading and refreshing", async () => {
    const p = await page();
    await p.goto(sonde.url + "/ui");
    await p.locator("#rows > [data-key]").first().waitFor();
    // Buffered entries cover the load; then 6 s of polls while checks report every second.
    const cls = await p.evaluate(() => new Promise((resolve) => {
      let total = 0;
      new PerformanceObserver((list) => {
        for (const e of list.getEntries()) if (!e.hadRecentInput) total += e.value;
      }).observe({ type: "layout-shift", buffered: true });
      setTimeout(() => resolve(total), 6000);
    }));
    assert.ok(cls < 0.02, `cumulative layout shift ${cls}`);
    await p.context().close();
  });

  it("says what to do when no checks are loaded", async () => {
    const empty = new Sonde(BIN);
    try {
      await empty.start();
      const p = await page();
      await p.goto(empty.url + "/ui");
      await p.getByRole("heading", { name: "No checks loaded yet" }).waitFor();
      assert.match(await p.locator("#empty").innerText(), /--checks/);
      await p.context().close();
    } finally {
      await empty.stop();
    }
  });

  it("says so when the daemon is unreachable, keeping the last data", async () => {
    const p = await page();
    await p.goto(sonde.url + "/ui");
    await p.locator("#rows > [data-key]").first().waitFor();
    await p.route("**/api/dashboard*", (route) => route.abort("connectionrefused"));
    await eventually(() => p.locator("#banner").isVisible(), 10000, "the banner");
    assert.match(await p.locator("#banner").innerText(), /cannot be reached/);
    assert.ok((await p.locator("#rows > [data-key]").count()) === 5, "the last data stays");
    await p.unroute("**/api/dashboard*");
    await eventually(async () => !(await p.locator("#banner").isVisible()), 10000, "the banner to go");
    await p.context().close();
  });
});
