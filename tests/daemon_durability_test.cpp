// Durable state with the real binary: crash (SIGKILL) and restart, flapping, history API.
#include <gtest/gtest.h>
#include <sys/wait.h>

#include <cstdio>

#include <boost/json.hpp>

#include "core/uuid.hpp"
#include "support/checks.hpp"

namespace sonde::testing {
namespace {

namespace json = boost::json;

int64_t Count(const json::value& v, const char* key) {
  if (!v.is_object() || !v.as_object().contains(key)) return 0;
  return v.as_object().at(key).as_int64();
}

json::value Api(const DaemonProcess& d, const std::string& path) {
  const ClientResponse r = d.Get(path);
  EXPECT_EQ(r.status, 200) << path << ": " << r.body;
  boost::system::error_code ec;
  json::value v = json::parse(r.body, ec);
  return ec ? json::value() : v;
}

// Alternates: even runs pass, odd runs fail.
const char* const kFlapping = R"(n=$(cat "$OUT/n" 2>/dev/null || echo 0)
echo $((n + 1)) > "$OUT/n"
if [ $((n % 2)) -eq 0 ]; then body='{"OK":true}'; else body="{\"OK\":false,\"Errors\":[\"flap $n\"]}"; fi
curl -sS --fail -X POST "$KH_REPORTING_URL" -H 'Content-Type: application/json' -d "$body"
)";

// Records its URL, then waits on a background child, which outlives a SIGKILLed daemon.
const char* const kRecordAndWaitOnChild = R"(echo "$KH_REPORTING_URL" > "$OUT/$KH_RUN_UUID.tmp"
mv "$OUT/$KH_RUN_UUID.tmp" "$OUT/$KH_RUN_UUID"
sleep 300 &
wait
)";

TEST(DaemonDurability, CrashAndRestartKeepStateHistoryAndSchedule) {
  TempDir checks, out, state;
  const std::string mark = NewUuidV4();
  checks.Write("ok.sh", kReportOkNoHeader, true);
  checks.Write("record.sh", kRecordAndWaitOnChild, true);
  checks.Write("long.yaml", CheckYaml({.name = "long", .script = "ok.sh", .interval = "6h"}));
  checks.Write("busy.yaml", CheckYaml({.name = "busy", .script = "record.sh", .interval = "6h",
                                       .timeout = "5m",
                                       .env = {{"OUT", out.path()}, {"SONDE_TEST_MARK", mark}}}));
  const std::vector<std::string> args = {"--state-dir", state.path()};
  std::string busy_uuid;
  {
    DaemonProcess d(checks.path(), args);
    ASSERT_TRUE(Eventually([&] { return Count(CheckDetail(d, "default/long"), "successCount") == 1; }))
        << d.log();
    ASSERT_TRUE(Eventually([&] {
      const json::value v = CheckDetail(d, "default/busy");
      if (!v.is_object()) return false;
      busy_uuid = json::value_to<std::string>(v.as_object().at("currentUUID"));
      return !busy_uuid.empty() && out.Exists(busy_uuid);
    })) << d.log();
    d.Kill();
  }
  // The dead daemon's checker is still running (orphaned); the next start must stop it.
  ASSERT_FALSE(ProcessesWithEnv("SONDE_TEST_MARK=" + mark).empty());

  DaemonProcess d(checks.path(), args);
  // The in-flight run is closed as interrupted, and its leftovers are gone.
  json::value busy;
  ASSERT_TRUE(Eventually([&] {
    busy = CheckDetail(d, "default/busy");
    return Count(busy, "failureCount") == 1;
  })) << d.log();
  EXPECT_NE(json::serialize(busy).find("interrupted by a daemon restart"), std::string::npos)
      << json::serialize(busy);
  EXPECT_TRUE(Eventually([&] { return ProcessesWithEnv("SONDE_TEST_MARK=" + mark).empty(); }));
  const json::value runs = Api(d, "/api/history?namespace=default&healthcheck=busy");
  ASSERT_EQ(runs.at("runs").as_array().size(), 1u) << json::serialize(runs);
  EXPECT_EQ(runs.at("runs").as_array()[0].at("runUuid").as_string(), busy_uuid);
  EXPECT_EQ(runs.at("runs").as_array()[0].at("endedBy").as_string(), "restart");
  // A report from the old run is gone, not unknown.
  EXPECT_EQ(d.Post("/check", R"({"OK":true})", {{"kh-run-uuid", busy_uuid}}).status, 410);

  // The 6h check ran minutes ago: it is not run again at start-up, and its result survived.
  const json::value long_check = CheckDetail(d, "default/long");
  EXPECT_EQ(Count(long_check, "successCount"), 1);
  EXPECT_TRUE(long_check.as_object().at("ok").as_bool());
  EXPECT_GT(Count(long_check, "nextRunUnix"), Count(long_check, "lastRunUnix") + 6 * 3600 - 5);
  const json::value long_runs = Api(d, "/api/history?namespace=default&healthcheck=long");
  EXPECT_EQ(long_runs.at("runs").as_array().size(), 1u);
}

