#include "ui/asset_server.hpp"

#include <string>

namespace sonde::ui {

bool EtagMatches(std::string_view if_none_match, std::string_view etag) {
  auto strip_weak = [](std::string_view t) { return t.substr(0, 2) == "W/" ? t.substr(2) : t; };
  etag = strip_weak(etag);
  while (!if_none_match.empty()) {
    const size_t comma = if_none_match.find(',');
    std::string_view tag = if_none_match.substr(0, comma);
    if_none_match =
        comma == std::string_view::npos ? std::string_view() : if_none_match.substr(comma + 1);
    while (!tag.empty() && tag.front() == ' ') tag.remove_prefix(1);
    while (!tag.empty() && tag.back() == ' ') tag.remove_suffix(1);
    if (tag == "*" || strip_weak(tag) == etag) return true;
  }
  return false;
}

const EmbeddedAsset* AssetServer::Find(std::string_view path) const {
  for (const EmbeddedAsset& a : assets_) {
    if (a.path == path) return &a;
  }
  return nullptr;
}

HttpResponse AssetServer::Serve(const HttpRequest& request, std::string_view path) const {
  if (request.method != "GET" && request.method != "HEAD") {
    HttpResponse r = HttpResponse::Text(
        405, "method " + request.method + " not allowed on " + request.path + "; use GET");
    r.headers.emplace_back("Allow", "GET");
    return r;
  }
  const EmbeddedAsset* asset = Find(path);
  if (!asset) return HttpResponse::Text(404, "no such file: " + request.path);
  HttpResponse r;
  r.content_type = std::string(asset->content_type);
  r.headers.emplace_back("ETag", std::string(asset->etag));
  r.headers.emplace_back("Cache-Control", "no-cache");
  r.headers.emplace_back("X-Content-Type-Options", "nosniff");
  if (asset->content_type.starts_with("text/html")) {
    r.headers.emplace_back("Content-Security-Policy", std::string(kContentSecurityPolicy));
    r.headers.emplace_back("Vary", "Accept");
  }
  if (EtagMatches(request.Header("if-none-match"), asset->etag)) {
    r.status = 304;
    return r;
  }
  r.body = std::string(asset->body);
  return r;
}

}  // namespace sonde::ui
