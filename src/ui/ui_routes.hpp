// The dashboard's HTTP routes, which HttpApi consults before its 404:
//   GET /ui, /ui/...               the single-page app (index.html; it routes client-side)
//   GET /ui/assets/<file>          its embedded script and style sheet
//   GET /api/dashboard[?window=]   the overview's aggregated state (see dashboard_json.hpp)
//   GET /api/dashboard/check?namespace=&healthcheck=
//   GET /api/badge/{ns}/{name}/status.svg, /api/badge/{ns}/{name}/uptime.svg?window=7d
// and the page HttpApi serves at "/" to browsers (see negotiation.hpp). JSON answers carry an
// ETag (a hash of the body) and answer a matching If-None-Match with 304: the dashboard polls
// every two seconds and an unchanged answer costs no transfer and no re-render.
// Borrows the store; not thread-safe (runs on HttpApi's executor).
#pragma once

#include <functional>
#include <map>
#include <optional>
#include <span>
#include <string>
#include <string_view>

#include "contract/status_page.hpp"
#include "server/http_types.hpp"
#include "store/store.hpp"
#include "ui/asset_server.hpp"
#include "ui/dashboard_json.hpp"
#include "ui/embedded_assets.hpp"

namespace sonde::ui {

class UiRoutes {
 public:
  explicit UiRoutes(Store& store, std::span<const EmbeddedAsset> assets = EmbeddedAssets())
      : store_(store), assets_(assets) {}

  // The answer for a dashboard route; none when `request.path` is not one. `snapshot` is
  // called only when the route needs the checks.
  std::optional<HttpResponse> Handle(const HttpRequest& request,
                                     const std::function<StatusSnapshot()>& snapshot,
                                     TimePoint now);
  // The dashboard page itself (index.html).
  HttpResponse Page(const HttpRequest& request) const;

  // The route label of a dashboard path for the request metrics; none if it is not one.
  static std::optional<std::string_view> RouteOf(std::string_view path);

 private:
  HttpResponse Dashboard(const HttpRequest& request,
                         const std::function<StatusSnapshot()>& snapshot, TimePoint now);
  HttpResponse CheckDetail(const HttpRequest& request, const StatusSnapshot& snap, TimePoint now);
  HttpResponse BadgeRoute(const HttpRequest& request, const StatusSnapshot& snap, TimePoint now);

  Store& store_;
  AssetServer assets_;
  BarCache bars_;
  // The last /api/dashboard answer per window, reused for kOverviewReuse: with 2,000 checks
  // rendering one takes tens of milliseconds on the engine's thread, and every open dashboard
  // polls every 2 s; viewers polling within the same second share one rendering.
  struct Rendered {
    TimePoint at;
    std::string body;
    std::string etag;
  };
  std::map<std::string, Rendered> overview_;
};

inline constexpr Duration kOverviewReuse = std::chrono::seconds(1);

// A JSON answer with an ETag of its body, or 304 when the request's If-None-Match has it.
HttpResponse CachedJson(const HttpRequest& request, std::string body);
// The same, with the body's ETag already known.
HttpResponse CachedJson(const HttpRequest& request, std::string body, const std::string& etag);
// A strong ETag of `body` (a 64-bit FNV-1a hash, quoted).
std::string Fingerprint(std::string_view body);

}  // namespace sonde::ui
