// The dashboard's routes on a real daemon, without a browser: "/" negotiated by Accept, the
// embedded assets revalidated by ETag, the aggregated overview and the badges of real checks.
// (tests/e2e drives the same daemon from Chromium.)
#include <gtest/gtest.h>

#include <boost/json.hpp>

#include "support/checks.hpp"

namespace sonde::testing {
namespace {

namespace json = boost::json;

ClientResponse Call(const DaemonProcess& d, const std::string& path,
                    std::vector<std::pair<std::string, std::string>> headers = {}) {
  auto r = HttpCall("GET", d.url() + path, {}, headers);
  EXPECT_TRUE(r.ok()) << r.error();
  return r.ok() ? r.value() : ClientResponse{};
}

class DashboardTest : public ::testing::Test {
 protected:
  DashboardTest() {
    checks_.Write("ok.sh", kReportOkNoHeader);
    checks_.Write("bad.sh", kReportErrors);
    checks_.Write("ok.yaml",
                  CheckYaml({.name = "fine", .script = "ok.sh", .interval = "1h", .ns = "shop"}));
    checks_.Write("bad.yaml",
                  CheckYaml({.name = "broken", .script = "bad.sh", .interval = "1h", .ns = "db"}));
  }
  // Until both checks have a result and their checkers have exited.
  void WaitForResults() {
    ASSERT_TRUE(Eventually([&] {
      const json::value doc = GetJson(daemon_, "/api/checks");
      int done = 0;
      for (const json::value& c : doc.at("checks").as_array()) {
        const auto& state = c.at("state").as_string();
        done += state == "ok" || state == "failing";
      }
      return done == 2;
    }));
  }

  TempDir checks_;
  DaemonProcess daemon_{checks_.path()};
};

TEST_F(DashboardTest, SlashIsTheDashboardForBrowsersAndV2JsonForEveryoneElse) {
  WaitForResults();
  struct Case {
    const char* accept;  // nullptr: no Accept header (curl sends */*)
    bool html;
  };
  const Case cases[] = {
      {"text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8", true},
      {"*/*", false},
      {nullptr, false},
      {"application/json", false},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.accept ? c.accept : "(none)");
    std::vector<std::pair<std::string, std::string>> headers;
    if (c.accept) headers.emplace_back("Accept", c.accept);
    ClientResponse r = Call(daemon_, "/", headers);
    EXPECT_EQ(r.status, 200);
    EXPECT_EQ(r.headers["vary"], "Accept");
    if (c.html) {
      EXPECT_EQ(r.headers["content-type"], "text/html; charset=utf-8");
      EXPECT_NE(r.body.find("/ui/assets/app.js"), std::string::npos);
    } else {
      EXPECT_EQ(r.headers["content-type"], "application/json; charset=utf-8");
      const json::object doc = json::parse(r.body).as_object();
      EXPECT_TRUE(doc.contains("CheckDetails"));
      EXPECT_TRUE(doc.at("CheckDetails").as_object().contains("shop/fine"));
    }
  }
}

TEST_F(DashboardTest, AssetsRevalidateWithEtags) {
  ClientResponse js = Call(daemon_, "/ui/assets/app.js");
  ASSERT_EQ(js.status, 200);
  const std::string etag = js.headers["etag"];
  ASSERT_FALSE(etag.empty());
  EXPECT_EQ(Call(daemon_, "/ui/assets/app.js", {{"If-None-Match", etag}}).status, 304);
  ClientResponse page = Call(daemon_, "/ui/check/shop/fine");
  EXPECT_EQ(page.status, 200);
  EXPECT_NE(page.headers["content-security-policy"].find("default-src 'self'"), std::string::npos);
}

TEST_F(DashboardTest, OverviewAndBadgesShowRealChecks) {
  WaitForResults();
  const ClientResponse r = Call(daemon_, "/api/dashboard?window=7d");
  ASSERT_EQ(r.status, 200) << r.body;
  const json::value doc = json::parse(r.body);
  const json::array& checks = doc.at("checks").as_array();
  ASSERT_EQ(checks.size(), 2u);
  EXPECT_EQ(checks[0].at("name").as_string(), "broken");
  EXPECT_EQ(checks[0].at("state").as_string(), "failing");
  EXPECT_EQ(checks[0].at("error").as_string(), "disk /data is full");
  EXPECT_EQ(checks[1].at("state").as_string(), "ok");
  EXPECT_EQ(checks[1].at("bar").as_array().size(), 28u);
  EXPECT_EQ(
      Call(daemon_, "/api/dashboard?window=7d", {{"If-None-Match", r.headers.at("etag")}}).status,
      304);
  ClientResponse badge = Call(daemon_, "/api/badge/db/broken/status.svg");
  EXPECT_EQ(badge.status, 200);
  EXPECT_EQ(badge.headers["content-type"], "image/svg+xml; charset=utf-8");
  EXPECT_NE(badge.body.find("status: failing"), std::string::npos);
  EXPECT_NE(
      Call(daemon_, "/api/badge/shop/fine/uptime.svg?window=7d").body.find("uptime 7d: 100.00%"),
      std::string::npos);
}

// A heartbeat check's page shows the URL its job reports to, the one /api/checks gives.
TEST(DashboardRunner, HeartbeatCheckPageShowsItsUrl) {
  TempDir checks;
  checks.Write("hb.yaml",
               "apiVersion: comcast.github.io/v1\nkind: KuberhealthyCheck\nmetadata: {name: "
               "backup}\nspec:\n  runInterval: 24h\n  heartbeat: {grace: 1h}\n");
  DaemonProcess d(checks.path());
  std::string url;
  ASSERT_TRUE(Eventually([&] {
    const json::value page =
        GetJson(d, "/api/dashboard/check?namespace=default&healthcheck=backup");
    if (!page.is_object() || !page.at("heartbeatUrl").is_string()) return false;
    url = std::string(page.at("heartbeatUrl").as_string());
    return true;
  })) << d.log();
  const json::value api = GetJson(d, "/api/checks");
  EXPECT_EQ(api.at("checks").at(0).at("heartbeat").at("url").as_string(), url);
  EXPECT_NE(url.find(d.url()), std::string::npos) << url;
}

// The check page says what runs each check: a process, or a probe with its target and
// conditions.
TEST(DashboardRunner, CheckPageNamesTheRunner) {
  TempDir checks;
  checks.Write("probe.yaml", ProbeCheck("listener", "1h",
                                        "    tcp: {address: \"127.0.0.1:9\"}\n"
                                        "    conditions: [\"[CONNECTED] == false\"]\n"));
  DaemonProcess d(checks.path());
  const json::value page = GetJson(d, "/api/dashboard/check?namespace=probes&healthcheck=listener");
  ASSERT_TRUE(page.is_object());
  EXPECT_EQ(page.at("runner").as_string(),
            "in-process tcp probe: tcp://127.0.0.1:9; conditions: [CONNECTED] == false");
}

}  // namespace
}  // namespace sonde::testing
