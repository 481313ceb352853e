#include "cli/serve.hpp"

#include <malloc.h>
#include <spdlog/spdlog.h>
#include <unistd.h>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/steady_timer.hpp>
#include <csignal>
#include <filesystem>
#include <fstream>
#include <optional>
#include <thread>

#include "cli/check_files.hpp"
#include "cli/serve_internal.hpp"
#include "config/check_loader.hpp"
#include "core/clock.hpp"
#include "engine/engine.hpp"
#include "engine/http_api.hpp"
#include "metrics/registry.hpp"
#include "runner/local_process_runner.hpp"
#include "server/http_server.hpp"
#include "sonde_version.hpp"
#include "store/sqlite_store.hpp"

namespace sonde {

namespace asio = boost::asio;

std::string HostName() {
  char buf[256] = {};
  if (gethostname(buf, sizeof(buf) - 1) != 0) return "sonde";
  return buf;
}

// The address checkers use to reach us: a wildcard listen address is reached via loopback.
std::string ReportingBase(const ServeSettings& s, const std::string& host, uint16_t port) {
  if (!s.reporting_url.empty()) {
    std::string url = s.reporting_url;
    while (!url.empty() && url.back() == '/') url.pop_back();
    return url;
  }
  std::string h = host;
  if (h == "0.0.0.0" || h.empty()) h = "127.0.0.1";
  if (h == "::") h = "::1";
  if (h.find(':') != std::string::npos) h = "[" + h + "]";
  return "http://" + h + ":" + std::to_string(port);
}

Status WriteReadyFile(const std::string& path, const std::string& url) {
  const std::string tmp = path + ".tmp";
  {
    std::ofstream out(tmp);
    out << url << "\n";
    if (!out) return Status::Error("cannot write " + tmp);
  }
  std::error_code ec;
  std::filesystem::rename(tmp, path, ec);
  if (ec) return Status::Error("cannot rename " + tmp + ": " + ec.message());
  return Status::Ok();
}

namespace {

// glibc's own ceiling for its dynamic mmap threshold (DEFAULT_MMAP_THRESHOLD_MAX on 64-bit).
constexpr int kServingMmapThreshold = 32 * 1024 * 1024;

// The thread in-process probes do their network I/O on (EngineOptions::probe_executor), so
// that their socket work does not delay the loop that starts runs. Stop (or destruction) joins
// it and abandons probes still in flight, whose results would have nowhere to go.
class ProbeIoThread {
 public:
  ProbeIoThread() : thread_([this] { io_.run(); }) {}
  ~ProbeIoThread() { Stop(); }
  ProbeIoThread(const ProbeIoThread&) = delete;
  ProbeIoThread& operator=(const ProbeIoThread&) = delete;
  asio::any_io_executor executor() { return io_.get_executor(); }
  void Stop() {
    if (!thread_.joinable()) return;
    work_.reset();
    io_.stop();
    thread_.join();
  }

 private:
  asio::io_context io_{1};
  asio::executor_work_guard<asio::io_context::executor_type> work_ = asio::make_work_guard(io_);
  std::thread thread_;
};

// Owns the concrete pieces for one daemon lifetime: everything but probes' network I/O
// (ProbeIoThread) on one io_context thread.
class Daemon {
 public:
  explicit Daemon(const ServeSettings& s)
      : settings_(s),
        runner_(io_.get_executor(), RunnerOptions(s)),
        reload_timer_(io_),
        drain_timer_(io_),
        signals_(io_, SIGTERM, SIGINT, SIGHUP) {}

  int Run() {
    auto store = SqliteStore::Open(settings_.state_dir, SqliteOptions{});
    if (!store.ok()) return Fail(store.error());
    store_ = std::move(store.value());
    // The engine reads every state at construction; fail here, with the reason, if it can't.
    if (auto states = store_->TryLoadStates(); !states.ok()) return Fail(states.error());
    auto address = ParseListenAddress(settings_.listen);
    if (!address.ok()) return Fail("--listen: " + address.error());
    HttpServerOptions http;
    http.host = address.value().first;
    http.port = address.value().second;
    http.max_body_bytes = settings_.max_report_bytes;
    server_ = std::make_unique<HttpServer>(io_.get_executor(), http,
                                           [this](HttpRequest r) -> asio::awaitable<HttpResponse> {
                                             co_return co_await api_->Handle(std::move(r));
                                           });
    if (auto st = server_->Start(); !st.ok()) return Fail(st.message());
    const std::string base = ReportingBase(settings_, http.host, server_->port());
    MakeEngine(base);
    Reload("start-up");
    ScheduleReloadPoll();
    WaitForSignal();
    spdlog::info("serving http://{}:{}/ (status page); checkers report to {}", http.host,
                 server_->port(), base);
    if (!settings_.ready_file.empty()) {
      if (auto st = WriteReadyFile(settings_.ready_file, base); !st.ok()) return Fail(st.message());
    }
    io_.run();
    probe_io_.reset();  // before the engine and the loop its results are posted to
    spdlog::info("stopped");
    return 0;
  }

 private:
  static LocalRunnerOptions RunnerOptions(const ServeSettings& s) {
    LocalRunnerOptions o;
    o.kill_grace = s.kill_grace_period;
    return o;
  }

  int Fail(const std::string& why) {
    spdlog::error("cannot start: {}", why);
    return 1;
  }

