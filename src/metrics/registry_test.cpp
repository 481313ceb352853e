#include "metrics/registry.hpp"

#include <gtest/gtest.h>

#include <algorithm>

namespace sonde {
namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;

TEST(Histogram, CountsCumulativelyWithImplicitInf) {
  Histogram h("x_seconds", "X", {}, {1, 5});
  for (double v : {0.5, 1.0, 3.0, 7.0}) h.Observe({}, v);
  const HistogramCell* v = h.Find({});
  ASSERT_NE(v, nullptr);
  EXPECT_EQ(v->counts, (std::vector<uint64_t>{2, 3}));
  EXPECT_EQ(v->count, 4u);
  EXPECT_DOUBLE_EQ(v->sum, 11.5);
  // A series keeps only its counts; what it exposes carries the instrument's bounds.
  const Family f = h.Collect();
  ASSERT_EQ(f.series.size(), 1u);
  EXPECT_EQ(f.series[0].histogram.bounds, (std::vector<double>{1, 5}));
  EXPECT_EQ(f.series[0].histogram.counts, (std::vector<uint64_t>{2, 3}));
  EXPECT_EQ(f.series[0].histogram.count, 4u);
  EXPECT_DOUBLE_EQ(f.series[0].histogram.sum, 11.5);
  h.Ensure({});  // an existing series is left as it is
  EXPECT_EQ(h.Find({})->counts, (std::vector<uint64_t>{2, 3}));
}

TEST(Counter, IgnoresNegativeIncrementsAndPadsLabelValues) {
  Counter c("x_total", "X", {"a", "b"});
  c.Inc({"1", "2"}, 2);
  c.Inc({"1", "2"}, -5);
  c.Inc({"only-a"});
  EXPECT_EQ(c.Get({"1", "2"}), 2);
  EXPECT_EQ(c.Get({"only-a", ""}), 1);
  EXPECT_EQ(c.Collect().series.size(), 2u);
}

TEST(SondeMetrics, ReportReasonsAreBounded) {
  struct Case {
    int status;
    std::string reason;
    std::vector<std::string> want;  // result, reason
  };
  const Case cases[] = {
      {200, "", {"accepted", "ok"}},
      {200, "whatever", {"accepted", "ok"}},
      {400, "", {"rejected", "malformed"}},
      {400, "unknown_run", {"rejected", "unknown_run"}},
      {400, "missing_run_id", {"rejected", "missing_run_id"}},
      {405, "", {"rejected", "wrong_method"}},
      {410, "", {"rejected", "gone"}},
      {413, "", {"rejected", "too_large"}},
      {415, "", {"rejected", "content_type"}},
      {431, "", {"rejected", "headers_too_large"}},
      {503, "", {"rejected", "other"}},
      {400, "/raw/path?x=1", {"rejected", "other"}},
  };
  for (const Case& c : cases) {
    SondeMetrics m("v");
    m.ReportAnswered(c.status, c.reason);
    EXPECT_EQ(m.reports().Get(c.want), 1) << c.status << " " << c.reason;
  }
  SondeMetrics fresh("v");
  // Every known series exists at zero before the first report, so rate() sees the first one.
  EXPECT_EQ(fresh.reports().size(), SondeMetrics::ReportReasons().size() + 1);
}

TEST(SondeMetrics, RunsByOutcomeAndPerCheckDuration) {
  SondeMetrics m("v");
  m.RunStarted();
  m.RunStarted();
  m.RunFinished({"ns", "a"}, RunOutcome::kOk, seconds(2));
  m.RunFinished({"ns", "a"}, RunOutcome::kTimeout, seconds(30));
  m.RunFinished({"ns", "a"}, RunOutcome::kRemoved, seconds(1));
  EXPECT_EQ(m.runs_started().Get({}), 2);
  EXPECT_EQ(m.runs_finished().Get({"ok"}), 1);
  EXPECT_EQ(m.runs_finished().Get({"timeout"}), 1);
  EXPECT_EQ(m.runs_finished().Get({"removed"}), 1);
  EXPECT_EQ(m.runs_finished().Get({"interrupted"}), 0);
  const HistogramCell* h = m.run_duration().Find({"ns/a", "ns"});
  ASSERT_NE(h, nullptr);
  EXPECT_EQ(h->count, 2u) << "removed runs say nothing about the checker";
  m.ForgetCheck({"ns", "a"});
  EXPECT_EQ(m.run_duration().Find({"ns/a", "ns"}), nullptr);
}

TEST(SondeMetrics, CollectHidesChecksThatAreGone) {
  SondeMetrics m("v");
  m.RunFinished({"ns", "kept"}, RunOutcome::kOk, seconds(1));
  m.RunFinished({"ns", "gone"}, RunOutcome::kOk, seconds(1));
  for (const Family& f : m.Collect({"ns/kept"})) {
    if (f.name != "sonde_run_duration_seconds") continue;
    ASSERT_EQ(f.series.size(), 1u);
    EXPECT_EQ(f.series[0].labels[0].value, "ns/kept");
  }
}

TEST(SondeMetrics, CertificateExpiryIsSetReplacedAndDropped) {
  SondeMetrics m("v");
  const CheckKey key{"probes", "shop"};
  m.CertificateExpiry(key, FromUnixSeconds(1'800'000'000));
  m.CertificateExpiry(key, FromUnixSeconds(1'900'000'000));
  std::vector<Family> families = m.Collect({"probes/shop"});
  auto it = std::find_if(families.begin(), families.end(), [](const Family& f) {
    return f.name == "sonde_certificate_expiry_timestamp_seconds";
  });
  ASSERT_NE(it, families.end());
  ASSERT_EQ(it->series.size(), 1u);
  EXPECT_EQ(it->series[0].value, 1'900'000'000.0);
  m.CertificateExpiry(key, std::nullopt);  // the last run saw no certificate
  EXPECT_EQ(m.certificate_expiry().size(), 0u);
  m.CertificateExpiry(key, FromUnixSeconds(1'800'000'000));
  m.ForgetCheck(key);
  EXPECT_EQ(m.certificate_expiry().size(), 0u);
}

TEST(SondeMetrics, HttpSeriesAreCapped) {
  SondeMetrics m("v");
  for (size_t i = 0; i < SondeMetrics::kMaxHttpSeries + 50; ++i) {
    m.HttpAnswered("/raw/" + std::to_string(i), 404);
  }
  EXPECT_LE(m.http_requests().size(), SondeMetrics::kMaxHttpSeries + 1);
  EXPECT_EQ(m.http_requests().Get({"other", "404"}), 50);
  m.HttpAnswered("/raw/0", 404);
  EXPECT_EQ(m.http_requests().Get({"/raw/0", "404"}), 2) << "existing series still count";
}

TEST(SondeMetrics, SchedulerFiguresAndClampedLateness) {
  SondeMetrics m("v");
  m.SchedulerLoop(milliseconds(3), 4);
  EXPECT_EQ(m.last_loop_duration(), milliseconds(3));
  EXPECT_EQ(m.last_due_checks(), 4u);
  m.SchedulerLateness(-seconds(1));
  m.SpawnLatency(milliseconds(2));
  EXPECT_EQ(m.scheduler_lateness().Find({})->counts.front(), 1u);
  EXPECT_DOUBLE_EQ(m.scheduler_lateness().Find({})->sum, 0);
  EXPECT_EQ(m.spawn_latency().Find({})->count, 1u);
}

}  // namespace
}  // namespace sonde
