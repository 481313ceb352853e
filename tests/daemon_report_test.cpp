// The real sonde binary, real checker scripts, real HTTP: the reporting contract end to end.
#include <gtest/gtest.h>

#include <boost/json.hpp>
#include <filesystem>
#include <regex>
#include <set>

#include "core/time.hpp"
#include "core/uuid.hpp"
#include "support/checks.hpp"

namespace sonde::testing {
namespace {

namespace json = boost::json;

std::string Str(const json::value& v, const char* key) {
  return json::value_to<std::string>(v.as_object().at(key));
}

TEST(DaemonReport, SeedCheckTurnsOkWithEveryV2Field) {
  TempDir checks;
  checks.Write("run.sh", kReportOkNoHeader, true);
  // The seed's YAML, plus the command local mode needs.
  checks.Write("seed.yaml", R"(apiVersion: comcast.github.io/v1
kind: KuberhealthyCheck
metadata:
  name: openbayes-gear-check
spec:
  runInterval: 6h # 指定多久时间跑一次
  timeout: 5m # 指定执行的最长时间
  podSpec:
    containers:
    - env: # 自定义的环境变量
        - name: OPENBAYES_TOKEN
          value: <THE TOKEN>
        - name: RUNTIME
          value: pytorch-1.7.0
      image: xxxx # 镜像
      name: main
      command: ["/bin/bash", "run.sh"]
)");
  DaemonProcess d(checks.path());
  json::value detail;
  ASSERT_TRUE(Eventually([&] {
    const json::value doc = GetJson(d, "/");
    auto& cd = doc.as_object().at("CheckDetails").as_object();
    if (!cd.contains("default/openbayes-gear-check")) return false;
    detail = cd.at("default/openbayes-gear-check");
    return true;
  })) << d.log();
  const json::object& o = detail.as_object();
  EXPECT_TRUE(o.at("OK").as_bool()) << json::serialize(detail);
  EXPECT_TRUE(o.at("Errors").as_array().empty());
  EXPECT_TRUE(ParseGoDuration(Str(detail, "RunDuration")).ok()) << Str(detail, "RunDuration");
  EXPECT_EQ(Str(detail, "Namespace"), "default");
  EXPECT_FALSE(Str(detail, "Node").empty());
  EXPECT_TRUE(std::regex_match(Str(detail, "LastRun"),
                               std::regex(R"(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d{1,9})?Z)")))
      << Str(detail, "LastRun");
  EXPECT_EQ(Str(detail, "AuthoritativePod"), "sonde-test");
  EXPECT_TRUE(LooksLikeUuid(Str(detail, "uuid")));
  const json::value top = GetJson(d, "/");
  EXPECT_TRUE(top.as_object().at("OK").as_bool());
  EXPECT_EQ(Str(top, "CurrentMaster"), "sonde-test");
  EXPECT_TRUE(top.as_object().at("JobDetails").as_object().empty());
  EXPECT_TRUE(top.as_object().at("Metadata").is_object());
}

TEST(DaemonReport, CheckerReportingErrorsFails) {
  TempDir checks;
  checks.Write("errors.sh", kReportErrors, true);
  checks.Write("c.yaml", CheckYaml({.name = "errs", .script = "errors.sh", .kind = "HealthCheck"}));
  DaemonProcess d(checks.path());
  json::value detail;
  ASSERT_TRUE(Eventually([&] {
    detail = CheckDetail(d, "default/errs");
    return detail.is_object() && detail.as_object().contains("failureCount");
  })) << d.log();
  EXPECT_FALSE(detail.as_object().at("ok").as_bool());
  EXPECT_EQ(json::serialize(detail.as_object().at("errors")),
            R"(["disk /data is full","db replica lag 30s"])");
  const json::value top = GetJson(d, "/");
  EXPECT_FALSE(top.as_object().at("OK").as_bool());
  EXPECT_EQ(top.as_object().at("Errors").as_array().size(), 2u);
}

class ReportCodes : public ::testing::Test {
 protected:
  void SetUp() override {
    checks_.Write("record.sh", kRecordAndWait, true);
    checks_.Write("c.yaml", CheckYaml({.name = "manual",
                                       .script = "record.sh",
                                       .timeout = "3s",
                                       .env = {{"OUT", out_.path()}}}));
    daemon_ = std::make_unique<DaemonProcess>(checks_.path(),
                                              std::vector<std::string>{"--max-report-bytes", "4096"});
  }
  // Waits for the next run to record its reporting URL; returns it.
  std::string NextRunUrl() {
    std::string url;
    EXPECT_TRUE(Eventually([&] {
      for (const auto& e : std::filesystem::directory_iterator(out_.path())) {
        const std::string name = e.path().filename().string();
        if (LooksLikeUuid(name) && seen_.insert(name).second) {
          url = out_.Read(name);
          while (!url.empty() && url.back() == '\n') url.pop_back();
          return true;
        }
      }
      return false;
    })) << daemon_->log();
    return url;
  }
  // POSTs to a reporting URL (absolute, as the checker got it).
  ClientResponse PostTo(const std::string& url, const std::string& body,
                        std::vector<std::pair<std::string, std::string>> headers = {
                            {"Content-Type", "application/json"}}) {
    auto r = HttpCall("POST", url, body, headers);
    EXPECT_TRUE(r.ok()) << (r.ok() ? "" : r.error());
    return r.ok() ? r.value() : ClientResponse{};
  }

