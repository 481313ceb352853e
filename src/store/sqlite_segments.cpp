// SqliteReader::UptimeSegments: the dashboard's uptime bars from the hourly or daily roll-ups,
// one range scan per check instead of one Uptime query per segment.
#include "store/sqlite_reader.hpp"

namespace sonde {

Result<std::optional<std::vector<UptimeSegment>>> SqliteReader::UptimeSegments(
    const CheckKey& key, TimePoint from, Duration segment, size_t count, TimePoint now) {
  using R = Result<std::optional<std::vector<UptimeSegment>>>;
  const bool daily = segment % kDay == Duration::zero() && BucketStart(from, kDay) == from;
  const bool hourly = segment % kHour == Duration::zero() && BucketStart(from, kHour) == from;
  if (segment <= Duration::zero() || (!daily && !hourly))
    return std::optional<std::vector<UptimeSegment>>();
  // Buckets past retention may be pruned (or never written): those need the slow path.
  if (from < clock_.Now() - (daily ? retention_.daily : retention_.hourly)) {
    return std::optional<std::vector<UptimeSegment>>();
  }
  std::lock_guard lock(mu_);
  ReadTxn txn(*db_);
  if (!txn.status().ok()) return R::Error(Error(txn.status()));
  std::optional<int64_t> id;
  std::optional<Timeline> tl;
  if (DbStatus s = CheckId(key, &id); !s.ok()) return R::Error(Error(s));
  if (id) {
    if (DbStatus s = LoadTimeline(*id, &tl); !s.ok()) return R::Error(Error(s));
  }
  std::vector<UptimeSegment> out(count);
  if (!tl) return std::optional(std::move(out));
  const TimePoint end = from + segment * static_cast<int64_t>(count);
  DbStatus err;
  Stmt* s = db_->Prepare(std::string("SELECT bucket_ns, ok_ns, observed_ns, runs, duration_sum_ns"
                                     " FROM ") +
                             (daily ? "rollup_daily" : "rollup_hourly") +
                             " WHERE check_id = ? AND bucket_ns >= ? AND bucket_ns < ?",
                         &err);
  if (!s) return R::Error(Error(err));
  s->Bind(1, *id).Bind(2, ToNs(from)).Bind(3, ToNs(end));
  while (s->Step()) {
    const auto i = static_cast<size_t>((FromNs(s->Int(0)) - from) / segment);
    if (i >= count) continue;
    out[i].ok += Duration(s->Int(1));
    out[i].observed += Duration(s->Int(2));
    out[i].runs += s->Int(3);
    out[i].duration_sum += Duration(s->Int(4));
  }
  err = s->status();
  s->Reset();
  if (!err.ok()) return R::Error(Error(err));
  // No roll-up holds the time after the check's last run yet: it is in that run's state.
  for (size_t i = 0; i < count; ++i) {
    const TimePoint a = std::max(from + segment * static_cast<int64_t>(i), tl->last_at);
    const TimePoint b = std::min(from + segment * static_cast<int64_t>(i + 1), now);
    if (b <= a) continue;
    out[i].observed += b - a;
    if (tl->last_ok) out[i].ok += b - a;
  }
  return std::optional(std::move(out));
}

}  // namespace sonde
