// SqliteWriter's roll-up maintenance and retention pruning.
#include <algorithm>
#include <array>

#include "store/sqlite_writer.hpp"
#include "store/uptime.hpp"

namespace sonde {
namespace {

constexpr int64_t kPruneRows = 2000;  // rows per table per pruning transaction (a few ms)

struct RollupTable {
  const char* name;
  Duration bucket;
  Duration retention;
};

// The statements each run repeats, spelled out per table so that no SQL text is built per run.
struct RollupSql {
  const char* add_time;
  const char* get_histogram;
  const char* add_run;
};

// In the order of Tables().
constexpr RollupSql kRollupSql[2] = {
    {"INSERT INTO rollup_hourly(check_id, bucket_ns, ok_ns, observed_ns) VALUES(?, ?, ?, ?)"
     " ON CONFLICT(check_id, bucket_ns) DO UPDATE SET ok_ns = ok_ns + excluded.ok_ns,"
     " observed_ns = observed_ns + excluded.observed_ns",
     "SELECT histogram FROM rollup_hourly WHERE check_id = ? AND bucket_ns = ?",
     "INSERT INTO rollup_hourly(check_id, bucket_ns, runs, duration_sum_ns, histogram)"
     " VALUES(?, ?, 1, ?, ?) ON CONFLICT(check_id, bucket_ns) DO UPDATE SET runs = runs + 1,"
     " duration_sum_ns = duration_sum_ns + excluded.duration_sum_ns,"
     " histogram = excluded.histogram"},
    {"INSERT INTO rollup_daily(check_id, bucket_ns, ok_ns, observed_ns) VALUES(?, ?, ?, ?)"
     " ON CONFLICT(check_id, bucket_ns) DO UPDATE SET ok_ns = ok_ns + excluded.ok_ns,"
     " observed_ns = observed_ns + excluded.observed_ns",
     "SELECT histogram FROM rollup_daily WHERE check_id = ? AND bucket_ns = ?",
     "INSERT INTO rollup_daily(check_id, bucket_ns, runs, duration_sum_ns, histogram)"
     " VALUES(?, ?, 1, ?, ?) ON CONFLICT(check_id, bucket_ns) DO UPDATE SET runs = runs + 1,"
     " duration_sum_ns = duration_sum_ns + excluded.duration_sum_ns,"
     " histogram = excluded.histogram"}};

std::array<RollupTable, 2> Tables(const Retention& r) {
  return {{{"rollup_hourly", kHour, r.hourly}, {"rollup_daily", kDay, r.daily}}};
}

// Buckets wholly older than the retention horizon would be pruned unread: skip writing them.
TimePoint KeepFrom(TimePoint now, const RollupTable& t) {
  return BucketStart(now - t.retention, t.bucket);
}

// Runs a pruning DELETE: ?1 check id, ?2 cutoff, ?3 row limit; `deleted` gets its row count.
DbStatus Delete(Db& db, const std::string& sql, int64_t check_id, int64_t cutoff,
                int64_t* deleted) {
  DbStatus err;
  Stmt* s = db.Prepare(sql, &err);
  if (!s) return err;
  s->Bind(1, check_id).Bind(2, cutoff).Bind(3, kPruneRows);
  err = s->Run();
  *deleted = err.ok() ? sqlite3_changes(db.get()) : 0;
  return err;
}

}  // namespace

DbStatus SqliteWriter::AddTime(int64_t check_id, TimePoint from, TimePoint to, bool ok,
                               TimePoint now) {
  const auto tables = Tables(retention_);
  for (size_t i = 0; i < tables.size(); ++i) {
    const RollupTable& t = tables[i];
    DbStatus err;
    Stmt* s = db_->Prepare(kRollupSql[i].add_time, &err);
    if (!s) return err;
    ForEachBucket(std::max(from, KeepFrom(now, t)), to, t.bucket,
                  [&](TimePoint bucket, Duration part) {
                    if (!err.ok()) return;
                    s->Bind(1, check_id).Bind(2, ToNs(bucket));
                    s->Bind(3, ok ? part.count() : int64_t{0}).Bind(4, part.count());
                    err = s->Run();
                  });
    if (!err.ok()) return err;
  }
  return DbStatus::Ok();
}

DbStatus SqliteWriter::AddRunToRollups(int64_t check_id, TimePoint at, Duration duration,
                                       TimePoint now) {
  const auto tables = Tables(retention_);
  for (size_t i = 0; i < tables.size(); ++i) {
    const RollupTable& t = tables[i];
    const TimePoint bucket = BucketStart(at, t.bucket);
    if (bucket < KeepFrom(now, t)) continue;
    DbStatus err;
    Stmt* get = db_->Prepare(kRollupSql[i].get_histogram, &err);
    if (!get) return err;
    get->Bind(1, check_id).Bind(2, ToNs(bucket));
    DurationHistogram histogram;
    if (get->Step()) {
      // A damaged blob (only from outside tampering) restarts that bucket's histogram rather
      // than blocking every later run of the check.
      auto decoded = DurationHistogram::Decode(get->Blob(0));
      if (decoded.ok()) histogram = std::move(decoded.value());
    }
    err = get->status();
    get->Reset();
    if (!err.ok()) return err;
    histogram.Add(duration);
    Stmt* put = db_->Prepare(kRollupSql[i].add_run, &err);
    if (!put) return err;
    put->Bind(1, check_id).Bind(2, ToNs(bucket)).Bind(3, static_cast<int64_t>(duration.count()));
    put->BindBlob(4, histogram.Encode());
    if (err = put->Run(); !err.ok()) return err;
  }
  return DbStatus::Ok();
}

void SqliteWriter::BeginPrunePass() { prune_ = PrunePass{clock_.Now()}; }

bool SqliteWriter::PruneStep() {
  if (!prune_) return false;
  DbStatus s = db_->Run("BEGIN IMMEDIATE");
  if (s.ok()) s = prune_->checks_done ? PruneEvents() : PruneNextCheck();
  if (s.ok()) s = db_->Run("COMMIT");
  if (!s.ok()) {
    Abort();
    prune_.reset();  // e.g. a full disk: the next pass tries again
  }
  return prune_.has_value();
}

DbStatus SqliteWriter::PruneNextCheck() {
  DbStatus err;
  Stmt* next = db_->Prepare("SELECT id FROM check_keys WHERE id >= ? ORDER BY id LIMIT 1", &err);
  if (!next) return err;
  next->Bind(1, prune_->next_check);
  const bool found = next->Step();
  const int64_t id = found ? next->Int(0) : 0;
  err = next->status();
  next->Reset();
  if (!err.ok()) return err;
  if (!found) {
    prune_->checks_done = true;
    return DbStatus::Ok();
  }
  // Each table loses at most kPruneRows rows per step; the check is done when none was full.
  int64_t most = 0;
  int64_t n = 0;
  err = Delete(*db_,
               "DELETE FROM runs WHERE id IN (SELECT id FROM runs WHERE check_id = ?1"
               " AND at_ns < ?2 LIMIT ?3)",
               id, ToNs(prune_->now - retention_.raw), &n);
  most = std::max(most, n);
  for (const RollupTable& t : Tables(retention_)) {
    if (!err.ok()) return err;
    err = Delete(*db_,
                 std::string("DELETE FROM ") + t.name + " WHERE check_id = ?1 AND bucket_ns IN" +
                     " (SELECT bucket_ns FROM " + t.name +
                     " WHERE check_id = ?1 AND bucket_ns < ?2 LIMIT ?3)",
                 id, ToNs(prune_->now - t.retention), &n);
    most = std::max(most, n);
  }
  if (err.ok() && most < kPruneRows) prune_->next_check = id + 1;
  return err;
}

DbStatus SqliteWriter::PruneEvents() {
  // Open events have end_sort = max and are never pruned; closed ones go with daily roll-ups.
  // (?1 is unused here: Delete binds it for the per-check statements.)
  int64_t n = 0;
  DbStatus err = Delete(*db_,
                        "DELETE FROM events WHERE id IN (SELECT id FROM events"
                        " WHERE end_sort < ?2 LIMIT ?3)",
                        0, ToNs(prune_->now - retention_.daily), &n);
  if (err.ok() && n < kPruneRows) prune_.reset();
  return err;
}

}  // namespace sonde
