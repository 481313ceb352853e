// clients/bash/kh.sh sourced by real scripts against a real daemon: checker reports (with JSON
// escaping), the heartbeat wrapper, and Kuberhealthy's retry rule.
#include <gtest/gtest.h>

#include <boost/json.hpp>
#include <chrono>

#include "support/checks.hpp"

namespace sonde::testing {
namespace {

namespace json = boost::json;

const std::string kClient = std::string(SONDE_SOURCE_DIR) + "/clients/bash/kh.sh";

// Runs a bash snippet with the client sourced; returns its exit code.
int Bash(const std::string& script) {
  TempDir dir;
  dir.Write("s.sh", "source '" + kClient + "'\n" + script + "\n");
  const int status = std::system(("bash " + dir.path() + "/s.sh >/dev/null 2>&1").c_str());
  return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

TEST(BashClient, CheckerReportsSuccessAndEscapedFailures) {
  TempDir checks;
  checks.Write("ok.sh", "source \"$KH_CLIENT\"\nkh::report_success\n");
  checks.Write("fail.sh",
               "source \"$KH_CLIENT\"\nkh::report_failure 'disk \"/data\" is full' "
               "$'line one\\nline two\\t\\\\ end'\n");
  checks.Write("c.yaml",
               CheckYaml({.name = "ok", .script = "ok.sh", .env = {{"KH_CLIENT", kClient}}}) +
                   "---\n" +
                   CheckYaml({.name = "bad",
                              .script = "fail.sh",
                              .env = {{"KH_CLIENT", kClient}},
                              .kind = "HealthCheck"}));
  DaemonProcess d(checks.path());
  json::value ok, bad;
  ASSERT_TRUE(Eventually([&] {
    ok = CheckDetail(d, "default/ok");
    bad = CheckDetail(d, "default/bad");
    // runDuration appears once a run's result is in; lastRunUnix already at its start.
    return ok.is_object() && bad.is_object() && ok.as_object().contains("runDuration") &&
           bad.as_object().contains("failureCount");
  })) << d.log();
  EXPECT_TRUE(ok.as_object().at("ok").as_bool()) << json::serialize(ok);
  EXPECT_EQ(json::serialize(bad.as_object().at("errors")),
            R"(["disk \"/data\" is full","line one\nline two\t\\ end"])");
}

TEST(BashClient, HeartbeatWrapperReportsExitCodeAndTailAndRetriesByTheRule) {
  TempDir checks;
  checks.Write("hb.yaml",
               "apiVersion: comcast.github.io/v1\nkind: KuberhealthyCheck\nmetadata: {name: job}\n"
               "spec:\n  runInterval: 1h\n  heartbeat: {minRecordInterval: 1ms}\n");
  DaemonProcess d(checks.path());
  std::string url;
  ASSERT_TRUE(Eventually([&] {
    const json::value doc = GetJson(d, "/api/checks");
    const auto& hb = doc.as_object().at("checks").as_array()[0].as_object().at("heartbeat");
    if (!hb.as_object().at("url").is_string()) return false;
    url = json::value_to<std::string>(hb.as_object().at("url"));
    return true;
  })) << d.log();
  EXPECT_EQ(Bash("kh::heartbeat '" + url + "' -- true"), 0);
  EXPECT_TRUE(CheckDetail(d, "default/job").as_object().at("ok").as_bool());
  EXPECT_EQ(
      Bash("kh::heartbeat '" + url + "' -- bash -c 'echo step 1; echo \"no space\" >&2; exit 4'"),
      4);
  EXPECT_EQ(json::serialize(CheckDetail(d, "default/job").as_object().at("errors")),
            R"(["bash -c echo step 1; echo \"no space\" >&2; exit 4 exited with code 4",)"
            R"("output tail: step 1\nno space"])");
  // 400 is final: no retry. Anything else is retried until KH_RETRY_SECONDS runs out.
  auto t0 = std::chrono::steady_clock::now();
  EXPECT_EQ(Bash("KH_REPORTING_URL='" + url + "/fail' kh::report_success"), 1);
  EXPECT_LT(std::chrono::steady_clock::now() - t0, std::chrono::seconds(2));
  t0 = std::chrono::steady_clock::now();
  EXPECT_EQ(Bash("KH_RETRY_SECONDS=2 KH_REPORTING_URL='" + d.url() +
                 "/heartbeat/unknown' kh::report_success"),
            1);
  EXPECT_GE(std::chrono::steady_clock::now() - t0, std::chrono::seconds(2));
}

}  // namespace
}  // namespace sonde::testing
