// The daemon's HTTP surface: the Kuberhealthy endpoints (status pages, report paths,
// /api/run, /api/logs, /healthz) and Sonde's history API (/api/checks, /api/history,
// /api/events, /api/uptime), mapped onto the engine and the store; the web dashboard's routes
// (src/ui: /ui, /api/dashboard, /api/badge, and "/" for browsers). The server does the I/O.
// Runs on the engine's executor; not thread-safe.
#pragma once

#include <boost/asio/awaitable.hpp>
#include <boost/asio/steady_timer.hpp>
#include <functional>
#include <memory>
#include <optional>

#include "contract/json_writer.hpp"
#include "contract/status_page_cache.hpp"
#include "engine/engine.hpp"
#include "engine/uptime_cache.hpp"
#include "metrics/exposition.hpp"
#include "metrics/metrics_cache.hpp"
#include "metrics/registry.hpp"
#include "runner/runner.hpp"
#include "server/http_types.hpp"
#include "store/store.hpp"
#include "ui/ui_routes.hpp"

namespace sonde {

class HttpApi {
 public:
  // Borrows engine, runner, store and metrics; they must outlive this object.
  HttpApi(Engine& engine, const Runner& runner, Store& store, SondeMetrics& metrics,
          MetricsOptions metrics_options = {})
      : engine_(engine),
        runner_(runner),
        store_(store),
        metrics_(metrics),
        metrics_options_(std::move(metrics_options)),
        metrics_caches_(std::make_shared<MetricsCaches>(
            MetricsCaches{MetricsCache(metrics_options_), MetricsCache(metrics_options_), {}, {}})),
        uptime_(store, kUptimeMaxAge),
        ui_(store) {}

  boost::asio::awaitable<HttpResponse> Handle(HttpRequest request);
  // Operator mode: while the engine does not lead, reports, heartbeats and /api/run go to the
  // leader at the base URL this returns ("" while none is known: 503, retry).
  void ForwardToLeader(std::function<std::string()> leader_url) {
    leader_url_ = std::move(leader_url);
  }
  // Operator mode: the run of a report that names none (Kuberhealthy v2 clients that send
  // neither the kh-run-uuid header nor the URL's query), found by the checker pod's IP; ""
  // when no running checker pod has that address.
  void FindRunByPodIp(std::function<std::string(const std::string& ip)> lookup) {
    run_by_pod_ip_ = std::move(lookup);
  }
  // Families /metrics adds after Sonde's own (the operator's: API client, reaper, events).
  void AddMetrics(std::function<std::vector<Family>()> collect) {
    extra_metrics_ = std::move(collect);
  }
  // Every endpoint but the report paths, which must wait for the store.
  HttpResponse HandleNow(const HttpRequest& request);

 private:
  boost::asio::awaitable<HttpResponse> Report(const HttpRequest& request);
  boost::asio::awaitable<HttpResponse> ToLeader(const HttpRequest& request);
  HttpResponse StatusPage(const HttpRequest& request, bool v3);
  HttpResponse RunNow(const HttpRequest& request);
  HttpResponse Logs(const HttpRequest& request);
  HttpResponse Healthz();
  HttpResponse Metrics(const HttpRequest& request);
  void UpdateUptime(const StatusSnapshot& snap, TimePoint now);
  // History API (http_api_history.cpp).
  HttpResponse Checks(const HttpRequest& request);
  HttpResponse History(const HttpRequest& request);
  HttpResponse Events(const HttpRequest& request);
  HttpResponse Uptime(const HttpRequest& request);
  // Heartbeat checks (http_api_heartbeat.cpp).
  boost::asio::awaitable<HttpResponse> Heartbeat(const HttpRequest& request);
  boost::asio::awaitable<HttpResponse> RotateHeartbeat(const HttpRequest& request);

  Engine& engine_;
  const Runner& runner_;
  Store& store_;
  SondeMetrics& metrics_;
  MetricsOptions metrics_options_;
  // /metrics keeps each check's rendered lines between scrapes (about 35 MB at 10 000 checks),
  // one cache per format (Prometheus asks for OpenMetrics, curl for text: one cache would render
  // everything again whenever they alternate); freed kCacheIdle after the last scrape.
  struct MetricsCaches {
    MetricsCache text;
    MetricsCache openmetrics;
    // Every check's uptime as the last scrape had it, updated in place (UpdateUptime).
    UptimeByCheck uptime;
    // The engine's checks as the last scrape had them, refreshed in place (RefreshSnapshot).
    StatusSnapshot snap;
    MetricsCache& For(ExpositionFormat f) {
      return f == ExpositionFormat::kOpenMetrics100 ? openmetrics : text;
    }
  };
  std::shared_ptr<MetricsCaches> metrics_caches_;  // shared with the idle timer's handler
  // "/" and "/json" keep each check's rendered member and the last body (StatusPageCache: about
  // 11 MB each at 10 000 checks), freed kCacheIdle after the last read of each.
  struct StatusCaches {
    StatusPageCache v2{/*v3=*/false};
    StatusPageCache v3{/*v3=*/true};
  };
  std::shared_ptr<StatusCaches> status_caches_ = std::make_shared<StatusCaches>();
  static constexpr Duration kCacheIdle = std::chrono::minutes(5);
  std::optional<boost::asio::steady_timer> metrics_cache_timer_;
  std::optional<boost::asio::steady_timer> v2_cache_timer_;
  std::optional<boost::asio::steady_timer> v3_cache_timer_;
  // (Re)arms `timer` to call `clear` kCacheIdle from now; `clear` must not use `this` (it may
  // run after this object is gone).
  static void ClearWhenIdle(std::optional<boost::asio::steady_timer>& timer,
                            const boost::asio::any_io_executor& executor,
                            std::function<void()> clear);
  // /metrics and /api/checks list every check's uptime; see UptimeCache for why it is reused.
  static constexpr Duration kUptimeMaxAge = std::chrono::seconds(30);
  UptimeCache uptime_;
  ui::UiRoutes ui_;  // the web dashboard (src/ui)
  std::function<std::string()> leader_url_;
  std::function<std::string(const std::string&)> run_by_pod_ip_;
  std::function<std::vector<Family>()> extra_metrics_;
  // The report's run: its header or query, else (operator mode) its pod's IP.
  boost::asio::awaitable<std::string> RunUuidOf(const HttpRequest& request) const;
  static constexpr Duration kPodIpWait = std::chrono::seconds(2);
  // A checker's report waits for the leader's durable commit, which takes milliseconds.
  static constexpr Duration kForwardTimeout = std::chrono::seconds(10);
};

// Shared by the handlers: 405 naming the allowed method, and the check named by the
// namespace + healthcheck query parameters (Kuberhealthy v3's API convention).
HttpResponse MethodNotAllowed(const HttpRequest& request, const char* allowed);
bool IsRead(const HttpRequest& request);  // GET or HEAD
Result<CheckKey> CheckParam(const HttpRequest& request);
// Heartbeat URLs: /heartbeat/TOKEN, /heartbeat/TOKEN/start, /heartbeat/TOKEN/fail.
inline constexpr std::string_view kHeartbeatPrefix = "/heartbeat/";
inline constexpr std::string_view kRotateHeartbeatPath = "/api/heartbeat/rotate";
// The `heartbeat` member of a check in /api/checks.
void WriteHeartbeat(JsonWriter& w, const CheckSpec& spec, const HeartbeatView& hb);

}  // namespace sonde
