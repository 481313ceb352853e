#include "ui/ui_routes.hpp"

#include <cstdio>

#include "ui/badge.hpp"

namespace sonde::ui {
namespace {

constexpr std::string_view kAssetPrefix = "/ui/assets";
constexpr std::string_view kBadgePrefix = "/api/badge/";

bool IsGet(const HttpRequest& r) { return r.method == "GET" || r.method == "HEAD"; }

HttpResponse NotGet(const HttpRequest& r) {
  HttpResponse out =
      HttpResponse::Text(405, "method " + r.method + " not allowed on " + r.path + "; use GET");
  out.headers.emplace_back("Allow", "GET");
  return out;
}

}  // namespace

// FNV-1a, 64 bits: a cheap fingerprint of an answer, enough to tell "changed" from "same".
std::string Fingerprint(std::string_view body) {
  uint64_t h = 0xcbf29ce484222325ULL;
  for (unsigned char c : body) {
    h ^= c;
    h *= 0x100000001b3ULL;
  }
  char buf[24];
  std::snprintf(buf, sizeof buf, "\"%016llx\"", static_cast<unsigned long long>(h));
  return buf;
}

namespace {

const CheckView* FindCheck(const StatusSnapshot& snap, const CheckKey& key) {
  for (const CheckView& c : snap.checks) {
    if (c.spec->key == key) return &c;
  }
  return nullptr;
}

HttpResponse Svg(int status, const Badge& badge) {
  HttpResponse r;
  r.status = status;
  r.content_type = "image/svg+xml; charset=utf-8";
  r.body = RenderBadge(badge);
  // Image proxies (GitHub's camo) honour this: the badge shows the state now, not last week's.
  r.headers.emplace_back("Cache-Control", "no-cache, max-age=0");
  return r;
}

}  // namespace

HttpResponse CachedJson(const HttpRequest& request, std::string body) {
  const std::string etag = Fingerprint(body);
  return CachedJson(request, std::move(body), etag);
}

HttpResponse CachedJson(const HttpRequest& request, std::string body, const std::string& etag) {
  HttpResponse r;
  r.content_type = "application/json; charset=utf-8";
  r.headers.emplace_back("ETag", etag);
  r.headers.emplace_back("Cache-Control", "no-cache");
  if (EtagMatches(request.Header("if-none-match"), etag)) {
    r.status = 304;
    return r;
  }
  r.body = std::move(body);
  return r;
}

std::optional<std::string_view> UiRoutes::RouteOf(std::string_view path) {
  if (path == "/ui" || path.starts_with("/ui/")) {
    return path.starts_with(kAssetPrefix) ? kAssetPrefix : std::string_view("/ui");
  }
  if (path == "/api/dashboard") return "/api/dashboard";
  if (path == "/api/dashboard/check") return "/api/dashboard/check";
  if (path.starts_with(kBadgePrefix)) return "/api/badge";
  return std::nullopt;
}

HttpResponse UiRoutes::Page(const HttpRequest& request) const {
  return assets_.Serve(request, "/index.html");
}

std::optional<HttpResponse> UiRoutes::Handle(const HttpRequest& request,
                                             const std::function<StatusSnapshot()>& snapshot,
                                             TimePoint now) {
  const std::string& p = request.path;
  const auto route = RouteOf(p);
  if (!route) return std::nullopt;
  if (*route == kAssetPrefix) {
    if (p.size() <= kAssetPrefix.size() || p[kAssetPrefix.size()] != '/') {
      return HttpResponse::Text(404, "no such file: " + p);
    }
    return assets_.Serve(request, std::string_view(p).substr(kAssetPrefix.size()));
  }
  if (*route == "/ui") return Page(request);
  if (!IsGet(request)) return NotGet(request);
  if (*route == "/api/dashboard") return Dashboard(request, snapshot, now);
  const StatusSnapshot snap = snapshot();
  if (*route == "/api/dashboard/check") return CheckDetail(request, snap, now);
  return BadgeRoute(request, snap, now);
}

HttpResponse UiRoutes::Dashboard(const HttpRequest& request,
                                 const std::function<StatusSnapshot()>& snapshot, TimePoint now) {
  const std::string name = request.Query("window").value_or("24h");
  const BarWindow* window = FindBarWindow(name);
  if (!window)
    return HttpResponse::Text(400, "window: \"" + name + "\" is not one of 24h, 7d, 30d");
  Rendered& last = overview_[window->name];
  if (last.body.empty() || now - last.at >= kOverviewReuse || now < last.at) {
    last.body = RenderDashboard(snapshot(), store_, bars_, *window, now);
    last.etag = Fingerprint(last.body);
    last.at = now;
  }
  return CachedJson(request, last.body, last.etag);
}

HttpResponse UiRoutes::CheckDetail(const HttpRequest& request, const StatusSnapshot& snap,
                                   TimePoint now) {
  const auto ns = request.Query("namespace");
  const auto name = request.Query("healthcheck");
  if (!ns || ns->empty() || !name || name->empty()) {
    return HttpResponse::Text(400,
                              "missing query parameters: both namespace and healthcheck are "
                              "required, e.g. ?namespace=default&healthcheck=my-check");
  }
  const CheckKey key{*ns, *name};
  const CheckView* check = FindCheck(snap, key);
  if (!check) return HttpResponse::Text(404, "no check " + key.str());
  return CachedJson(request, RenderCheckDetail(*check, store_, now));
}

// /api/badge/{ns}/{name}/status.svg or .../uptime.svg[?window=7d]
HttpResponse UiRoutes::BadgeRoute(const HttpRequest& request, const StatusSnapshot& snap,
                                  TimePoint now) {
  std::string_view rest = std::string_view(request.path).substr(kBadgePrefix.size());
  const size_t a = rest.find('/');
  const size_t b = a == std::string_view::npos ? a : rest.find('/', a + 1);
  if (b == std::string_view::npos || rest.find('/', b + 1) != std::string_view::npos) {
    return HttpResponse::Text(
        404, "no such badge: use /api/badge/{namespace}/{name}/status.svg or uptime.svg");
  }
  const CheckKey key{std::string(rest.substr(0, a)), std::string(rest.substr(a + 1, b - a - 1))};
  const std::string_view file = rest.substr(b + 1);
  if (file != "status.svg" && file != "uptime.svg") {
    return HttpResponse::Text(
        404, "no such badge \"" + std::string(file) + "\": use status.svg or uptime.svg");
  }
  const CheckView* check = FindCheck(snap, key);
  if (!check) return Svg(404, Badge{"sonde", "no check " + key.str(), "#616161"});
  if (file == "status.svg") return Svg(200, StatusBadge(StateName(*check)));
  const std::string window = request.Query("window").value_or("24h");
  for (const UptimeWindow& w : kUptimeWindows) {
    if (window != w.name) continue;
    auto u = store_.Uptime(key, w.length, now);
    if (!u.ok()) return HttpResponse::Text(503, "store unavailable: " + u.error());
    return Svg(200, UptimeBadge(w.name, u.value().uptime));
  }
  return HttpResponse::Text(400, "window: \"" + window + "\" is not one of 1h, 24h, 7d, 30d, 365d");
}

}  // namespace sonde::ui
