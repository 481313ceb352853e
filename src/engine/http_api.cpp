#include "engine/http_api.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/async_result.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>

#include "contract/report.hpp"
#include "server/http_forward.hpp"
#include "ui/negotiation.hpp"

namespace sonde {
namespace {

namespace asio = boost::asio;

}  // namespace

bool IsRead(const HttpRequest& request) {
  return request.method == "GET" || request.method == "HEAD";
}

HttpResponse MethodNotAllowed(const HttpRequest& request, const char* allowed) {
  HttpResponse r = HttpResponse::Text(
      405, "method " + request.method + " not allowed on " + request.path + "; use " + allowed);
  r.headers.emplace_back("Allow", allowed);
  return r;
}

Result<CheckKey> CheckParam(const HttpRequest& request) {
  auto ns = request.Query("namespace");
  auto name = request.Query("healthcheck");
  if (!ns || ns->empty() || !name || name->empty()) {
    return Result<CheckKey>::Error(
        "missing query parameters: both namespace and healthcheck are required, e.g. "
        "?namespace=default&healthcheck=my-check");
  }
  return CheckKey{*ns, *name};
}

// The route label of a path for sonde_http_requests_total: known endpoints only, so a
// client probing random paths cannot grow the metric without bound.
std::string_view RouteOf(std::string_view path) {
  if (auto ui_route = ui::UiRoutes::RouteOf(path)) return *ui_route;
  static constexpr std::string_view kRoutes[] = {
      "/",           "/json",       "/metrics",          "/healthz",    "/api/run",
      "/api/logs",   "/api/checks", "/api/history",      "/api/events", "/api/uptime",
      kReportPathV2, kReportPathV3, kRotateHeartbeatPath};
  for (std::string_view r : kRoutes) {
    if (r == path) return r;
  }
  if (path.rfind(kHeartbeatPrefix, 0) == 0) return "/heartbeat";  // never the token
  return "other";
}

// Requests only the leader's engine can answer: it runs the checks.
static bool LeaderOnly(const HttpRequest& request) {
  return request.path == kReportPathV2 || request.path == kReportPathV3 ||
         request.path == "/api/run" || request.path == kRotateHeartbeatPath ||
         request.path.rfind(kHeartbeatPrefix, 0) == 0;
}

asio::awaitable<std::string> HttpApi::RunUuidOf(const HttpRequest& request) const {
  std::string uuid = request.Header(kRunUuidHeader);
  if (uuid.empty()) uuid = request.Query(kRunUuidQuery).value_or("");
  if (!uuid.empty() || !run_by_pod_ip_) co_return uuid;
  // The pod's address can reach the watch cache a moment after its checker's report.
  const auto deadline = std::chrono::steady_clock::now() + kPodIpWait;
  for (;;) {
    uuid = run_by_pod_ip_(request.remote_address);
    if (!uuid.empty() || std::chrono::steady_clock::now() >= deadline) co_return uuid;
    asio::steady_timer timer(co_await asio::this_coro::executor, std::chrono::milliseconds(100));
    co_await timer.async_wait(asio::as_tuple(asio::use_awaitable));
  }
}

asio::awaitable<HttpResponse> HttpApi::ToLeader(const HttpRequest& request) {
  const std::string leader = leader_url_();
  if (leader.empty()) {
    co_return HttpResponse::Text(503, "no leader is elected yet; retry shortly");
  }
  HttpRequest forwarded = request;
  const bool report = request.path == kReportPathV2 || request.path == kReportPathV3;
  if (report && request.Header(kRunUuidHeader).empty()) {
    // The leader sees this replica's address, not the checker's: name the run here.
    const std::string uuid = co_await RunUuidOf(request);
    if (!uuid.empty()) forwarded.headers[std::string(kRunUuidHeader)] = uuid;
  }
  auto answer = co_await ForwardRequest(leader, forwarded, kForwardTimeout);
  if (!answer.ok()) {
    co_return HttpResponse::Text(
        503, "this replica does not lead, and the leader did not answer: " + answer.error());
  }
  co_return std::move(answer).value();
}

asio::awaitable<HttpResponse> HttpApi::Handle(HttpRequest request) {
  HttpResponse response;
  if (leader_url_ && !engine_.leading() && LeaderOnly(request)) {
    response = co_await ToLeader(request);
  } else if (request.path == kReportPathV2 || request.path == kReportPathV3) {
    response = co_await Report(request);
    // A stable reason category for 400s; other statuses speak for themselves.
    std::string_view reason;
    if (response.status == 400) {
      reason = response.body.rfind("missing run id", 0) == 0                      ? "missing_run_id"
               : response.body.find("is invalid or expired") != std::string::npos ? "unknown_run"
                                                                                  : "malformed";
    }
    metrics_.ReportAnswered(response.status, reason);
  } else if (request.path.rfind(kHeartbeatPrefix, 0) == 0) {
    response = co_await Heartbeat(request);
  } else if (request.path == kRotateHeartbeatPath) {
    response = co_await RotateHeartbeat(request);
  } else {
    response = HandleNow(request);
    const auto executor = co_await asio::this_coro::executor;
    if (request.path == "/metrics") {
      ClearWhenIdle(metrics_cache_timer_, executor,
                    [caches = std::weak_ptr<MetricsCaches>(metrics_caches_)] {
                      if (auto alive = caches.lock()) {
                        alive->text.Clear();
                        alive->openmetrics.Clear();
                        alive->uptime = {};
                        alive->snap = {};
                      }
                    });
    } else if (request.path == "/" || request.path == "/json") {
      const bool v3 = request.path == "/json";
      ClearWhenIdle(v3 ? v3_cache_timer_ : v2_cache_timer_, executor,
                    [caches = std::weak_ptr<StatusCaches>(status_caches_), v3] {
                      if (auto alive = caches.lock()) (v3 ? alive->v3 : alive->v2).Clear();
                    });
    }
  }
  metrics_.HttpAnswered(RouteOf(request.path), response.status);
  co_return response;
}

HttpResponse HttpApi::HandleNow(const HttpRequest& request) {
  const std::string& p = request.path;
  // Browsers asking for "/" get the dashboard; every other client the v2 JSON as before.
  if (p == "/" && IsRead(request) && ui::PrefersHtml(request.Header("accept"))) {
    return ui_.Page(request);
  }
  if (p == "/") return StatusPage(request, false);
  if (p == "/json") return StatusPage(request, true);
  if (p == "/api/run") return RunNow(request);
  if (p == "/api/logs") return Logs(request);
  if (p == "/healthz") return Healthz();
  if (p == "/metrics") return Metrics(request);
  if (p == "/api/checks") return Checks(request);
  if (p == "/api/history") return History(request);
  if (p == "/api/events") return Events(request);
  if (p == "/api/uptime") return Uptime(request);
  if (auto r = ui_.Handle(
          request, [this] { return engine_.Snapshot(); }, engine_.Now())) {
    return *std::move(r);
  }
  if (p == kReportPathV2 || p == kReportPathV3) {
    return HttpResponse::Text(500, "report paths are asynchronous; use Handle");
  }
  return HttpResponse::Text(404, "no such endpoint: " + p);
}

HttpResponse HttpApi::StatusPage(const HttpRequest& request, bool v3) {
  if (!request.body.empty()) {
    return HttpResponse::Text(400,
                              "the status page takes no request body; checkers report to "
                              "KH_REPORTING_URL (/externalCheckStatus or /check)");
  }
  if (!IsRead(request)) return MethodNotAllowed(request, "GET");
  const auto namespaces = ParseNamespaceFilter(request.Query("namespace").value_or(""));
  // v2 shows no next run; neither page shows heartbeat URLs.
  const StatusSnapshot snap = engine_.Snapshot(/*with_schedule=*/v3, /*with_urls=*/false);
  HttpResponse r;
  r.content_type = "application/json; charset=utf-8";
  std::shared_ptr<const std::string> body =
      (v3 ? status_caches_->v3 : status_caches_->v2).Render(snap, namespaces);
  const std::string_view text = *body;
  r.body_parts.push_back({std::move(body), text});
  if (!v3) r.headers.emplace_back("Vary", "Accept");  // "/" also serves the dashboard
  return r;
}

asio::awaitable<HttpResponse> HttpApi::Report(const HttpRequest& request) {
  if (request.method != "POST") co_return MethodNotAllowed(request, "POST");
  const std::string type = request.Header("content-type");
  if (!type.empty() && type.rfind("application/json", 0) != 0) {
    co_return HttpResponse::Text(
        415, "content type " + type + " is not supported; send application/json");
  }
  const std::string uuid = co_await RunUuidOf(request);
  if (uuid.empty()) {
    co_return HttpResponse::Text(400,
                                 "missing run id: send the kh-run-uuid header or post to "
                                 "KH_REPORTING_URL exactly as given");
  }
  // The answer waits for the store's commit: a 200 means the report is durable.
  const auto executor = co_await asio::this_coro::executor;
  const ReportVerdict verdict =
      co_await asio::async_initiate<const asio::use_awaitable_t<>&, void(ReportVerdict)>(
          [&](auto handler) {
            auto shared = std::make_shared<decltype(handler)>(std::move(handler));
            engine_.HandleReport(uuid, request.body, [executor, shared](ReportVerdict v) {
              asio::post(executor, [shared, v] { (*shared)(v); });
            });
          },
          asio::use_awaitable);
  co_return HttpResponse::Text(verdict.http_status, verdict.reason);
}

HttpResponse HttpApi::RunNow(const HttpRequest& request) {
  if (request.method != "POST") return MethodNotAllowed(request, "POST");
  auto key = CheckParam(request);
  if (!key.ok()) return HttpResponse::Text(400, key.error());
  switch (engine_.RunNow(key.value())) {
    case RunNowResult::kStarted:
      return HttpResponse::Text(202, "run of " + key.value().str() + " started");
    case RunNowResult::kUnknown:
      return HttpResponse::Text(404, "no check " + key.value().str());
    case RunNowResult::kHeartbeat:
      return HttpResponse::Text(409, "check " + key.value().str() +
                                         " is a heartbeat check: it runs when its job reports");
    case RunNowResult::kAlreadyRunning:
      break;
  }
  return HttpResponse::Text(409, "check " + key.value().str() + " is already running");
}

HttpResponse HttpApi::Logs(const HttpRequest& request) {
  if (!IsRead(request)) return MethodNotAllowed(request, "GET");
  auto key = CheckParam(request);
  if (!key.ok()) return HttpResponse::Text(400, key.error());
  if (!engine_.Knows(key.value())) return HttpResponse::Text(404, "no check " + key.value().str());
  HttpResponse r;
  r.content_type = "text/plain; charset=utf-8";
  for (const RunLogs& logs : runner_.Logs(key.value())) {
    r.body += "=== run " + logs.run_uuid + " started " + FormatRfc3339Nano(logs.started) +
              (logs.truncated ? " (older output dropped)" : "") + " ===\n";
    r.body += logs.output;
    if (!logs.output.empty() && logs.output.back() != '\n') r.body += '\n';
  }
  return r;
}

HttpResponse HttpApi::Metrics(const HttpRequest& request) {
  if (!IsRead(request)) return MethodNotAllowed(request, "GET");
  StatusSnapshot& snap = metrics_caches_->snap;
  engine_.RefreshSnapshot(snap);
  const TimePoint now = engine_.Now();
  UpdateUptime(snap, now);
  const ExpositionFormat format = ChooseFormat(request.Header("accept"));
  HttpResponse r;
  r.content_type = ContentTypeOf(format);
  // Tens of megabytes at 10 000 checks, most of it the cache's kept text: sent as it is.
  for (auto& part : metrics_caches_->For(format).RenderParts(
           snap, metrics_, format, now, metrics_caches_->uptime,
           extra_metrics_ ? extra_metrics_() : std::vector<Family>{})) {
    r.body_parts.push_back({std::move(part.owner), part.text});
  }
  return r;
}

void HttpApi::UpdateUptime(const StatusSnapshot& snap, TimePoint now) {
  UptimeByCheck& uptime = metrics_caches_->uptime;
  // The snapshot is in key order, as the map: one walk keeps, adds and drops entries, and an
  // entry is rebuilt only when the uptime cache computed it again or its downtime flag moved.
  auto it = uptime.begin();
  for (const CheckView& c : snap.checks) {
    const CheckKey& key = c.spec->key;
    while (it != uptime.end() && it->first < key) it = uptime.erase(it);
    if (it == uptime.end() || !(it->first == key)) it = uptime.emplace_hint(it, key, CheckUptime{});
    const auto [ratios, computed] = uptime_.GetVersioned(key, now, c.state.last_run);
    // The store opens a downtime event at a failed run and closes it at the next OK one, so an
    // event is open exactly when the committed state is a failure: no query per check needed.
    const bool open = c.state.HasResult() && !c.state.ok;
    const uint64_t version = computed * 2 + (open ? 1 : 0);
    CheckUptime& u = it->second;
    if (u.version != version) {
      u.ratio_by_window.clear();
      for (size_t i = 0; i < ratios.size(); ++i) {
        if (ratios[i]) u.ratio_by_window[kUptimeWindows[i].name] = *ratios[i];
      }
      u.open_downtime = open;
      u.version = version;
    }
    ++it;
  }
  uptime.erase(it, uptime.end());
  uptime_.Retain(uptime);
}

void HttpApi::ClearWhenIdle(std::optional<asio::steady_timer>& timer,
                            const asio::any_io_executor& executor, std::function<void()> clear) {
  if (!timer) timer.emplace(executor);
  // Re-arming cancels the previous wait: the cache goes kCacheIdle after the last read.
  timer->expires_after(kCacheIdle);
  timer->async_wait([clear = std::move(clear)](const boost::system::error_code& ec) {
    if (!ec) clear();
  });
}

HttpResponse HttpApi::Healthz() {
  if (engine_.Healthy()) return HttpResponse::Text(200, "ok");
  return HttpResponse::Text(503, "scheduler stalled: due checks are not being started");
}

}  // namespace sonde
