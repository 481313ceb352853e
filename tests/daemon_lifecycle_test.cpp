// Runs that end without a report, killing, shutdown, run-now, health and the CLI, with the
// real binary and real processes.
#include <gtest/gtest.h>
#include <sys/wait.h>

#include <boost/json.hpp>
#include <cstdio>

#include "core/uuid.hpp"
#include "support/checks.hpp"

namespace sonde::testing {
namespace {

namespace json = boost::json;

std::string FirstError(const json::value& detail) {
  const auto& o = detail.as_object();
  if (!o.contains("errors") || o.at("errors").as_array().empty()) return "";
  return json::value_to<std::string>(o.at("errors").as_array()[0]);
}

// Waits until ns/name has a failure recorded and returns its first error.
std::string AwaitFailure(const DaemonProcess& d, const std::string& key) {
  json::value detail;
  const bool failed = Eventually([&] {
    detail = CheckDetail(d, key);
    return detail.is_object() && detail.as_object().contains("failureCount");
  });
  EXPECT_TRUE(failed) << key << " never failed; log:\n" << d.log();
  return failed ? FirstError(detail) : "";
}

TEST(DaemonLifecycle, SilentCrashingAndHangingCheckersFailWithTheReason) {
  TempDir checks;
  const std::string mark = "SONDE_TEST_MARK=" + NewUuidV4();
  const std::pair<std::string, std::string> env{"SONDE_TEST_MARK", mark.substr(16)};
  checks.Write("silent.sh", kSilent, true);
  checks.Write("crash.sh", kCrash, true);
  checks.Write("hang.sh", kIgnoreTerm, true);
  checks.Write("a.yaml", CheckYaml({.name = "silent", .script = "silent.sh", .timeout = "1s", .env = {env}}));
  checks.Write("b.yaml", CheckYaml({.name = "crash", .script = "crash.sh", .env = {env}}));
  checks.Write("c.yaml", CheckYaml({.name = "hang", .script = "hang.sh", .timeout = "1500ms", .env = {env}}));
  DaemonProcess d(checks.path(), {"--kill-grace-period", "300ms"});

  EXPECT_EQ(AwaitFailure(d, "default/silent"),
            "timed out after 1s waiting for the checker to report");
  EXPECT_EQ(AwaitFailure(d, "default/crash"),
            "checker exited with code 3 before reporting (container main); stderr: fatal: "
            "cannot connect to db:5432");
  EXPECT_EQ(AwaitFailure(d, "default/hang"),
            "timed out after 1.5s waiting for the checker to report");
  // The hanging checker ignored SIGTERM: SIGKILL after the grace left nothing behind.
  EXPECT_TRUE(Eventually([&] { return ProcessesWithEnv(mark).empty(); }, std::chrono::seconds(5)))
      << ProcessesWithEnv(mark).size() << " checker processes survived";
  const ClientResponse logs = d.Get("/api/logs?namespace=default&healthcheck=crash");
  EXPECT_EQ(logs.status, 200);
  EXPECT_NE(logs.body.find("fatal: cannot connect to db:5432"), std::string::npos) << logs.body;
}

TEST(DaemonLifecycle, SigtermStopsCheckersAndExitsZero) {
  TempDir checks;
  const std::string mark = NewUuidV4();
  checks.Write("hang.sh", kIgnoreTerm, true);
  checks.Write("c.yaml", CheckYaml({.name = "hang", .script = "hang.sh", .timeout = "5m",
                                    .env = {{"SONDE_TEST_MARK", mark}}}));
  DaemonProcess d(checks.path(), {"--shutdown-timeout", "500ms", "--kill-grace-period", "300ms"});
  ASSERT_TRUE(Eventually([&] { return !ProcessesWithEnv("SONDE_TEST_MARK=" + mark).empty(); }));
  const int status = d.Terminate();
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << "status " << status;
  EXPECT_TRUE(Eventually([&] { return ProcessesWithEnv("SONDE_TEST_MARK=" + mark).empty(); },
                         std::chrono::seconds(3)));
}

TEST(DaemonLifecycle, RunNowHealthAndCli) {
  TempDir checks, out;
  checks.Write("ok.sh", kReportOkNoHeader, true);
  checks.Write("record.sh", kRecordAndWait, true);
  checks.Write("ok.yaml", CheckYaml({.name = "ok", .script = "ok.sh", .ns = "team-a"}));
  checks.Write("wait.yaml", CheckYaml({.name = "busy", .script = "record.sh",
                                       .env = {{"OUT", out.path()}}}));
  checks.Write("job.yaml", CheckYaml({.name = "once", .script = "ok.sh", .kind = "KuberhealthyJob"}));
  DaemonProcess d(checks.path());
  EXPECT_EQ(d.Get("/healthz").status, 200);
  ASSERT_TRUE(Eventually([&] {
    const json::value v = CheckDetail(d, "team-a/ok");
    return v.is_object() && v.as_object().contains("successCount");
  })) << d.log();
  EXPECT_EQ(d.Post("/api/run?namespace=default&healthcheck=nope", "").status, 404);
  EXPECT_EQ(d.Post("/api/run?namespace=default", "").status, 400);
  EXPECT_EQ(d.Post("/api/run?namespace=default&healthcheck=busy", "").status, 409);
  EXPECT_EQ(d.Get("/api/run?namespace=default&healthcheck=busy").status, 405);
  // The job shows under JobDetails, and ran once.
  ASSERT_TRUE(Eventually([&] {
    return GetJson(d, "/").as_object().at("JobDetails").as_object().contains("default/once");
  }));
  // Namespace filter.
  const json::value only_a = GetJson(d, "/json?namespace=team-a");
  EXPECT_EQ(only_a.as_object().at("CheckDetails").as_object().size(), 1u);

  const std::string cli = SondeBinary() + " status --server " + d.url();
  FILE* p = popen(cli.c_str(), "r");
  ASSERT_NE(p, nullptr);
  std::string table;
  char buf[512];
  while (fgets(buf, sizeof(buf), p)) table += buf;
  const int rc = pclose(p);
  EXPECT_EQ(WEXITSTATUS(rc), 0) << table;
  EXPECT_NE(table.find("team-a/ok"), std::string::npos) << table;
  EXPECT_NE(table.find("RUNNING"), std::string::npos) << table;
  EXPECT_EQ(std::system((SondeBinary() + " run team-a/ok --server " + d.url() + " >/dev/null").c_str()), 0);
  EXPECT_NE(std::system((SondeBinary() + " run team-a/nope --server " + d.url() + " 2>/dev/null").c_str()), 0);
}

}  // namespace
}  // namespace sonde::testing
