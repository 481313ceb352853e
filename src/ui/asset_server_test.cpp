#include "ui/asset_server.hpp"

#include <gtest/gtest.h>

#include <string>

namespace sonde::ui {
namespace {

constexpr EmbeddedAsset kAssets[] = {
    {"/app.js", "text/javascript; charset=utf-8", "\"js1\"", "console.log(1)"},
    {"/index.html", "text/html; charset=utf-8", "\"h1\"", "<!doctype html>"},
};

HttpRequest Get(std::string path, std::string if_none_match = "") {
  HttpRequest r;
  r.method = "GET";
  r.path = std::move(path);
  if (!if_none_match.empty()) r.headers["if-none-match"] = if_none_match;
  return r;
}

std::string HeaderOf(const HttpResponse& r, const std::string& name) {
  for (const auto& [k, v] : r.headers) {
    if (k == name) return v;
  }
  return "";
}

struct ServeCase {
  const char* name;
  const char* method;
  const char* path;
  const char* if_none_match;
  int status;
  const char* body;
};

TEST(AssetServer, ServesWithEtagsAndRevalidation) {
  const AssetServer server(kAssets);
  const ServeCase cases[] = {
      {"plain GET", "GET", "/app.js", "", 200, "console.log(1)"},
      {"HEAD", "HEAD", "/app.js", "", 200, "console.log(1)"},
      {"matching ETag", "GET", "/app.js", "\"js1\"", 304, ""},
      {"one of several", "GET", "/app.js", "\"x\", \"js1\"", 304, ""},
      {"weak form", "GET", "/app.js", "W/\"js1\"", 304, ""},
      {"star", "GET", "/app.js", "*", 304, ""},
      {"stale ETag", "GET", "/app.js", "\"old\"", 200, "console.log(1)"},
      {"unknown file", "GET", "/nope.js", "", 404, "no such file: /nope.js\n"},
      {"POST", "POST", "/app.js", "", 405, nullptr},
  };
  for (const ServeCase& c : cases) {
    SCOPED_TRACE(c.name);
    HttpRequest req = Get(c.path, c.if_none_match);
    req.method = c.method;
    const HttpResponse r = server.Serve(req, c.path);
    EXPECT_EQ(r.status, c.status);
    if (c.body) {
      EXPECT_EQ(r.body, c.body);
    }
    if (c.status == 200 || c.status == 304) {
      EXPECT_EQ(HeaderOf(r, "ETag"), "\"js1\"");
      EXPECT_EQ(HeaderOf(r, "Cache-Control"), "no-cache");
      EXPECT_EQ(r.content_type, "text/javascript; charset=utf-8");
    }
  }
}

TEST(AssetServer, HtmlCarriesAContentSecurityPolicy) {
  const AssetServer server(kAssets);
  const HttpResponse r = server.Serve(Get("/"), "/index.html");
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(HeaderOf(r, "Content-Security-Policy"), kContentSecurityPolicy);
  EXPECT_EQ(HeaderOf(r, "Vary"), "Accept");
  EXPECT_TRUE(HeaderOf(server.Serve(Get("/app.js"), "/app.js"), "Content-Security-Policy").empty());
}

// The real, embedded dashboard: the build put index.html, app.js and app.css in the binary, and
// index.html loads nothing but them.
TEST(EmbeddedAssets, HoldTheBuiltDashboard) {
  const AssetServer server(EmbeddedAssets());
  for (const char* path : {"/index.html", "/app.js", "/app.css"}) {
    SCOPED_TRACE(path);
    ASSERT_TRUE(server.Has(path));
    const HttpResponse r = server.Serve(Get(path), path);
    EXPECT_EQ(r.status, 200);
    EXPECT_GT(r.body.size(), 100u);
    EXPECT_EQ(HeaderOf(r, "ETag").size(), 22u);  // 20 hex digits, quoted
  }
  const std::string html = server.Serve(Get("/"), "/index.html").body;
  EXPECT_NE(html.find("src=\"/ui/assets/app.js\""), std::string::npos);
  EXPECT_NE(html.find("href=\"/ui/assets/app.css\""), std::string::npos);
  for (const char* outside : {"src=\"http", "href=\"http", "src=\"//", "href=\"//"}) {
    EXPECT_EQ(html.find(outside), std::string::npos) << "nothing from elsewhere: " << outside;
  }
}

}  // namespace
}  // namespace sonde::ui
