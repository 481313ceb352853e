// In-process probes in the real daemon: checks with spec.probe run inside its event loop
// against servers this test starts on loopback, and end up on the status page like any check.
#include <gtest/gtest.h>

#include <algorithm>
#include <boost/asio/ip/tcp.hpp>
#include <boost/json.hpp>

#include "core/clock.hpp"
#include "server/test_server.hpp"
#include "support/checks.hpp"

namespace sonde::testing {
namespace {

namespace json = boost::json;
namespace asio = boost::asio;

boost::asio::awaitable<HttpResponse> Target(HttpRequest r) {
  HttpResponse out;
  if (r.path == "/health") {
    out.body = R"({"status":"UP","version":"1.2.3"})";
  } else {
    out.status = 503;
    out.body = R"({"status":"DOWN"})";
  }
  co_return out;
}

uint16_t ClosedPort() {
  asio::io_context io;
  asio::ip::tcp::acceptor a(io, {asio::ip::make_address("127.0.0.1"), 0});
  return a.local_endpoint().port();
}

std::string ProbeCheck(const std::string& name, const std::string& interval,
                       const std::string& probe) {
  return "---\napiVersion: comcast.github.io/v1\nkind: KuberhealthyCheck\nmetadata:\n  name: " +
         name + "\n  namespace: probes\nspec:\n  runInterval: " + interval +
         "\n  timeout: 5s\n  probe:\n" + probe;
}

std::vector<std::string> Errors(const json::value& detail) {
  std::vector<std::string> out;
  if (!detail.as_object().contains("errors")) return out;
  for (const auto& e : detail.at("errors").as_array()) out.emplace_back(e.as_string());
  return out;
}

TEST(DaemonProbe, ProbesRunInProcessAndReportWhatTheySaw) {
  TestServer target(Target);
  const std::string base = "http://127.0.0.1:" + std::to_string(target.port());
  const uint16_t closed = ClosedPort();
  TempDir checks;
  checks.Write("probes.yaml",
               ProbeCheck("up", "1s",
                          "    http:\n      url: " + base +
                              "/health\n    conditions:\n      - \"[STATUS] == 200\"\n"
                              "      - \"[BODY].status == UP\"\n      - \"[RESPONSE_TIME] < 2s\"\n") +
                   ProbeCheck("down", "1s",
                              "    http:\n      url: " + base +
                                  "/down\n    conditions:\n      - \"[STATUS] == 2xx\"\n"
                                  "      - \"[BODY].status == UP\"\n") +
                   ProbeCheck("closed", "1s",
                              "    tcp:\n      address: 127.0.0.1:" + std::to_string(closed) +
                                  "\n"));
  DaemonProcess d(checks.path());
  json::value up, down, closed_detail;
  ASSERT_TRUE(Eventually([&] {
    up = CheckDetail(d, "probes/up");
    down = CheckDetail(d, "probes/down");
    closed_detail = CheckDetail(d, "probes/closed");
    return up.is_object() && up.as_object().contains("lastRunUnix") && down.is_object() &&
           down.as_object().contains("lastRunUnix") && closed_detail.is_object() &&
           closed_detail.as_object().contains("lastRunUnix");
  })) << d.log();
  EXPECT_TRUE(up.at("ok").as_bool()) << json::serialize(up);
  EXPECT_FALSE(down.at("ok").as_bool());
  EXPECT_EQ(Errors(down), (std::vector<std::string>{"[STATUS] == 2xx: got 503",
                                                    "[BODY].status == UP: got DOWN"}));
  const std::string where = "127.0.0.1:" + std::to_string(closed);
  EXPECT_EQ(Errors(closed_detail),
            std::vector<std::string>{"tcp://" + where + ": connect " + where +
                                     ": Connection refused"});
  // A probe's run takes no report.
  const ClientResponse history = d.Get("/api/history?namespace=probes&healthcheck=up&limit=1");
  ASSERT_EQ(history.status, 200) << history.body;
  const std::string uuid(json::parse(history.body).at("runs").at(0).at("runUuid").as_string());
  const ClientResponse report =
      d.Post("/externalCheckStatus?kh-run-uuid=" + uuid, R"({"OK":false,"Errors":["x"]})");
  EXPECT_EQ(report.status, 410) << report.body;
  EXPECT_NE(report.body.find("is an in-process probe's run, which takes no reports"),
            std::string::npos)
      << report.body;
  // Probes run again every second.
  ASSERT_TRUE(Eventually([&] {
    const json::value again = CheckDetail(d, "probes/up");
    return again.is_object() && again.at("successCount").as_int64() >= 3;
  }));
}

TEST(DaemonProbe, InvalidProbeIsRejectedWithItsPosition) {
  TempDir checks;
  checks.Write("bad.yaml", ProbeCheck("bad", "1s",
                                      "    http:\n      url: http://127.0.0.1:1/\n"
                                      "    conditions:\n      - \"[DNS_RCODE] == NOERROR\"\n"));
  DaemonProcess d(checks.path());
  const json::value doc = GetJson(d, "/");
  const auto& errors = doc.at("Errors").as_array();
  ASSERT_EQ(errors.size(), 1u) << json::serialize(doc);
  EXPECT_EQ(std::string(errors[0].as_string()),
            checks.path() +
                "/bad.yaml:14:9: spec.probe.conditions[0]: [DNS_RCODE] is not available to http "
                "probes; they offer [STATUS], [BODY], [RESPONSE_TIME], [CONNECTED], [IP] and "
                "[CERTIFICATE_EXPIRATION]");
}

// Issue #5's load test: 1000 in-process HTTP probes at a 1 s interval against one loopback
// server for a few seconds; every probe must run every second. Numbers go to the test log.
#ifdef __SANITIZE_ADDRESS__
// Sanitizers make every probe several times dearer; the load test keeps its shape at a fifth.
constexpr int kLoadTestProbes = 200;
#else
constexpr int kLoadTestProbes = 1000;
#endif

TEST(DaemonProbe, ThousandHttpProbesEverySecondRunOnTime) {
  constexpr int kProbes = kLoadTestProbes;
  constexpr auto kWindow = std::chrono::seconds(6);
  TestServer target(Target);
  const std::string url = "http://127.0.0.1:" + std::to_string(target.port()) + "/health";
  std::string all;
  for (int i = 0; i < kProbes; ++i) {
    all += ProbeCheck("p" + std::to_string(i), "1s",
                      "    http:\n      url: " + url + "\n    conditions: [\"[STATUS] == 200\"]\n");
  }
  TempDir checks;
  checks.Write("many.yaml", all);
  DaemonProcess d(checks.path(), {"--max-concurrent-runs", "256"});
  // Measured: starts after every probe's first run (spread over its first second) and before
  // this test starts reading histories, which loads the daemon's loop.
  const TimePoint from = SystemClock().Now() + std::chrono::milliseconds(1500);
  std::this_thread::sleep_for(kWindow);
  const TimePoint to = SystemClock().Now();

  std::vector<double> gaps_ms;  // between consecutive starts of one check
  int failed_runs = 0, fewest_runs = 1 << 30;
  for (int i = 0; i < kProbes; ++i) {
    const ClientResponse r =
        d.Get("/api/history?namespace=probes&healthcheck=p" + std::to_string(i) + "&limit=100");
    ASSERT_EQ(r.status, 200) << r.body;
    const json::array runs = json::parse(r.body).at("runs").as_array();
    std::vector<TimePoint> starts;
    for (const auto& run : runs) {
      const TimePoint started = ParseRfc3339(run.at("started").as_string()).value();
      if (started < from || started > to) continue;
      if (!run.at("ok").as_bool()) ++failed_runs;
      starts.push_back(started);
    }
    std::sort(starts.begin(), starts.end());
    fewest_runs = std::min<int>(fewest_runs, static_cast<int>(starts.size()));
    for (size_t k = 1; k < starts.size(); ++k) {
      gaps_ms.push_back(std::chrono::duration<double, std::milli>(starts[k] - starts[k - 1]).count());
    }
  }
  ASSERT_FALSE(gaps_ms.empty());
  std::sort(gaps_ms.begin(), gaps_ms.end());
  const auto at = [&](double q) { return gaps_ms[static_cast<size_t>(q * (gaps_ms.size() - 1))]; };
  const double late_p50 = at(0.50) - 1000, late_p99 = at(0.99) - 1000;
  const double late_max = gaps_ms.back() - 1000;
  std::printf("%d probes @1s, %lld s measured: %zu intervals, fewest runs per probe %d, failed %d, "
              "start lateness p50 %.2f ms, p99 %.2f ms, max %.2f ms\n",
              kProbes, static_cast<long long>(std::chrono::duration_cast<std::chrono::seconds>(to - from).count()),
              gaps_ms.size(), fewest_runs, failed_runs,
              late_p50, late_p99, late_max);
  RecordProperty("late_p99_ms", std::to_string(late_p99));
  EXPECT_EQ(failed_runs, 0);
  // 4.5 s measured: every probe started at least 4 times.
  EXPECT_GE(fewest_runs, 4);
  // Generous bounds for a shared 2-core machine and sanitizer builds; the benchmark suite
  // holds the tight target (p99 under 10 ms).
  EXPECT_LT(late_p99, 250.0);
  EXPECT_GT(at(0.01), 900.0) << "runs came faster than their interval";
}

}  // namespace
}  // namespace sonde::testing
