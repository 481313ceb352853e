// Sonde's dashboard: a small single-page app with two views, routed on the path:
//   /, /ui                     the overview
//   /ui/check/{ns}/{name}      one check
// Live updates by polling every 2 s with ETags (see docs/dashboard.md for why not SSE).
import { Dashboard, Poller } from "./api";
import { CheckPage } from "./check";
import { Overview, readPrefs } from "./overview";

const POLL_MS = 2000;

interface View {
  poll(): Promise<void>;
}

class OverviewView implements View {
  private poller: Poller<Dashboard>;
  private overview: Overview;
  constructor(root: HTMLElement) {
    const prefs = readPrefs();
    this.poller = new Poller<Dashboard>(`/api/dashboard?window=${encodeURIComponent(prefs.window)}`);
    this.overview = new Overview(root, prefs, (w) => {
      this.poller = new Poller<Dashboard>(`/api/dashboard?window=${encodeURIComponent(w)}`);
      void app.pollNow();
    });
    document.title = "Checks · Sonde";
  }
  async poll(): Promise<void> {
    const { changed, data } = await this.poller.get();
    if (changed) this.overview.setData(data);
    else this.overview.render();
  }
}

class App {
  private view: View | null = null;
  private timer = 0;
  private generation = 0;
  private main = document.querySelector<HTMLElement>("#main")!;
  private banner = document.querySelector<HTMLElement>("#banner")!;

  start(): void {
    const tz = Intl.DateTimeFormat().resolvedOptions().timeZone;
    document.querySelector("#tz")!.textContent = tz === "UTC" || tz === "Etc/UTC" ? "Times in UTC" : `Times in ${tz}; hover a time for UTC`;
    document.addEventListener("click", (e) => this.onClick(e));
    window.addEventListener("popstate", () => this.route(false));
    this.route(false);
  }

  private onClick(e: MouseEvent): void {
    const a = (e.target as Element).closest?.("a[data-link]") as HTMLAnchorElement | null;
    if (!a || e.defaultPrevented || e.button !== 0 || e.metaKey || e.ctrlKey || e.shiftKey || e.altKey) return;
    e.preventDefault();
    history.pushState(null, "", a.getAttribute("href")!);
    this.route(true);
  }

  private route(focus: boolean): void {
    const parts = location.pathname.split("/").filter(Boolean).map(decodeURIComponent);
    if (parts[0] === "ui" && parts[1] === "check" && parts.length === 4) {
      this.view = new CheckPage(this.main, parts[2], parts[3]);
    } else {
      this.view = new OverviewView(this.main);
    }
    if (focus) this.main.querySelector<HTMLElement>("h1")?.focus();
    void this.pollNow();
  }

  // Polls the current view now, then every POLL_MS. A later call (a new view, a new window)
  // takes over: an earlier poll still in flight schedules nothing after it.
  async pollNow(): Promise<void> {
    clearTimeout(this.timer);
    const gen = ++this.generation;
    const view = this.view;
    try {
      await view?.poll();
      this.showBanner("");
    } catch (e) {
      this.showBanner(
        e instanceof TypeError
          ? `The Sonde daemon at ${location.host} cannot be reached. Is \`sonde serve\` still running? Retrying every ${POLL_MS / 1000} s; the page shows the last data it had.`
          : `The daemon answered with an error: ${(e as Error).message}. Retrying every ${POLL_MS / 1000} s.`,
      );
    }
    if (gen === this.generation) this.timer = window.setTimeout(() => void this.pollNow(), POLL_MS);
  }

  private showBanner(text: string): void {
    if (this.banner.textContent !== text) this.banner.textContent = text;
    this.banner.hidden = !text;
  }
}

const app = new App();
app.start();
