#include "store/uptime.hpp"

#include <gtest/gtest.h>

#include <cmath>

namespace sonde {
namespace {

using std::chrono::hours;
using std::chrono::milliseconds;
using std::chrono::minutes;
using std::chrono::seconds;

const TimePoint kNow = FromUnixSeconds(1'700'000'000);

UptimeSample S(Duration before_now, bool ok, Duration d = seconds(1)) {
  return {kNow - before_now, ok, d};
}

struct Case {
  const char* name;
  std::vector<UptimeSample> samples;
  Duration window;
  std::optional<double> uptime;
  Duration observed;
  int64_t runs;
};

TEST(UptimeTest, TimeWeightedEdgeRules) {
  const std::vector<Case> cases = {
      {"nothing", {}, hours(1), std::nullopt, {}, 0},
      {"only after now", {S(-minutes(1), true)}, hours(1), std::nullopt, {}, 0},
      {"one ok run before the window covers it all",
       {S(hours(2), true)},
       hours(1),
       1.0,
       hours(1),
       0},
      {"one failed run before the window", {S(hours(2), false)}, hours(1), 0.0, hours(1), 0},
      {"time before the first run is not observed",
       {S(minutes(15), true)},
       hours(1),
       1.0,
       minutes(15),
       1},
      {"the earlier run's state holds until the next",
       {S(hours(2), false), S(minutes(45), true), S(minutes(15), false)},
       hours(1),
       30.0 / 60.0,
       hours(1),
       2},
      {"a run at the window start counts and sets the state",
       {S(hours(2), false), S(hours(1), true)},
       hours(1),
       1.0,
       hours(1),
       1},
      {"a run at now counts but weighs nothing",
       {S(minutes(30), true), S(Duration(0), false)},
       hours(1),
       1.0,
       minutes(30),
       2},
      {"only the last run before the window matters",
       {S(hours(3), true), S(hours(2), false), S(minutes(30), true)},
       hours(1),
       0.5,
       hours(1),
       1},
      {"runs after now are ignored",
       {S(minutes(30), false), S(-minutes(1), true)},
       hours(1),
       0.0,
       minutes(30),
       1},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.name);
    const UptimeStats u = ComputeUptime(c.samples, c.window, kNow);
    EXPECT_EQ(u.window, c.window);
    EXPECT_EQ(u.uptime, c.uptime);
    EXPECT_EQ(u.observed, c.observed);
    EXPECT_EQ(u.runs, c.runs);
  }
}

TEST(UptimeTest, DurationMeanAndExactP95) {
  std::vector<UptimeSample> samples;
  for (int i = 1; i <= 100; ++i) samples.push_back(S(minutes(101 - i), true, seconds(i)));
  const UptimeStats u = ComputeUptime(samples, hours(2), kNow);
  EXPECT_EQ(u.runs, 100);
  EXPECT_EQ(u.mean_duration, milliseconds(50'500));
  EXPECT_EQ(u.p95_duration, seconds(95));  // nearest rank: the 95th smallest of 100
  const UptimeStats one = ComputeUptime({{S(minutes(1), true, seconds(7))}}, hours(1), kNow);
  EXPECT_EQ(one.p95_duration, seconds(7));
}

TEST(UptimeTest, HistogramBucketsAreLogScale) {
  EXPECT_EQ(DurationHistogram::BucketOf(Duration(0)), 0);
  EXPECT_EQ(DurationHistogram::BucketOf(-seconds(1)), 0);
  EXPECT_EQ(DurationHistogram::BucketOf(milliseconds(1)), 1);
  EXPECT_EQ(DurationHistogram::BucketOf(milliseconds(2)),
            1 + DurationHistogram::kBucketsPerDoubling);
  EXPECT_EQ(DurationHistogram::BucketOf(hours(100)), DurationHistogram::kBuckets - 1);
  // Every representative lies within the documented factor of its bucket's durations.
  const double factor = std::exp2(1.0 / 16) + 1e-9;
  for (int64_t ms : {1, 3, 17, 250, 1000, 4321, 60'000, 3'600'000}) {
    const Duration d = milliseconds(ms) + std::chrono::microseconds(ms * 7 % 1000);
    const Duration rep = DurationHistogram::Representative(DurationHistogram::BucketOf(d));
    const double ratio = static_cast<double>(rep.count()) / static_cast<double>(d.count());
    EXPECT_LE(ratio, factor) << ms;
    EXPECT_GE(ratio, 1 / factor) << ms;
  }
}

TEST(UptimeTest, HistogramQuantileMergeAndEncoding) {
  DurationHistogram a;
  DurationHistogram b;
  EXPECT_FALSE(a.Quantile(0.95).has_value());
  for (int i = 1; i <= 50; ++i) a.Add(seconds(i));
  for (int i = 51; i <= 100; ++i) b.Add(seconds(i));
  a.Merge(b);
  EXPECT_EQ(a.count(), 100);
  const Duration p95 = *a.Quantile(0.95);
  EXPECT_NEAR(static_cast<double>(p95.count()) / 1e9, 95.0, 95.0 * 0.045);
  auto decoded = DurationHistogram::Decode(a.Encode());
  ASSERT_TRUE(decoded.ok());
  EXPECT_EQ(decoded.value(), a);
  EXPECT_TRUE(DurationHistogram::Decode("").ok());
  EXPECT_FALSE(DurationHistogram::Decode("\xff").ok());
  EXPECT_FALSE(DurationHistogram::Decode(std::string("\xc8\x01\x01", 3)).ok());  // bucket 200
}

// AddEncoded (the roll-ups' fast path) gives the bytes of Decode + Add + Encode for every blob
// Encode writes, and refuses the rest (the caller then decodes).
TEST(UptimeTest, AddEncodedMatchesDecodeAddEncode) {
  auto encoded = [](std::vector<Duration> runs) {
    DurationHistogram h;
    for (Duration d : runs) h.Add(d);
    return h.Encode();
  };
  struct AddCase {
    const char* name;
    std::string blob;
    Duration add;
    int64_t count;
    bool fast;  // AddEncoded takes it
  };
  const std::string big_count = [] {
    DurationHistogram h;
    h.Add(seconds(1), int64_t{1} << 40);
    return h.Encode();
  }();
  const std::vector<AddCase> cases = {
      {"empty", "", seconds(1), 1, true},
      {"same bucket", encoded({seconds(1), seconds(1)}), seconds(1), 1, true},
      {"before the first", encoded({seconds(5), minutes(3)}), milliseconds(3), 1, true},
      {"between two", encoded({milliseconds(3), minutes(3)}), seconds(5), 1, true},
      {"after the last", encoded({milliseconds(3), seconds(5)}), hours(1), 1, true},
      {"below the base", encoded({seconds(1)}), Duration(0), 1, true},
      {"beyond the top", encoded({seconds(1)}), hours(100), 1, true},
      {"several runs", encoded({seconds(1), seconds(2)}), seconds(2), 7, true},
      {"a large count", big_count, seconds(1), 1, true},
      {"many buckets",
       encoded({milliseconds(1), milliseconds(10), milliseconds(100), seconds(1), seconds(10),
                minutes(10), hours(2)}),
       seconds(3), 1, true},
      {"a zero count is left out", std::string("\x01\x00\x09\x02", 4), seconds(1), 1, true},
      {"a longer varint than needed", std::string("\x81\x00\x02", 3), seconds(1), 1, true},
      {"buckets out of order", std::string("\x09\x01\x01\x01", 4), seconds(1), 1, false},
      {"a bucket twice", std::string("\x09\x01\x09\x01", 4), seconds(1), 1, false},
      {"bucket out of range", std::string("\xc8\x01\x01", 3), seconds(1), 1, false},
      {"truncated", "\xff", seconds(1), 1, false},
      {"no runs", encoded({seconds(1)}), seconds(1), 0, false},
  };
  for (const AddCase& c : cases) {
    SCOPED_TRACE(c.name);
    std::string fast;
    ASSERT_EQ(DurationHistogram::AddEncoded(c.blob, c.add, c.count, fast), c.fast);
    if (!c.fast) continue;
    auto decoded = DurationHistogram::Decode(c.blob);
    ASSERT_TRUE(decoded.ok());
    decoded.value().Add(c.add, c.count);
    EXPECT_EQ(fast, decoded.value().Encode());
  }
}

TEST(UptimeTest, ForEachBucketSplitsAtBoundaries) {
  const TimePoint h = FromUnixSeconds(3600 * 1000);
  std::vector<std::pair<TimePoint, Duration>> parts;
  ForEachBucket(h - minutes(10), h + hours(1) + minutes(5), hours(1),
                [&](TimePoint start, Duration part) { parts.emplace_back(start, part); });
  ASSERT_EQ(parts.size(), 3u);
  EXPECT_EQ(parts[0], std::make_pair(h - hours(1), Duration(minutes(10))));
  EXPECT_EQ(parts[1], std::make_pair(h, Duration(hours(1))));
  EXPECT_EQ(parts[2], std::make_pair(h + hours(1), Duration(minutes(5))));
  EXPECT_EQ(BucketStart(FromUnixSeconds(-1), hours(1)), FromUnixSeconds(-3600));
}

TEST(UptimeTest, TotalsGiveStats) {
  UptimeTotals t;
  t.AddTime(kNow, kNow + minutes(30), true);
  t.AddTime(kNow + minutes(30), kNow + minutes(40), false);
  t.AddTime(kNow, kNow, true);  // empty
  t.AddRun(seconds(2));
  t.AddRun(seconds(4));
  const UptimeStats s = StatsFromTotals(hours(1), t);
  EXPECT_EQ(s.observed, minutes(40));
  EXPECT_DOUBLE_EQ(*s.uptime, 0.75);
  EXPECT_EQ(s.mean_duration, seconds(3));
  EXPECT_EQ(Overlap(kNow, kNow + hours(1), kNow + minutes(50), kNow + hours(2)), minutes(10));
  EXPECT_EQ(Overlap(kNow, kNow + hours(1), kNow + hours(2), kNow + hours(3)), Duration(0));
}

}  // namespace
}  // namespace sonde
