#include "ui/ui_routes.hpp"

#include <gtest/gtest.h>

#include <boost/json.hpp>

#include "store/memory_store.hpp"

namespace sonde::ui {
namespace {

namespace json = boost::json;
using std::chrono::minutes;
using std::chrono::seconds;

const TimePoint kNow = FromUnixSeconds(1'800'000'000);

std::shared_ptr<const CheckSpec> Spec(std::string ns, std::string name) {
  auto s = std::make_shared<CheckSpec>();
  s->key = {std::move(ns), std::move(name)};
  s->run_interval = minutes(1);
  s->timeout = seconds(30);
  s->pod->containers.push_back(
      {.name = "main", .image = "example/checker:1", .command = {"/bin/bash", "check it.sh"}});
  s->source_file = "/checks/a.yaml";
  s->source_line = 3;
  return s;
}

void Commit(Store& store, const CheckKey& key, TimePoint finished, bool ok) {
  RunRecord r{key,
              "u" + std::to_string(finished.time_since_epoch().count()),
              finished - seconds(2),
              finished,
              ok,
              ok ? std::vector<std::string>{} : std::vector<std::string>{"boom"},
              "report",
              "test"};
  store.CommitRun(r, CheckState{}, nullptr);
}

class UiRoutesTest : public ::testing::Test {
 protected:
  UiRoutesTest() {
    CheckView ok{Spec("shop", "login"), {}, kNow + minutes(1)};
    ok.state.ok = true;
    ok.state.last_run = kNow - minutes(1);
    CheckView failing{Spec("db", "replica"), {}, kNow + minutes(1)};
    failing.state.errors = {"replica lag 30s", "second"};
    failing.state.last_run = kNow - minutes(1);
    CheckView pending{Spec("db", "new"), {}, kNow};
    snap_.checks = {ok, failing, pending};
    snap_.instance = "host-1";
    for (int i = 60; i >= 1; --i) {
      Commit(store_, ok.spec->key, kNow - minutes(i), true);
      Commit(store_, failing.spec->key, kNow - minutes(i), i > 30);
    }
  }

  HttpResponse Get(const std::string& path,
                   std::vector<std::pair<std::string, std::string>> query = {},
                   const std::string& if_none_match = "", TimePoint now = kNow) {
    HttpRequest r;
    r.method = "GET";
    r.path = path;
    r.query = std::move(query);
    if (!if_none_match.empty()) r.headers["if-none-match"] = if_none_match;
    auto out = routes_.Handle(
        r, [this] { return snap_; }, now);
    EXPECT_TRUE(out.has_value()) << path;
    return out ? *out : HttpResponse{};
  }

  static std::string Header(const HttpResponse& r, const std::string& name) {
    for (const auto& [k, v] : r.headers) {
      if (k == name) return v;
    }
    return "";
  }

  MemoryStore store_;
  StatusSnapshot snap_;
  UiRoutes routes_{store_};
};

TEST_F(UiRoutesTest, ServesTheAppOnEveryUiPath) {
  for (const char* path : {"/ui", "/ui/", "/ui/check/shop/login", "/ui/anything/else"}) {
    const HttpResponse r = Get(path);
    EXPECT_EQ(r.status, 200) << path;
    EXPECT_EQ(r.content_type, "text/html; charset=utf-8") << path;
  }
  EXPECT_EQ(Get("/ui/assets/app.js").content_type, "text/javascript; charset=utf-8");
  EXPECT_EQ(Get("/ui/assets/app.css").content_type, "text/css; charset=utf-8");
  EXPECT_EQ(Get("/ui/assets/missing.js").status, 404);
  EXPECT_EQ(Get("/ui/assets").status, 404);
}

TEST_F(UiRoutesTest, OtherPathsAreNotTheDashboards) {
  HttpRequest r;
  r.method = "GET";
  for (const char* path : {"/", "/json", "/api/checks", "/uix", "/api/badges"}) {
    r.path = path;
    EXPECT_FALSE(routes_
                     .Handle(
                         r, [this] { return snap_; }, kNow)
                     .has_value())
        << path;
    EXPECT_FALSE(UiRoutes::RouteOf(path).has_value()) << path;
  }
  EXPECT_EQ(UiRoutes::RouteOf("/api/badge/a/b/status.svg"), "/api/badge");
  EXPECT_EQ(UiRoutes::RouteOf("/ui/check/a/b"), "/ui");
}

TEST_F(UiRoutesTest, DashboardAggregatesEveryCheckWithBars) {
  const HttpResponse r = Get("/api/dashboard");
  ASSERT_EQ(r.status, 200) << r.body;
  const json::object doc = json::parse(r.body).as_object();
  EXPECT_EQ(doc.at("window").as_string(), "24h");
  EXPECT_EQ(doc.at("segmentSeconds").to_number<double>(), 3600);
  const json::array& checks = doc.at("checks").as_array();
  ASSERT_EQ(checks.size(), 3u);
  // Sorted by key: db/new, db/replica, shop/login.
  const json::object& pending = checks[0].as_object();
  EXPECT_EQ(pending.at("state").as_string(), "pending");
  EXPECT_TRUE(pending.at("uptime").is_null());
  EXPECT_EQ(pending.at("bar").as_array().size(), 24u);
  const json::object& failing = checks[1].as_object();
  EXPECT_EQ(failing.at("state").as_string(), "failing");
  EXPECT_EQ(failing.at("error").as_string(), "replica lag 30s");
  EXPECT_EQ(failing.at("errorCount").as_int64(), 2);
  const json::object& ok = checks[2].as_object();
  EXPECT_EQ(ok.at("state").as_string(), "ok");
  EXPECT_EQ(ok.at("uptime").to_number<double>(), 1.0);
  int64_t runs = 0;
  for (const json::value& n : ok.at("runs").as_array()) runs += n.as_int64();
  EXPECT_EQ(runs, 60);
  // The failing check was down for the last half hour of its observed hour.
  const double up = failing.at("uptime").to_number<double>();
  EXPECT_GT(up, 0.45);
  EXPECT_LT(up, 0.55);
}

TEST_F(UiRoutesTest, DashboardAnswers304WhenUnchanged) {
  const HttpResponse first = Get("/api/dashboard");
  const std::string etag = Header(first, "ETag");
  ASSERT_FALSE(etag.empty());
  const HttpResponse again = Get("/api/dashboard", {}, etag);
  EXPECT_EQ(again.status, 304);
  EXPECT_TRUE(again.body.empty());
  snap_.checks[0].state.errors = {"now broken"};
  // Within kOverviewReuse the rendered answer is shared; after it, the change shows.
  EXPECT_EQ(Get("/api/dashboard", {}, etag, kNow + std::chrono::milliseconds(500)).status, 304);
  const HttpResponse changed = Get("/api/dashboard", {}, etag, kNow + kOverviewReuse);
  EXPECT_EQ(changed.status, 200);
  EXPECT_NE(changed.body.find("now broken"), std::string::npos);
}

TEST_F(UiRoutesTest, DashboardParametersAreChecked) {
  struct Case {
    std::vector<std::pair<std::string, std::string>> query;
    int status;
  };
  const Case cases[] = {{{{"window", "7d"}}, 200},
                        {{{"window", "30d"}}, 200},
                        {{{"window", "1y"}}, 400},
                        {{{"window", ""}}, 400}};
  for (const Case& c : cases) {
    EXPECT_EQ(Get("/api/dashboard", c.query).status, c.status) << c.query[0].second;
  }
  HttpRequest post;
  post.method = "POST";
  post.path = "/api/dashboard";
  EXPECT_EQ(routes_
                .Handle(
                    post, [this] { return snap_; }, kNow)
                ->status,
            405);
}

TEST_F(UiRoutesTest, CheckDetailHasSpecAndUptime) {
  const HttpResponse r =
      Get("/api/dashboard/check", {{"namespace", "shop"}, {"healthcheck", "login"}});
  ASSERT_EQ(r.status, 200) << r.body;
  const json::object d = json::parse(r.body).as_object();
  EXPECT_EQ(d.at("state").as_string(), "ok");
  EXPECT_EQ(d.at("source").as_string(), "/checks/a.yaml:3");
  const json::object& c = d.at("containers").as_array().at(0).as_object();
  EXPECT_EQ(c.at("image").as_string(), "example/checker:1");
  EXPECT_EQ(c.at("command").as_string(), "/bin/bash 'check it.sh'");
  EXPECT_EQ(d.at("uptime").as_array().size(), 5u);
  EXPECT_EQ(Get("/api/dashboard/check", {{"namespace", "shop"}, {"healthcheck", "x"}}).status, 404);
  EXPECT_EQ(Get("/api/dashboard/check", {{"namespace", "shop"}}).status, 400);
}

TEST_F(UiRoutesTest, Badges) {
  struct Case {
    const char* path;
    std::vector<std::pair<std::string, std::string>> query;
    int status;
    const char* contains;
  };
  const Case cases[] = {
      {"/api/badge/shop/login/status.svg", {}, 200, "status: ok"},
      {"/api/badge/db/replica/status.svg", {}, 200, "status: failing"},
      {"/api/badge/db/new/status.svg", {}, 200, "status: pending"},
      {"/api/badge/shop/login/uptime.svg", {{"window", "7d"}}, 200, "uptime 7d: 100.00%"},
      {"/api/badge/shop/login/uptime.svg", {}, 200, "uptime 24h: 100.00%"},
      {"/api/badge/db/new/uptime.svg", {}, 200, "uptime 24h: no data"},
      {"/api/badge/shop/login/uptime.svg", {{"window", "2d"}}, 400, "not one of"},
      {"/api/badge/shop/nope/status.svg", {}, 404, "no check shop/nope"},
      {"/api/badge/shop/login/other.svg", {}, 404, "use status.svg or uptime.svg"},
      {"/api/badge/shop/status.svg", {}, 404, "no such badge"},
      {"/api/badge/a/b/c/status.svg", {}, 404, "no such badge"},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.path);
    const HttpResponse r = Get(c.path, c.query);
    EXPECT_EQ(r.status, c.status);
    EXPECT_NE(r.body.find(c.contains), std::string::npos) << r.body;
  }
  EXPECT_EQ(Get("/api/badge/shop/login/status.svg").content_type, "image/svg+xml; charset=utf-8");
}

}  // namespace
}  // namespace sonde::ui
