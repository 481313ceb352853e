// Serves the embedded dashboard files: strong ETags (a hash of the bytes) answer a matching
// If-None-Match with 304, and "Cache-Control: no-cache" makes browsers revalidate on every load,
// so a new daemon build is picked up at once while an unchanged file costs a 304. HTML answers
// carry a Content-Security-Policy allowing this origin only: the page can load nothing from
// elsewhere. Not gzipped: the whole bundle is a few tens of KiB.
// Borrows the asset list (static data in the daemon); thread-safe (const).
#pragma once

#include <span>
#include <string_view>

#include "server/http_types.hpp"
#include "ui/embedded_assets.hpp"

namespace sonde::ui {

// The Content-Security-Policy of the dashboard's HTML.
inline constexpr std::string_view kContentSecurityPolicy =
    "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; "
    "connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

class AssetServer {
 public:
  explicit AssetServer(std::span<const EmbeddedAsset> assets) : assets_(assets) {}

  // The file at `path` ("/app.js"); 404 when there is none, 405 unless GET or HEAD.
  HttpResponse Serve(const HttpRequest& request, std::string_view path) const;
  bool Has(std::string_view path) const { return Find(path) != nullptr; }

 private:
  const EmbeddedAsset* Find(std::string_view path) const;

  std::span<const EmbeddedAsset> assets_;
};

// True when an If-None-Match header value lists `etag` (or is "*"); weak tags compare equal.
bool EtagMatches(std::string_view if_none_match, std::string_view etag);

}  // namespace sonde::ui