  TempDir checks_, out_;
  std::set<std::string> seen_;
  std::unique_ptr<DaemonProcess> daemon_;
};

TEST_F(ReportCodes, EachBadReportGetsItsStatusAndTheGoodOneLands) {
  const std::string url = NextRunUrl();
  const std::string uuid = url.substr(url.find("kh-run-uuid=") + 12);
  ASSERT_EQ(url, daemon_->url() + "/externalCheckStatus?kh-run-uuid=" + uuid);
  // Unknown run, malformed, semantically invalid, wrong type, oversized, wrong method.
  EXPECT_EQ(PostTo(daemon_->url() + "/externalCheckStatus?kh-run-uuid=" + NewUuidV4(),
                   R"({"OK":true})").status, 400);
  EXPECT_EQ(PostTo(daemon_->url() + "/check", R"({"OK":true})", {{"kh-run-uuid", NewUuidV4()}})
                .status, 400);
  EXPECT_EQ(PostTo(daemon_->url() + "/externalCheckStatus", R"({"OK":true})").status, 400);
  EXPECT_EQ(PostTo(url, R"({"OK": tru)").status, 400);
  EXPECT_EQ(PostTo(url, R"({"OK": false})").status, 400);
  EXPECT_EQ(PostTo(url, R"({"OK": false, "Errors": [""]})").status, 400);
  EXPECT_EQ(PostTo(url, R"({"OK": true, "Errors": ["x"]})").status, 400);
  EXPECT_EQ(PostTo(url, R"({"OK":true})", {{"Content-Type", "text/plain"}}).status, 415);
  const ClientResponse big =
      PostTo(url, R"({"OK": false, "Errors": [")" + std::string(5000, 'x') + "\"]}");
  EXPECT_EQ(big.status, 413) << big.body;
  auto get = HttpCall("GET", url);
  ASSERT_TRUE(get.ok());
  EXPECT_EQ(get.value().status, 405);
  auto put = HttpCall("PUT", daemon_->url() + "/check", "{}");
  ASSERT_TRUE(put.ok());
  EXPECT_EQ(put.value().status, 405);
  // None of that disturbed the run: the real report is accepted, once.
  const ClientResponse ok = PostTo(url, R"({"ok": false, "errors": ["real failure"]})");
  EXPECT_EQ(ok.status, 200) << ok.body;
  const ClientResponse dup = PostTo(url, R"({"OK": true})");
  EXPECT_EQ(dup.status, 410) << dup.body;
  EXPECT_NE(dup.body.find("already reported"), std::string::npos) << dup.body;
  const json::value detail = CheckDetail(*daemon_, "default/manual");
  EXPECT_EQ(json::serialize(detail.as_object().at("errors")), R"(["real failure"])");
}

TEST_F(ReportCodes, ReportForAnOlderRunIsGone) {
  const std::string first = NextRunUrl();
  // The first run times out (3s) without a report; a run-now starts the second.
  ASSERT_TRUE(Eventually([&] {
    const json::value v = CheckDetail(*daemon_, "default/manual");
    return v.is_object() && v.as_object().contains("failureCount");
  })) << daemon_->log();
  const ClientResponse late = PostTo(first, R"({"OK": true})");
  EXPECT_EQ(late.status, 410) << late.body;
  EXPECT_NE(late.body.find("timed out"), std::string::npos) << late.body;
  ASSERT_TRUE(Eventually([&] {
    return daemon_->Post("/api/run?namespace=default&healthcheck=manual", "").status == 202;
  }));
  const std::string second = NextRunUrl();
  EXPECT_NE(first, second);
  EXPECT_EQ(PostTo(first, R"({"OK": true})").status, 410);
  EXPECT_EQ(PostTo(second, R"({"OK": true})").status, 200);
  EXPECT_TRUE(CheckDetail(*daemon_, "default/manual").as_object().at("ok").as_bool());
}

}  // namespace
}  // namespace sonde::testing
