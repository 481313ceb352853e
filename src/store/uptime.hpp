// Uptime arithmetic shared by every store: time-weighted uptime from runs, duration statistics,
// and the duration histogram that roll-ups keep. Pure values and functions; thread-safe.
//
// Time-weighting (see UptimeStats in store.hpp): a check's timeline starts at its first run's
// point; from each run's point to the next one's it is in that run's state, and after the last
// run it stays in that state until `now`.
#pragma once

#include <array>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "core/result.hpp"
#include "store/store.hpp"

namespace sonde {

// One run as uptime sees it: its timeline point (see TimelinePoint), result and duration.
struct UptimeSample {
  TimePoint at;
  bool ok = false;
  Duration duration{};
};

// Counts of run durations in fixed log-scale buckets, mergeable across roll-up rows.
// Bucket 0 holds [0, 1ms) (and negative durations); bucket i >= 1 holds
// [1ms * 2^((i-1)/8), 1ms * 2^(i/8)); the last bucket also holds everything longer (from ~4.6h).
// Approximation: a quantile is reported as the geometric middle of the bucket it falls in, so it
// is within a factor 2^(1/16) (about +-4.4%) of a true run duration in that bucket; in bucket 0
// it is 0.5ms (within 0.5ms); in the last bucket it is that bucket's lower bound.
class DurationHistogram {
 public:
  static constexpr int kBucketsPerDoubling = 8;
  static constexpr int kDoublings = 24;  // 1ms * 2^24 is about 4.66h
  static constexpr int kBuckets = kBucketsPerDoubling * kDoublings + 2;

  static int BucketOf(Duration d);
  // The duration a quantile falling in `bucket` is reported as.
  static Duration Representative(int bucket);

  void Add(Duration d, int64_t count = 1);
  void Merge(const DurationHistogram& other);
  int64_t count() const { return count_; }
  // Nearest-rank quantile (q in (0, 1]), bucket-approximated; none when empty.
  std::optional<Duration> Quantile(double q) const;

  // A compact text-free blob: (bucket, count) varint pairs for non-empty buckets.
  std::string Encode() const;
  static Result<DurationHistogram> Decode(std::string_view blob);
  // Encode() of Decode(blob) with `count` runs of `d` added, without decoding into the bucket
  // array, into `out`; false (out unspecified) when `blob` is not as Encode() writes it
  // (buckets strictly increasing, counts in range) or `count` is not positive: then decode it.
  static bool AddEncoded(std::string_view blob, Duration d, int64_t count, std::string& out);
  // Encode() of Decode(a) merged with Decode(b), the same way: false when either is not as
  // Encode() writes it.
  static bool MergeEncoded(std::string_view a, std::string_view b, std::string& out);

  bool operator==(const DurationHistogram&) const = default;

 private:
  std::array<int64_t, kBuckets> counts_{};
  int64_t count_ = 0;
};

// Sums that add up across pieces of a window (raw runs, hourly and daily roll-ups).
struct UptimeTotals {
  Duration ok{};
  Duration observed{};
  int64_t runs = 0;
  Duration duration_sum{};
  DurationHistogram histogram;

  void AddRun(Duration duration);
  // Time in state `ok` over [from, to) (nothing when to <= from).
  void AddTime(TimePoint from, TimePoint to, bool is_ok);
  void Merge(const UptimeTotals& other);
};

// The stats for `window` from totals; p95 from the histogram (approximated as documented).
UptimeStats StatsFromTotals(Duration window, const UptimeTotals& totals);

// Exact uptime over [now - window, now] from a check's samples ordered by `at` (ties in commit
// order). Samples outside the window may be included: only the last one before the window and
// those inside it matter. p95 is exact (nearest rank).
UptimeStats ComputeUptime(std::span<const UptimeSample> samples, Duration window, TimePoint now);

// Nearest-rank quantile (q in (0, 1]) of `values`, exact; none when empty.
std::optional<Duration> NearestRankQuantile(std::vector<Duration> values, double q);

// Length of the overlap of [a0, a1) and [b0, b1).
Duration Overlap(TimePoint a0, TimePoint a1, TimePoint b0, TimePoint b1);

// Start of the bucket of width `size` (aligned to the Unix epoch) holding t.
TimePoint BucketStart(TimePoint t, Duration size);

// Splits [from, to) at bucket boundaries of width `size`: fn(bucket_start, part) for each
// bucket it touches, in order.
template <class Fn>
void ForEachBucket(TimePoint from, TimePoint to, Duration size, Fn&& fn) {
  while (from < to) {
    const TimePoint start = BucketStart(from, size);
    const TimePoint end = std::min(start + size, to);
    fn(start, end - from);
    from = end;
  }
}

}  // namespace sonde
