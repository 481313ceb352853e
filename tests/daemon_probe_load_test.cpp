// Issue #5's load test, alone in its binary so that CTest runs it with nothing beside it:
// 1000 in-process HTTP probes at a 1 s interval against one loopback server for a few
// seconds; every probe must run every second. The numbers go to the test log.
#include <gtest/gtest.h>

#include <algorithm>
#include <boost/json.hpp>
#include <thread>

#include "core/clock.hpp"
#include "server/test_server.hpp"
#include "support/checks.hpp"

namespace sonde::testing {
namespace {

namespace json = boost::json;

boost::asio::awaitable<HttpResponse> Healthy(HttpRequest) {
  HttpResponse out;
  out.body = R"({"status":"UP"})";
  co_return out;
}

#ifdef __SANITIZE_ADDRESS__
// Sanitizers make every probe several times dearer; the load test keeps its shape at a fifth.
constexpr int kLoadTestProbes = 200;
#else
constexpr int kLoadTestProbes = 1000;
#endif

TEST(DaemonProbe, ThousandHttpProbesEverySecondRunOnTime) {
  constexpr int kProbes = kLoadTestProbes;
  constexpr auto kWindow = std::chrono::seconds(6);
  TestServer target(Healthy);
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

  // Lateness behind each check's 1 s cadence: the k-th start minus k s, minus the check's
  // smallest such offset in the window (its most punctual start, left out). The scheduler keeps
  // the cadence, so start - previous start - 1 s would credit a late start to the next one.
  std::vector<double> late_ms;
  double shortest_gap_ms = 1e9;  // between consecutive starts of one check
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
    std::vector<double> offsets_ms;
    for (size_t k = 0; k < starts.size(); ++k) {
      offsets_ms.push_back(
          std::chrono::duration<double, std::milli>(starts[k] - starts[0]).count() - 1000.0 * k);
      if (k > 0) {
        shortest_gap_ms =
            std::min(shortest_gap_ms,
                     std::chrono::duration<double, std::milli>(starts[k] - starts[k - 1]).count());
      }
    }
    if (offsets_ms.empty()) continue;
    const auto punctual = std::min_element(offsets_ms.begin(), offsets_ms.end());
    for (auto it = offsets_ms.begin(); it != offsets_ms.end(); ++it) {
      if (it != punctual) late_ms.push_back(*it - *punctual);
    }
  }
  ASSERT_FALSE(late_ms.empty());
  std::sort(late_ms.begin(), late_ms.end());
  const auto at = [&](double q) { return late_ms[static_cast<size_t>(q * (late_ms.size() - 1))]; };
  const double late_p50 = at(0.50), late_p99 = at(0.99), late_max = late_ms.back();
  std::printf(
      "%d probes @1s, %lld s measured: %zu intervals, fewest runs per probe %d, failed %d, "
      "start lateness p50 %.2f ms, p99 %.2f ms, max %.2f ms\n",
      kProbes,
      static_cast<long long>(std::chrono::duration_cast<std::chrono::seconds>(to - from).count()),
      late_ms.size(), fewest_runs, failed_runs, late_p50, late_p99, late_max);
  RecordProperty("late_p99_ms", std::to_string(late_p99));
  EXPECT_EQ(failed_runs, 0);
  // 4.5 s measured: every probe started at least 4 times.
  EXPECT_GE(fewest_runs, 4);
  // Generous bounds for a shared 2-core machine and sanitizer builds; the benchmark suite
  // holds the tight target (p99 under 10 ms).
  EXPECT_LT(late_p99, 250.0);
  // A late run keeps the cadence, so the next may follow sooner, but never by less than half
  // an interval.
  EXPECT_GE(shortest_gap_ms, 500.0) << "runs came faster than their interval allows";
}

}  // namespace
}  // namespace sonde::testing
