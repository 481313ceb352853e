#include "store/uptime.hpp"

#include <algorithm>
#include <cmath>
#include <vector>

namespace sonde {
namespace {

constexpr Duration kBase = std::chrono::milliseconds(1);

void PutVarint(std::string& out, uint64_t v) {
  while (v >= 0x80) {
    out.push_back(static_cast<char>((v & 0x7f) | 0x80));
    v >>= 7;
  }
  out.push_back(static_cast<char>(v));
}

bool GetVarint(std::string_view& in, uint64_t& v) {
  v = 0;
  for (int shift = 0; shift < 64 && !in.empty(); shift += 7) {
    const auto byte = static_cast<uint8_t>(in.front());
    in.remove_prefix(1);
    v |= uint64_t{byte & 0x7fu} << shift;
    if ((byte & 0x80) == 0) return true;
  }
  return false;
}

// Reads the next (bucket, count) pair of an encoded histogram whose buckets must rise above
// `previous` (updated); false at the end (`*bad` false) or on anything Encode() does not write.
bool NextPair(std::string_view& in, int64_t& previous, uint64_t& bucket, uint64_t& count, bool* bad,
              int buckets) {
  *bad = false;
  if (in.empty()) return false;
  if (!GetVarint(in, bucket) || !GetVarint(in, count) || bucket >= static_cast<uint64_t>(buckets) ||
      count > (uint64_t{1} << 62) || static_cast<int64_t>(bucket) <= previous) {
    *bad = true;
    return false;
  }
  previous = static_cast<int64_t>(bucket);
  return true;
}

// Nearest rank: the ceil(q * n)-th smallest, counting from 1.
int64_t Rank(double q, int64_t n) {
  return std::clamp<int64_t>(static_cast<int64_t>(std::ceil(q * static_cast<double>(n))), 1, n);
}

}  // namespace

int DurationHistogram::BucketOf(Duration d) {
  if (d < kBase) return 0;
  const double doublings =
      std::log2(static_cast<double>(d.count()) / static_cast<double>(kBase.count()));
  const auto i = static_cast<int>(std::floor(doublings * kBucketsPerDoubling)) + 1;
  return std::min(i, kBuckets - 1);
}

Duration DurationHistogram::Representative(int bucket) {
  if (bucket <= 0) return kBase / 2;
  // Geometric middle of [base * 2^((b-1)/k), base * 2^(b/k)); the last bucket has no top.
  const double exponent = bucket == kBuckets - 1
                              ? static_cast<double>(bucket - 1) / kBucketsPerDoubling
                              : (static_cast<double>(bucket) - 0.5) / kBucketsPerDoubling;
  return Duration(
      static_cast<int64_t>(std::llround(static_cast<double>(kBase.count()) * std::exp2(exponent))));
}

void DurationHistogram::Add(Duration d, int64_t count) {
  counts_[static_cast<size_t>(BucketOf(d))] += count;
  count_ += count;
}

void DurationHistogram::Merge(const DurationHistogram& other) {
  for (size_t i = 0; i < counts_.size(); ++i) counts_[i] += other.counts_[i];
  count_ += other.count_;
}

std::optional<Duration> DurationHistogram::Quantile(double q) const {
  if (count_ <= 0) return std::nullopt;
  const int64_t rank = Rank(q, count_);
  int64_t seen = 0;
  for (size_t i = 0; i < counts_.size(); ++i) {
    seen += counts_[i];
    if (seen >= rank) return Representative(static_cast<int>(i));
  }
  return Representative(kBuckets - 1);
}

std::string DurationHistogram::Encode() const {
  std::string out;
  for (size_t i = 0; i < counts_.size(); ++i) {
    if (counts_[i] == 0) continue;
    PutVarint(out, i);
    PutVarint(out, static_cast<uint64_t>(counts_[i]));
  }
  return out;
}

bool DurationHistogram::AddEncoded(std::string_view blob, Duration d, int64_t count,
                                   std::string& out) {
  if (count <= 0) return false;
  const auto target = static_cast<uint64_t>(BucketOf(d));
  out.clear();
  bool added = false;
  auto put = [&](uint64_t bucket, uint64_t n) {
    PutVarint(out, bucket);
    PutVarint(out, n);
  };
  int64_t previous = -1;
  while (!blob.empty()) {
    uint64_t bucket = 0;
    uint64_t n = 0;
    if (!GetVarint(blob, bucket) || !GetVarint(blob, n) ||
        bucket >= static_cast<uint64_t>(kBuckets) || n > (uint64_t{1} << 62) ||
        static_cast<int64_t>(bucket) <= previous) {
      return false;
    }
    previous = static_cast<int64_t>(bucket);
    if (!added && bucket >= target) {
      added = true;
      if (bucket == target) {
        n += static_cast<uint64_t>(count);
      } else {
        put(target, static_cast<uint64_t>(count));
      }
    }
    if (n != 0) put(bucket, n);  // Encode() leaves out empty buckets
  }
  if (!added) put(target, static_cast<uint64_t>(count));
  return true;
}

bool DurationHistogram::MergeEncoded(std::string_view a, std::string_view b, std::string& out) {
  out.clear();
  int64_t prev_a = -1;
  int64_t prev_b = -1;
  uint64_t bucket_a = 0, count_a = 0, bucket_b = 0, count_b = 0;
  bool bad_a = false;
  bool bad_b = false;
  bool has_a = NextPair(a, prev_a, bucket_a, count_a, &bad_a, kBuckets);
  bool has_b = NextPair(b, prev_b, bucket_b, count_b, &bad_b, kBuckets);
  while (has_a || has_b) {
    uint64_t bucket = 0;
    uint64_t n = 0;
    if (has_a && (!has_b || bucket_a <= bucket_b)) {
      bucket = bucket_a;
      n = count_a;
      if (has_b && bucket_b == bucket_a) {
        n += count_b;
        has_b = NextPair(b, prev_b, bucket_b, count_b, &bad_b, kBuckets);
      }
      has_a = NextPair(a, prev_a, bucket_a, count_a, &bad_a, kBuckets);
    } else {
      bucket = bucket_b;
      n = count_b;
      has_b = NextPair(b, prev_b, bucket_b, count_b, &bad_b, kBuckets);
    }
    if (n != 0) {  // Encode() leaves out empty buckets
      PutVarint(out, bucket);
      PutVarint(out, n);
    }
  }
  return !bad_a && !bad_b;
}

Result<DurationHistogram> DurationHistogram::Decode(std::string_view blob) {
  DurationHistogram h;
  while (!blob.empty()) {
    uint64_t bucket = 0;
    uint64_t count = 0;
    if (!GetVarint(blob, bucket) || !GetVarint(blob, count) ||
        bucket >= static_cast<uint64_t>(kBuckets) || count > (uint64_t{1} << 62)) {
      return Result<DurationHistogram>::Error("malformed duration histogram");
    }
    h.counts_[bucket] += static_cast<int64_t>(count);
    h.count_ += static_cast<int64_t>(count);
  }
  return h;
}

void UptimeTotals::AddRun(Duration duration) {
  ++runs;
  duration_sum += duration;
  histogram.Add(duration);
}

void UptimeTotals::AddTime(TimePoint from, TimePoint to, bool is_ok) {
  if (to <= from) return;
  observed += to - from;
  if (is_ok) ok += to - from;
}

void UptimeTotals::Merge(const UptimeTotals& other) {
  ok += other.ok;
  observed += other.observed;
  runs += other.runs;
  duration_sum += other.duration_sum;
  histogram.Merge(other.histogram);
}

UptimeStats StatsFromTotals(Duration window, const UptimeTotals& totals) {
  UptimeStats stats;
  stats.window = window;
  stats.observed = totals.observed;
  if (totals.observed > Duration::zero()) {
    stats.uptime =
        static_cast<double>(totals.ok.count()) / static_cast<double>(totals.observed.count());
  }
  stats.runs = totals.runs;
  if (totals.runs > 0) {
    stats.mean_duration = totals.duration_sum / totals.runs;
    stats.p95_duration = totals.histogram.Quantile(0.95);
  }
  return stats;
}

UptimeStats ComputeUptime(std::span<const UptimeSample> samples, Duration window, TimePoint now) {
  const TimePoint from = now - window;
  UptimeTotals totals;
  std::vector<Duration> durations;
  std::optional<bool> state;  // none until the timeline starts
  TimePoint t = from;
  for (const UptimeSample& s : samples) {
    if (s.at > now) break;
    if (s.at < from) {
      state = s.ok;
      continue;
    }
    if (state) totals.AddTime(t, s.at, *state);
    state = s.ok;
    t = s.at;
    totals.AddRun(s.duration);
    durations.push_back(s.duration);
  }
  if (state) totals.AddTime(t, now, *state);
  UptimeStats stats = StatsFromTotals(window, totals);
  if (!durations.empty()) stats.p95_duration = NearestRankQuantile(std::move(durations), 0.95);
  return stats;
}

std::optional<Duration> NearestRankQuantile(std::vector<Duration> values, double q) {
  if (values.empty()) return std::nullopt;
  const auto rank = static_cast<size_t>(Rank(q, static_cast<int64_t>(values.size())));
  std::nth_element(values.begin(), values.begin() + static_cast<ptrdiff_t>(rank - 1), values.end());
  return values[rank - 1];
}

Duration Overlap(TimePoint a0, TimePoint a1, TimePoint b0, TimePoint b1) {
  const TimePoint lo = std::max(a0, b0);
  const TimePoint hi = std::min(a1, b1);
  return hi > lo ? hi - lo : Duration::zero();
}

TimePoint BucketStart(TimePoint t, Duration size) {
  const int64_t n = t.time_since_epoch().count();
  const int64_t s = size.count();
  const int64_t floored = n >= 0 ? n / s * s : -((-n + s - 1) / s) * s;
  return TimePoint(Duration(floored));
}

}  // namespace sonde
