// Heartbeat checks end to end: the real daemon, real HTTP, short intervals instead of long
// sleeps. Cron due instants (with DST) are tested purely in src/scheduler/cron_test.cpp.
#include <gtest/gtest.h>

#include <atomic>
#include <boost/json.hpp>
#include <thread>

#include "core/time.hpp"
#include "support/checks.hpp"

namespace sonde::testing {
namespace {

namespace json = boost::json;
using std::chrono::milliseconds;
using std::chrono::steady_clock;

std::string HeartbeatYaml(const std::string& name, const std::string& interval,
                          const std::string& heartbeat, const std::string& timeout = "30s") {
  return "apiVersion: kuberhealthy.github.io/v2\nkind: HealthCheck\nmetadata:\n  name: " + name +
         "\n  namespace: jobs\nspec:\n  runInterval: " + interval + "\n  timeout: " + timeout +
         "\n  heartbeat: " + heartbeat + "\n";
}

// The check's entry in /api/checks, or null.
json::value ApiCheck(const DaemonProcess& d, const std::string& name) {
  const json::value doc = GetJson(d, "/api/checks");
  if (!doc.is_object()) return {};
  for (const auto& c : doc.as_object().at("checks").as_array()) {
    if (c.as_object().at("name") == json::value(name)) return c;
  }
  return {};
}

std::string HeartbeatUrl(const DaemonProcess& d, const std::string& name) {
  std::string url;
  EXPECT_TRUE(Eventually([&] {
    const json::value c = ApiCheck(d, name);
    if (!c.is_object() || !c.as_object().contains("heartbeat")) return false;
    const json::value& u = c.as_object().at("heartbeat").as_object().at("url");
    if (!u.is_string()) return false;
    url = json::value_to<std::string>(u);
    return true;
  })) << d.log();
  return url;
}

std::string State(const DaemonProcess& d, const std::string& name) {
  const json::value c = ApiCheck(d, name);
  return c.is_object() ? json::value_to<std::string>(c.as_object().at("state")) : "";
}

std::string FirstError(const DaemonProcess& d, const std::string& name) {
  const json::value c = ApiCheck(d, name);
  if (!c.is_object()) return "";
  const auto& errors = c.as_object().at("errors").as_array();
  return errors.empty() ? "" : json::value_to<std::string>(errors[0]);
}

ClientResponse Send(const std::string& url, const std::string& body = "",
                    const char* method = "POST") {
  auto r = HttpCall(method, url, body, {{"Content-Type", "application/json"}});
  EXPECT_TRUE(r.ok()) << (r.ok() ? "" : r.error());
  return r.ok() ? r.value() : ClientResponse{};
}

json::array Runs(const DaemonProcess& d, const std::string& name) {
  const json::value doc =
      GetJson(d, "/api/history?namespace=jobs&healthcheck=" + name + "&limit=1000");
  return doc.is_object() ? doc.as_object().at("runs").as_array() : json::array{};
}

TimePoint Finished(const json::value& run) {
  return ParseRfc3339(json::value_to<std::string>(run.as_object().at("finished"))).value();
}

TEST(DaemonHeartbeat, OnTimeStaysOkSilenceFailsAfterIntervalPlusGraceAndAReportRecovers) {
  TempDir checks;
  checks.Write("hb.yaml", HeartbeatYaml("nightly", "1s", "{grace: 500ms, minRecordInterval: 1ms}"));
  DaemonProcess d(checks.path());
  const std::string url = HeartbeatUrl(d, "nightly");
  ASSERT_EQ(url.rfind(d.url() + "/heartbeat/", 0), 0u) << url;
  EXPECT_EQ(url.size(), d.url().size() + 11 + 32);  // 32 hex characters of token
  EXPECT_EQ(State(d, "nightly"), "pending");
  // On time: every 400ms for 3s (interval 1s + grace 500ms is never reached).
  for (int i = 0; i < 8; ++i) {
    const ClientResponse r = Send(url, i % 2 ? "" : R"({"OK": true})");
    ASSERT_EQ(r.status, 200) << r.body;
    EXPECT_EQ(State(d, "nightly"), "ok");
    std::this_thread::sleep_for(milliseconds(400));
  }
  // GET works too, for the plainest cron line (curl URL).
  ASSERT_EQ(Send(url, "", "GET").status, 200);
  const auto silent_from = steady_clock::now();
  ASSERT_TRUE(Eventually([&] { return State(d, "nightly") == "failing"; })) << d.log();
  const auto noticed = steady_clock::now() - silent_from;
  EXPECT_GE(noticed, milliseconds(1400));
  EXPECT_LE(noticed, milliseconds(3000));
  const std::string error = FirstError(d, "nightly");
  EXPECT_EQ(error.rfind("no heartbeat: the last report came at 20", 0), 0u) << error;
  EXPECT_NE(error.find("; one was due at 20"), std::string::npos) << error;
  EXPECT_NE(error.find("(grace 500ms)"), std::string::npos) << error;
  // The missed run's time: interval + grace after the last report, by the daemon's clock.
  const json::array runs = Runs(d, "nightly");
  ASSERT_GE(runs.size(), 10u);
  EXPECT_EQ(runs[0].as_object().at("endedBy"), "missed");
  EXPECT_EQ(runs[1].as_object().at("endedBy"), "report");
  const Duration gap = Finished(runs[0]) - Finished(runs[1]);
  EXPECT_GE(gap, milliseconds(1500));
  EXPECT_LE(gap, milliseconds(2000));  // timer slack on a busy 2-core machine
  // Downtime event open; the next good report closes it.
  const json::value open = ApiCheck(d, "nightly").as_object().at("openEvent");
  ASSERT_TRUE(open.is_object());
  ASSERT_EQ(Send(url).status, 200);
  EXPECT_EQ(State(d, "nightly"), "ok");
  EXPECT_TRUE(ApiCheck(d, "nightly").as_object().at("openEvent").is_null());
  // Prometheus metrics as for any check.
  const std::string metrics = d.Get("/metrics").body;
  EXPECT_NE(metrics.find("kuberhealthy_check{check=\"jobs/nightly\""), std::string::npos);
  EXPECT_NE(metrics.find("sonde_heartbeat_reports_total{check=\"jobs/nightly\",namespace=\"jobs\","
                         "result=\"stored\"}"),
            std::string::npos);
}

// /api/checks caches "nothing observed" for a pending check; its first report must show in the
// next /metrics' uptime series, not once that entry expires 30-60 s later.
TEST(DaemonHeartbeat, FirstReportShowsUptimeAtOnce) {
  TempDir checks;
  checks.Write("hb.yaml", HeartbeatYaml("fresh", "1h", "{grace: 1h}"));
  DaemonProcess d(checks.path());
  const std::string url = HeartbeatUrl(d, "fresh");  // /api/checks: the uptime entry is made
  const std::string series = "sonde_check_uptime_ratio{check=\"jobs/fresh\",namespace=\"jobs\",";
  EXPECT_EQ(d.Get("/metrics").body.find(series), std::string::npos) << "nothing observed yet";
  ASSERT_EQ(Send(url).status, 200);
  const std::string metrics = d.Get("/metrics").body;
  EXPECT_NE(metrics.find(series + "window=\"1h\"} 1\n"), std::string::npos) << metrics;
}

TEST(DaemonHeartbeat, StartWithoutFinishIsCaughtAfterTheTimeout) {
  TempDir checks;
  checks.Write("hb.yaml",
               HeartbeatYaml("backup", "1h", "{grace: 1h, minRecordInterval: 1ms}", "1s"));
  DaemonProcess d(checks.path());
  const std::string url = HeartbeatUrl(d, "backup");
  // A start and a finish: the run's duration is measured from the start.
  ASSERT_EQ(Send(url + "/start").status, 200);
  EXPECT_EQ(State(d, "backup"), "running");
  std::this_thread::sleep_for(milliseconds(300));
  ASSERT_EQ(Send(url).status, 200);
  EXPECT_EQ(State(d, "backup"), "ok");
  const double took = Runs(d, "backup")[0].as_object().at("durationSeconds").to_number<double>();
  EXPECT_GE(took, 0.3);
  EXPECT_LT(took, 1.0);
  // A start with no finish: failing once the timeout (1s) has passed.
  ASSERT_EQ(Send(url + "/start").status, 200);
  const auto started = steady_clock::now();
  ASSERT_TRUE(Eventually([&] { return State(d, "backup") == "failing"; })) << d.log();
  EXPECT_GE(steady_clock::now() - started, milliseconds(900));
  const std::string error = FirstError(d, "backup");
  EXPECT_NE(error.find("did not report a result within its timeout of 1s"), std::string::npos)
      << error;
  EXPECT_EQ(Runs(d, "backup")[0].as_object().at("endedBy"), "timeout");
  // /fail with the Kuberhealthy body; a bad body is 400 and changes nothing.
  EXPECT_EQ(Send(url + "/fail", R"({"OK": true})").status, 400);
  EXPECT_EQ(Send(url, R"({"OK": tru)").status, 400);
  ASSERT_EQ(Send(url + "/fail", R"({"OK": false, "Errors": ["dump failed: disk full"]})").status,
            200);
  EXPECT_EQ(FirstError(d, "backup"), "dump failed: disk full");
  EXPECT_EQ(Send(d.url() + "/heartbeat/0123456789abcdef0123456789abcdef").status, 404);
  EXPECT_EQ(d.Post("/api/run?namespace=jobs&healthcheck=backup", "").status, 409);
}

TEST(DaemonHeartbeat, UrlSurvivesRestartsAndRotates) {
  TempDir checks, state;
  checks.Write("hb.yaml", HeartbeatYaml("etl", "1h", "{grace: 5m}"));
  std::string token;
  {
    DaemonProcess d(checks.path(), {"--state-dir", state.path()});
    const std::string url = HeartbeatUrl(d, "etl");
    token = url.substr(url.rfind('/') + 1);
    ASSERT_EQ(Send(url).status, 200);
  }
  // A new daemon on another port: the same token.
  DaemonProcess d(checks.path(), {"--state-dir", state.path()});
  const std::string url = HeartbeatUrl(d, "etl");
  EXPECT_EQ(url, d.url() + "/heartbeat/" + token);
  EXPECT_EQ(State(d, "etl"), "ok");
  // Rotation by the CLI: the new URL works, the old one is gone.
  const std::string cmd = SondeBinary() + " rotate-url jobs/etl --server " + d.url();
  FILE* p = popen(cmd.c_str(), "r");
  ASSERT_NE(p, nullptr);
  char buf[512] = {};
  const size_t n = fread(buf, 1, sizeof buf - 1, p);
  EXPECT_EQ(pclose(p), 0);
  std::string rotated(buf, n);
  while (!rotated.empty() && rotated.back() == '\n') rotated.pop_back();
  EXPECT_NE(rotated, url);
  EXPECT_EQ(HeartbeatUrl(d, "etl"), rotated);
  EXPECT_EQ(Send(url).status, 404);
  EXPECT_EQ(Send(rotated).status, 200);
  // `sonde status` shows it.
  FILE* s = popen((SondeBinary() + " status --server " + d.url()).c_str(), "r");
  ASSERT_NE(s, nullptr);
  std::string out;
  while (size_t m = fread(buf, 1, sizeof buf, s)) out.append(buf, m);
  pclose(s);
  EXPECT_NE(out.find(rotated), std::string::npos) << out;
}

// The daemon's due time follows the schedule in its zone: hourly at minute 0 in Asia/Kolkata
// (UTC+05:30) is minute 30 of every UTC hour. (DST changes: cron_test.cpp and engine_test.cpp,
// with an injected clock.)
TEST(DaemonHeartbeat, CronScheduleInItsTimeZoneSetsTheDueTime) {
  TempDir checks;
  checks.Write(
      "hb.yaml",
      "apiVersion: comcast.github.io/v1\nkind: KuberhealthyCheck\nmetadata: {name: hourly, "
      "namespace: jobs}\nspec:\n  heartbeat: {schedule: \"0 * * * *\", timezone: "
      "Asia/Kolkata}\n");
  const TimePoint before = std::chrono::time_point_cast<Duration>(std::chrono::system_clock::now());
  DaemonProcess d(checks.path());
  HeartbeatUrl(d, "hourly");
  const json::value hb = ApiCheck(d, "hourly").as_object().at("heartbeat");
  const std::string due = json::value_to<std::string>(hb.as_object().at("due"));
  EXPECT_EQ(due.substr(13), ":30:00Z") << due;
  const TimePoint at = ParseRfc3339(due).value();
  EXPECT_GT(at, before);
  EXPECT_LE(at - before, std::chrono::hours(1));
  EXPECT_EQ(hb.as_object().at("timezone"), "Asia/Kolkata");
  EXPECT_EQ(ApiCheck(d, "hourly").as_object().at("nextRun"), hb.as_object().at("due"));
}

// `sonde report` runs the command, passes its exit code through, and reports the failure with
// the exit code and the tail of the output.
TEST(DaemonHeartbeat, WrapperReportsExitCodeAndOutputTail) {
  TempDir checks;
  checks.Write("hb.yaml", HeartbeatYaml("wrapped", "1h", "{grace: 5m, minRecordInterval: 1ms}"));
  DaemonProcess d(checks.path());
  const std::string url = HeartbeatUrl(d, "wrapped");
  const std::string ok = SondeBinary() + " report --url " + url + " -- true >/dev/null";
  EXPECT_EQ(WEXITSTATUS(std::system(ok.c_str())), 0);
  EXPECT_EQ(State(d, "wrapped"), "ok");
  const std::string failing =
      SondeBinary() + " report --url " + url +
      " -- bash -c 'echo copying; echo \"disk full\" >&2; exit 3' >/dev/null";
  EXPECT_EQ(WEXITSTATUS(std::system(failing.c_str())), 3);
  const json::value c = ApiCheck(d, "wrapped");
  EXPECT_EQ(json::serialize(c.as_object().at("errors")),
            R"(["bash -c echo copying; echo \"disk full\" >&2; exit 3 exited with code 3",)"
            R"("output tail: copying\ndisk full"])");
  EXPECT_EQ(Runs(d, "wrapped").size(), 2u);
}

// A flood against one check is turned away by its rate limit, stores a bounded number of rows,
// and neither delays another heartbeat check's reports nor a process check's schedule.
TEST(DaemonHeartbeat, FloodAgainstOneCheckLeavesOthersAlone) {
  TempDir checks;
  checks.Write("run.sh", kReportOkNoHeader, true);
  checks.Write("c.yaml", CheckYaml({.name = "steady",
                                    .script = "run.sh",
                                    .interval = "1s",
                                    .kind = "HealthCheck",
                                    .ns = "jobs"}));
  checks.Write("flooded.yaml", HeartbeatYaml("flooded", "1h", "{grace: 5m, reportsPerMinute: 30}"));
  checks.Write("quiet.yaml", HeartbeatYaml("quiet", "1s", "{grace: 500ms}"));
  DaemonProcess d(checks.path());
  const std::string flooded = HeartbeatUrl(d, "flooded");
  const std::string quiet = HeartbeatUrl(d, "quiet");
  std::atomic<bool> stop{false};
  std::atomic<int> sent{0}, limited{0};
  std::vector<std::thread> flooders;
  for (int t = 0; t < 4; ++t) {
    flooders.emplace_back([&] {
      while (!stop) {
        auto r = HttpCall("POST", flooded, R"({"OK": true})", {}, std::chrono::seconds(5));
        ++sent;
        if (r.ok() && r.value().status == 429) ++limited;
      }
    });
  }
  // Meanwhile the quiet check reports every 300ms, and every answer is quick and positive.
  // (The bounds leave room for a loaded 2-core machine; unthrottled, the daemon would answer the
  // quiet check behind thousands of flood requests.)
  Duration slowest{};
  const auto end = steady_clock::now() + std::chrono::seconds(4);
  while (steady_clock::now() < end) {
    const auto t0 = steady_clock::now();
    const ClientResponse r = Send(quiet);
    slowest = std::max<Duration>(slowest, steady_clock::now() - t0);
    EXPECT_EQ(r.status, 200) << r.body;
    std::this_thread::sleep_for(milliseconds(300));
  }
  stop = true;
  for (auto& t : flooders) t.join();
  EXPECT_GT(sent.load(), 200) << "the flood was too weak to mean anything";
  EXPECT_GT(limited.load(), sent.load() / 2);
  EXPECT_LT(slowest, milliseconds(500));
  EXPECT_EQ(State(d, "quiet"), "ok");
  EXPECT_EQ(json::value_to<int64_t>(ApiCheck(d, "quiet").as_object().at("failureCount")), 0);
  // At most the burst (30) plus one row a second (minRecordInterval 1s) over ~4s.
  EXPECT_LE(Runs(d, "flooded").size(), 36u);
  // The process check kept its 1s schedule: no gap between runs much over the interval.
  const json::array steady = Runs(d, "steady");
  ASSERT_GE(steady.size(), 3u);
  for (size_t i = 1; i < steady.size(); ++i) {
    EXPECT_LT(Finished(steady[i - 1]) - Finished(steady[i]), milliseconds(2000));
  }
  const std::string metrics = d.Get("/metrics").body;
  EXPECT_NE(metrics.find("sonde_heartbeat_reports_total{check=\"jobs/flooded\",namespace=\"jobs\","
                         "result=\"rate_limited\"}"),
            std::string::npos);
}

}  // namespace
}  // namespace sonde::testing
