// SqliteReader::Uptime: which rows answer which part of a window (see README.md, "Uptime").
#include <algorithm>
#include <limits>

#include "store/sqlite_reader.hpp"

namespace sonde {
namespace {

constexpr Duration kRawWindow = std::chrono::hours(48);  // longer windows use roll-ups
constexpr const char* kHourly = "rollup_hourly";
constexpr const char* kDaily = "rollup_daily";
constexpr TimePoint kForever = TimePoint::max();

TimePoint CeilTo(TimePoint t, Duration size) {
  const TimePoint start = BucketStart(t, size);
  return start == t ? t : start + size;
}

// Adds a roll-up row's run statistics (columns c: runs, duration_sum_ns, histogram).
void AddRunStats(const Stmt& s, int c, UptimeTotals* totals) {
  totals->runs += s.Int(c);
  totals->duration_sum += Duration(s.Int(c + 1));
  auto histogram = DurationHistogram::Decode(s.Blob(c + 2));
  if (histogram.ok()) totals->histogram.Merge(histogram.value());
}

}  // namespace

Result<UptimeStats> SqliteReader::Uptime(const CheckKey& key, Duration window, TimePoint now) {
  using R = Result<UptimeStats>;
  std::lock_guard lock(mu_);
  ReadTxn txn(*db_);
  if (!txn.status().ok()) return R::Error(Error(txn.status()));
  std::optional<int64_t> id;
  std::optional<Timeline> tl;
  if (DbStatus s = CheckId(key, &id); !s.ok()) return R::Error(Error(s));
  if (id) {
    if (DbStatus s = LoadTimeline(*id, &tl); !s.ok()) return R::Error(Error(s));
  }
  if (!tl) return ComputeUptime({}, window, now);
  const TimePoint from = now - window;
  UptimeTotals totals;
  if (window > kRawWindow) {
    if (DbStatus s = LongWindow(*id, *tl, from, now, &totals); !s.ok()) return R::Error(Error(s));
    return StatsFromTotals(window, totals);
  }
  std::vector<Duration> exact;
  DbStatus s = TimeFromEvents(*id, *tl, from, now, &totals);
  if (s.ok()) s = RunsFromRaw(*id, from, now, true, &totals, &exact);
  if (!s.ok()) return R::Error(Error(s));
  UptimeStats stats = StatsFromTotals(window, totals);
  if (!exact.empty()) stats.p95_duration = NearestRankQuantile(std::move(exact), 0.95);
  return stats;
}

// [from, now] in pieces: a head up to the first hour (or day) boundary and a tail from the last
// hour boundary, timed from events and counted from raw runs; whole hours and days between
// them from roll-ups.
DbStatus SqliteReader::LongWindow(int64_t id, const Timeline& tl, TimePoint from, TimePoint now,
                                  UptimeTotals* totals) {
  const TimePoint clock_now = clock_.Now();
  // Nothing older than daily retention is kept (events included): such a window is answered
  // over its retained part, from a day boundary on.
  from = std::max(from, CeilTo(clock_now - retention_.daily, kDay));
  const bool hourly_head = BucketStart(from, kHour) >= clock_now - retention_.hourly;
  const TimePoint h1 = CeilTo(from, kHour);
  const TimePoint d1 = CeilTo(from, kDay);
  const TimePoint d2 = BucketStart(now, kDay);
  const TimePoint h2 = BucketStart(now, kHour);
  const TimePoint head_end = hourly_head ? h1 : d1;
  DbStatus s = TimeFromEvents(id, tl, from, head_end, totals);
  if (s.ok() && head_end > from) {
    if (from >= clock_now - retention_.raw) {
      s = RunsFromRaw(id, from, head_end, false, totals, nullptr);
    } else {
      // Raw runs are gone: count the whole bucket holding `from` (the documented approximation).
      s = RunsOfBucket(hourly_head ? kHourly : kDaily, id,
                       BucketStart(from, hourly_head ? kHour : kDay), totals);
    }
  }
  if (s.ok() && hourly_head) s = FromRollups(kHourly, id, tl, h1, d1, totals);
  if (s.ok()) s = FromRollups(kDaily, id, tl, d1, d2, totals);
  if (s.ok()) s = FromRollups(kHourly, id, tl, d2, h2, totals);
  if (s.ok()) s = TimeFromEvents(id, tl, h2, now, totals);
  if (s.ok()) s = RunsFromRaw(id, h2, now, true, totals, nullptr);
  return s;
}

DbStatus SqliteReader::LoadTimeline(int64_t id, std::optional<Timeline>* out) {
  DbStatus err;
  Stmt* s = db_->Prepare(
      "SELECT first_at_ns, last_at_ns, last_ok FROM timelines WHERE check_id = ?", &err);
  if (!s) return err;
  s->Bind(1, id);
  if (s->Step()) *out = Timeline{FromNs(s->Int(0)), FromNs(s->Int(1)), s->Int(2) != 0};
  err = s->status();
  s->Reset();
  return err;
}

// Observed time is everything from the check's first run on; failing time is where downtime
// events overlap. Events of a check are disjoint and ordered, so only the last one starting
// before the piece and those starting inside it can overlap it.
DbStatus SqliteReader::TimeFromEvents(int64_t id, const Timeline& tl, TimePoint from, TimePoint to,
                                      UptimeTotals* totals) {
  from = std::max(from, tl.first_at);
  if (from >= to) return DbStatus::Ok();
  Duration failing{};
  const char* queries[] = {
      "SELECT start_ns, end_ns FROM events WHERE check_id = ?1 AND start_ns < ?2"
      " ORDER BY start_ns DESC, id DESC LIMIT 1",
      "SELECT start_ns, end_ns FROM events WHERE check_id = ?1 AND start_ns >= ?2"
      " AND start_ns < ?3"};
  for (const char* sql : queries) {
    DbStatus err;
    Stmt* s = db_->Prepare(sql, &err);
    if (!s) return err;
    s->Bind(1, id).Bind(2, ToNs(from)).Bind(3, ToNs(to));
    while (s->Step()) {
      const auto end = s->OptInt(1);
      failing += Overlap(FromNs(s->Int(0)), end ? FromNs(*end) : kForever, from, to);
    }
    err = s->status();
    s->Reset();
    if (!err.ok()) return err;
  }
  totals->observed += to - from;
  totals->ok += (to - from) - failing;
  return DbStatus::Ok();
}

DbStatus SqliteReader::RunsFromRaw(int64_t id, TimePoint from, TimePoint to, bool include_to,
                                   UptimeTotals* totals, std::vector<Duration>* exact) {
  DbStatus err;
  Stmt* s = db_->Prepare(include_to ? "SELECT finished_ns - started_ns FROM runs"
                                      " WHERE check_id = ? AND at_ns >= ? AND at_ns <= ?"
                                    : "SELECT finished_ns - started_ns FROM runs"
                                      " WHERE check_id = ? AND at_ns >= ? AND at_ns < ?",
                         &err);
  if (!s) return err;
  s->Bind(1, id).Bind(2, ToNs(from)).Bind(3, ToNs(to));
  while (s->Step()) {
    const Duration d(s->Int(0));
    totals->AddRun(d);
    if (exact) exact->push_back(d);
  }
  err = s->status();
  s->Reset();
  return err;
}

// Whole buckets in [from, to), plus the time after the check's last run (which no roll-up
// holds yet: the check has stayed in that run's state since).
DbStatus SqliteReader::FromRollups(const char* table, int64_t id, const Timeline& tl,
                                   TimePoint from, TimePoint to, UptimeTotals* totals) {
  if (from >= to) return DbStatus::Ok();
  DbStatus err;
  Stmt* s = db_->Prepare(std::string("SELECT ok_ns, observed_ns, runs, duration_sum_ns,"
                                     " histogram FROM ") +
                             table + " WHERE check_id = ? AND bucket_ns >= ? AND bucket_ns < ?",
                         &err);
  if (!s) return err;
  s->Bind(1, id).Bind(2, ToNs(from)).Bind(3, ToNs(to));
  while (s->Step()) {
    totals->ok += Duration(s->Int(0));
    totals->observed += Duration(s->Int(1));
    AddRunStats(*s, 2, totals);
  }
  err = s->status();
  s->Reset();
  if (err.ok()) totals->AddTime(std::max(tl.last_at, from), to, tl.last_ok);
  return err;
}

DbStatus SqliteReader::RunsOfBucket(const char* table, int64_t id, TimePoint bucket,
                                    UptimeTotals* totals) {
  DbStatus err;
  Stmt* s = db_->Prepare(std::string("SELECT runs, duration_sum_ns, histogram FROM ") + table +
                             " WHERE check_id = ? AND bucket_ns = ?",
                         &err);
  if (!s) return err;
  s->Bind(1, id).Bind(2, ToNs(bucket));
  if (s->Step()) AddRunStats(*s, 0, totals);
  err = s->status();
  s->Reset();
  return err;
}

}  // namespace sonde
