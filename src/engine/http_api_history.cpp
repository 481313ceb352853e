// Sonde's history API: /api/checks, /api/history, /api/events, /api/uptime.
#include <charconv>

#include "contract/json_writer.hpp"
#include "engine/http_api.hpp"

namespace sonde {
namespace {

HttpResponse Json(const JsonWriter& w) {
  HttpResponse r;
  r.content_type = "application/json; charset=utf-8";
  r.body = w.str() + "\n";
  return r;
}

double Seconds(Duration d) { return std::chrono::duration<double>(d).count(); }

// A time parameter: RFC 3339 or unix seconds.
Result<std::optional<TimePoint>> TimeParam(const HttpRequest& req, const char* name) {
  const auto v = req.Query(name);
  if (!v || v->empty()) return std::optional<TimePoint>();
  int64_t secs = 0;
  const auto [p, ec] = std::from_chars(v->data(), v->data() + v->size(), secs);
  if (ec == std::errc() && p == v->data() + v->size()) {
    return std::optional<TimePoint>(FromUnixSeconds(secs));
  }
  auto t = ParseRfc3339(*v);
  if (!t.ok()) return Result<std::optional<TimePoint>>::Error(std::string(name) + ": " + t.error());
  return std::optional<TimePoint>(t.value());
}

Result<size_t> CountParam(const HttpRequest& req, const char* name, size_t fallback, size_t max) {
  const auto v = req.Query(name);
  if (!v || v->empty()) return fallback;
  size_t n = 0;
  const auto [p, ec] = std::from_chars(v->data(), v->data() + v->size(), n);
  if (ec != std::errc() || p != v->data() + v->size() || n > max) {
    return Result<size_t>::Error(std::string(name) + ": \"" + *v +
                                 "\" is not a whole number from 0 to " + std::to_string(max));
  }
  return n;
}

void WriteTime(JsonWriter& w, const char* key, const std::optional<TimePoint>& t) {
  w.Key(key);
  if (t) {
    w.String(FormatRfc3339Nano(*t));
  } else {
    w.Null();
  }
}

void WriteEvent(JsonWriter& w, const DowntimeEvent& e, TimePoint now) {
  w.BeginObject();
  w.Key("id");
  w.Int(e.id);
  w.Key("namespace");
  w.String(e.key.ns);
  w.Key("name");
  w.String(e.key.name);
  WriteTime(w, "start", e.start);
  WriteTime(w, "end", e.end);
  w.Key("open");
  w.Bool(!e.end);
  w.Key("durationSeconds");
  w.Double(Seconds(e.end.value_or(now) - e.start));
  w.Key("failedRuns");
  w.Int(e.failed_runs);
  w.Key("firstError");
  w.String(e.first_error);
  w.Key("lastError");
  w.String(e.last_error);
  w.EndObject();
}

void WriteUptime(JsonWriter& w, const char* window, const UptimeStats& u) {
  w.BeginObject();
  w.Key("window");
  w.String(window);
  w.Key("uptime");
  u.uptime ? w.Double(*u.uptime) : w.Null();
  w.Key("observedSeconds");
  w.Double(Seconds(u.observed));
  w.Key("runs");
  w.Int(u.runs);
  w.Key("meanDurationSeconds");
  u.mean_duration ? w.Double(Seconds(*u.mean_duration)) : w.Null();
  w.Key("p95DurationSeconds");
  u.p95_duration ? w.Double(Seconds(*u.p95_duration)) : w.Null();
  w.EndObject();
}

HttpResponse StoreError(const std::string& what) {
  return HttpResponse::Text(503, "store unavailable: " + what);
}

}  // namespace

HttpResponse HttpApi::Checks(const HttpRequest& request) {
  if (!IsRead(request)) return MethodNotAllowed(request, "GET");
  const StatusSnapshot snap = engine_.Snapshot();
  const TimePoint now = engine_.Now();
  JsonWriter w(true);
  w.BeginObject();
  w.Key("checks");
  w.BeginArray();
  for (const CheckView& c : snap.checks) {
    const CheckSpec& spec = *c.spec;
    const CheckState& s = c.state;
    w.BeginObject();
    w.Key("namespace");
    w.String(spec.key.ns);
    w.Key("name");
    w.String(spec.key.name);
    w.Key("kind");
    w.String(KindName(spec.kind));
    w.Key("state");
    w.String(StateName(c));
    w.Key("ok");
    w.Bool(s.ok);
    w.Key("errors");
    w.StringArray(s.errors);
    WriteTime(w, "lastRun", s.last_run);
    WriteTime(w, "nextRun", c.next_run);
    w.Key("runDuration");
    w.String(FormatGoDuration(s.run_duration));
    w.Key("runIntervalSeconds");
    w.Double(spec.IsJob() ? 0 : Seconds(spec.run_interval));
    w.Key("timeoutSeconds");
    w.Double(Seconds(spec.timeout));
    w.Key("successCount");
    w.Int(s.success_count);
    w.Key("failureCount");
    w.Int(s.failure_count);
    w.Key("consecutiveFailures");
    w.Int(s.consecutive_failures);
    w.Key("uptime");
    w.BeginObject();
    const UptimeCache::Ratios& ratios = uptime_.Get(spec.key, now, s.last_run);
    for (size_t i = 0; i < ratios.size(); ++i) {
      w.Key(kUptimeWindows[i].name);
      ratios[i] ? w.Double(*ratios[i]) : w.Null();
    }
    w.EndObject();
    w.Key("openEvent");
    auto open = store_.OpenEvent(spec.key);
    if (open.ok() && open.value()) {
      WriteEvent(w, *open.value(), now);
    } else {
      w.Null();
    }
    if (auto hb = engine_.Heartbeat(spec.key)) WriteHeartbeat(w, spec, *hb);
    w.EndObject();
  }
  w.EndArray();
  w.EndObject();
  return Json(w);
}

HttpResponse HttpApi::History(const HttpRequest& request) {
  if (!IsRead(request)) return MethodNotAllowed(request, "GET");
  auto key = CheckParam(request);
  if (!key.ok()) return HttpResponse::Text(400, key.error());
  auto since = TimeParam(request, "since");
  auto until = TimeParam(request, "until");
  auto limit = CountParam(request, "limit", 100, 1000);
  auto offset = CountParam(request, "offset", 0, 1'000'000'000);
  for (const std::string* err :
       {since.ok() ? nullptr : &since.error(), until.ok() ? nullptr : &until.error(),
        limit.ok() ? nullptr : &limit.error(), offset.ok() ? nullptr : &offset.error()}) {
    if (err) return HttpResponse::Text(400, *err);
  }
  HistoryQuery q{key.value(), since.value(), until.value(), limit.value(), offset.value()};
  auto runs = store_.History(q);
  if (!runs.ok()) return StoreError(runs.error());
  JsonWriter w(true);
  w.BeginObject();
  w.Key("runs");
  w.BeginArray();
  for (const RunRecord& r : runs.value()) {
    w.BeginObject();
    w.Key("runUuid");
    w.String(r.run_uuid);
    WriteTime(w, "started", r.started);
    WriteTime(w, "finished", r.finished);
    w.Key("durationSeconds");
    w.Double(Seconds(r.finished - r.started));
    w.Key("ok");
    w.Bool(r.ok);
    w.Key("errors");
    w.StringArray(r.errors);
    w.Key("endedBy");
    w.String(r.ended_by);
    w.Key("instance");
    w.String(r.instance);
    w.EndObject();
  }
  w.EndArray();
  w.Key("nextOffset");
  if (runs.value().size() == q.limit && q.limit > 0) {
    w.Int(static_cast<int64_t>(q.offset + q.limit));
  } else {
    w.Null();
  }
  w.EndObject();
  return Json(w);
}

HttpResponse HttpApi::Events(const HttpRequest& request) {
  if (!IsRead(request)) return MethodNotAllowed(request, "GET");
  std::optional<CheckKey> key;
  if (request.Query("namespace") || request.Query("healthcheck")) {
    auto k = CheckParam(request);
    if (!k.ok()) return HttpResponse::Text(400, k.error());
    key = k.value();
  }
  auto since = TimeParam(request, "since");
  if (!since.ok()) return HttpResponse::Text(400, since.error());
  auto limit = CountParam(request, "limit", 100, 1000);
  if (!limit.ok()) return HttpResponse::Text(400, limit.error());
  auto events = store_.Events(key, since.value(), limit.value());
  if (!events.ok()) return StoreError(events.error());
  const TimePoint now = engine_.Now();
  JsonWriter w(true);
  w.BeginObject();
  w.Key("events");
  w.BeginArray();
  for (const DowntimeEvent& e : events.value()) WriteEvent(w, e, now);
  w.EndArray();
  w.EndObject();
  return Json(w);
}

HttpResponse HttpApi::Uptime(const HttpRequest& request) {
  if (!IsRead(request)) return MethodNotAllowed(request, "GET");
  auto key = CheckParam(request);
  if (!key.ok()) return HttpResponse::Text(400, key.error());
  const std::string window = request.Query("window").value_or("");
  std::vector<UptimeWindow> windows;
  for (const auto& win : kUptimeWindows) {
    if (window.empty() || window == win.name) windows.push_back(win);
  }
  if (windows.empty()) {
    return HttpResponse::Text(400,
                              "window: \"" + window + "\" is not one of 1h, 24h, 7d, 30d, 365d");
  }
  const TimePoint now = engine_.Now();
  JsonWriter w(true);
  w.BeginObject();
  w.Key("namespace");
  w.String(key.value().ns);
  w.Key("name");
  w.String(key.value().name);
  w.Key("windows");
  w.BeginArray();
  for (const auto& win : windows) {
    auto u = store_.Uptime(key.value(), win.length, now);
    if (!u.ok()) return StoreError(u.error());
    WriteUptime(w, win.name, u.value());
  }
  w.EndArray();
  w.EndObject();
  return Json(w);
}

}  // namespace sonde