TEST(DaemonDurability, FlappingCheckerOpensAndClosesEvents) {
  TempDir checks, out;
  checks.Write("flap.sh", kFlapping, true);
  checks.Write("flap.yaml", CheckYaml({.name = "flap", .script = "flap.sh", .interval = "300ms",
                                       .env = {{"OUT", out.path()}}}));
  DaemonProcess d(checks.path());
  ASSERT_TRUE(Eventually([&] { return Count(CheckDetail(d, "default/flap"), "successCount") >= 3; }))
      << d.log();
  const json::value events = Api(d, "/api/events?namespace=default&healthcheck=flap");
  const auto& list = events.at("events").as_array();
  ASSERT_GE(list.size(), 2u) << json::serialize(events);
  // Newest first; every event but possibly the newest is closed, one failed run each.
  for (size_t i = 0; i < list.size(); ++i) {
    const auto& e = list[i].as_object();
    EXPECT_EQ(e.at("failedRuns").as_int64(), 1) << json::serialize(e);
    if (i > 0) {
      EXPECT_FALSE(e.at("open").as_bool()) << json::serialize(e);
    }
    EXPECT_EQ(e.at("firstError").as_string().subview().substr(0, 5), "flap ");
  }
  const json::value uptime = Api(d, "/api/uptime?namespace=default&healthcheck=flap&window=1h");
  const double ratio = uptime.at("windows").as_array()[0].at("uptime").to_number<double>();
  EXPECT_GT(ratio, 0.2);
  EXPECT_LT(ratio, 0.8);
  EXPECT_EQ(d.Get("/api/uptime?namespace=default&healthcheck=flap&window=2w").status, 400);
  EXPECT_EQ(d.Get("/api/history?namespace=default&healthcheck=flap&since=yesterday").status, 400);
  EXPECT_EQ(d.Get("/api/history?namespace=default").status, 400);
  const json::value checks_doc = Api(d, "/api/checks");
  EXPECT_EQ(checks_doc.at("checks").as_array().size(), 1u);
}

TEST(DaemonDurability, UnusableStateDirectoryIsAClearStartupError) {
  TempDir dir;
  dir.Write("not-a-dir", "x");
  dir.Write("sonde.db/sonde.db", "this is not a SQLite database\n");
  struct Case {
    std::string state_dir;
    const char* expected;
  };
  const Case cases[] = {
      {dir.path() + "/not-a-dir", "cannot use state directory"},
      {dir.path() + "/sonde.db", "cannot use state database"},
  };
  for (const Case& c : cases) {
    const std::string cmd = SondeBinary() + " serve --listen 127.0.0.1:0 --checks " + dir.path() +
                            " --state-dir " + c.state_dir + " 2>&1";
    FILE* p = popen(cmd.c_str(), "r");
    ASSERT_NE(p, nullptr);
    std::string out;
    char buf[512];
    while (fgets(buf, sizeof(buf), p)) out += buf;
    const int rc = pclose(p);
    EXPECT_EQ(WEXITSTATUS(rc), 1) << out;
    EXPECT_NE(out.find(c.expected), std::string::npos) << out;
  }
}

}  // namespace
}  // namespace sonde::testing