  void MakeEngine(const std::string& base) {
    EngineOptions o;
    o.instance_name = settings_.instance_name.empty() ? HostName() : settings_.instance_name;
    o.node_name = HostName();
    o.reporting_base_url = base;
    o.max_concurrent_runs = settings_.max_concurrent_runs;
    o.metadata = settings_.state_metadata;
    o.probe_executor = probe_io_.emplace().executor();
    o.release_memory = [] {
      malloc_trim(0);
      // Loaded: from now on the big blocks are answers (a 23 MiB /metrics at 10 000 checks)
      // freed right after they are sent. Kept in fresh mappings each time, every answer paid
      // its size in page faults (/, /json and /metrics took 30-120 % longer), so they go back
      // to the heap, and its top is kept rather than trimmed after each answer.
      mallopt(M_MMAP_THRESHOLD, kServingMmapThreshold);
      mallopt(M_TRIM_THRESHOLD, 2 * kServingMmapThreshold);
    };
    engine_ = std::make_unique<Engine>(io_.get_executor(), clock_, runner_, *store_, o, &metrics_);
    api_ = std::make_unique<HttpApi>(*engine_, runner_, *store_, metrics_, settings_.metrics);
  }

  void Reload(const char* why) {
    fingerprint_ = CheckFilesFingerprint(settings_.checks);
    LoadResult loaded = LoadChecks(settings_.checks, LocalLoadOptions(probes_));
    std::vector<std::string> errors;
    for (const auto& e : loaded.errors) {
      spdlog::error("{}", e.ToString());
      errors.push_back(e.ToString());
    }
    spdlog::info("loaded {} checks ({}), {} problems", loaded.checks.size(), why, errors.size());
    engine_->ApplyChecks(std::move(loaded.checks), std::move(errors));
  }

  void ScheduleReloadPoll() {
    reload_timer_.expires_after(settings_.reload_interval);
    reload_timer_.async_wait([this](boost::system::error_code ec) {
      if (ec || stopping_) return;
      if (CheckFilesFingerprint(settings_.checks) != fingerprint_) Reload("files changed");
      ScheduleReloadPoll();
    });
  }

  void WaitForSignal() {
    signals_.async_wait([this](boost::system::error_code ec, int sig) {
      if (ec) return;
      if (sig == SIGHUP) {
        if (!stopping_) Reload("SIGHUP");
      } else if (!stopping_) {
        BeginShutdown(sig);
      } else {
        spdlog::warn("second signal: stopping now");
        Finish();
        return;
      }
      WaitForSignal();
    });
  }

  // Stop starting runs; let runs in flight report within shutdown_timeout; then kill.
  void BeginShutdown(int sig) {
    stopping_ = true;
    spdlog::info("{} received: finishing {} runs in flight (at most {})", strsignal(sig),
                 engine_->ActiveRuns(), FormatGoDuration(settings_.shutdown_timeout));
    reload_timer_.cancel();
    engine_->StopScheduling();
    drain_deadline_ = std::chrono::steady_clock::now() + settings_.shutdown_timeout;
    Drain();
  }

  void Drain() {
    if (engine_->ActiveRuns() == 0) return Finish();
    if (std::chrono::steady_clock::now() >= drain_deadline_) engine_->InterruptAll();
    if (std::chrono::steady_clock::now() >= drain_deadline_ + settings_.kill_grace_period) {
      return Finish();
    }
    drain_timer_.expires_after(std::chrono::milliseconds(50));
    drain_timer_.async_wait([this](boost::system::error_code ec) {
      if (!ec) Drain();
    });
  }

  void Finish() {
    runner_.KillAll();
    server_->Stop();
    signals_.cancel();
    reload_timer_.cancel();
    drain_timer_.cancel();
    engine_->StopScheduling();
    io_.stop();
  }

  const ServeSettings& settings_;
  asio::io_context io_{1};
  SystemClock clock_;
  std::unique_ptr<SqliteStore> store_;
  SondeMetrics metrics_{SONDE_VERSION};
  const ProbeRegistry probes_ = BuiltinProbes();
  LocalProcessRunner runner_;
  std::unique_ptr<Engine> engine_;
  std::unique_ptr<HttpApi> api_;
  std::unique_ptr<HttpServer> server_;
  asio::steady_timer reload_timer_;
  asio::steady_timer drain_timer_;
  asio::signal_set signals_;
  std::string fingerprint_;
  bool stopping_ = false;
  std::chrono::steady_clock::time_point drain_deadline_;
  // Declared last: destroyed (joined) before the engine and the loop its results go to.
  std::optional<ProbeIoThread> probe_io_;
};

}  // namespace

int RunDaemon(const ServeSettings& settings) {
  std::signal(SIGPIPE, SIG_IGN);  // a checker or client closing early is a value, not a crash
  // glibc raises its mmap threshold (up to 32 MiB) each time a large block is freed, and its
  // trim threshold to twice that; loading many checks frees several such blocks (the file's
  // text, vectors of specs), after which big temporaries land in the heap among long-lived
  // entries and their space is never given back. A fixed threshold keeps them in their own
  // mappings, returned when freed (docs/performance.md, scenario 6).
  // Operator mode loads its checks from watches, with no such moment of release: glibc's
  // defaults there.
  if (settings.kube.enabled) return RunKubeDaemon(settings);
  mallopt(M_MMAP_THRESHOLD, 128 * 1024);
  Daemon daemon(settings);
  return daemon.Run();
}

}  // namespace sonde
