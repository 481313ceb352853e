// SqliteWriter's roll-up maintenance and retention pruning.
#include <algorithm>
#include <array>
#include <optional>
#include <string_view>

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

// One upsert adds a bucket's time and runs: ?1 check, ?2 bucket, ?3 OK ns, ?4 observed ns,
// ?5 runs, ?6 duration sum, ?7 the runs' durations as an encoded histogram (NULL: none). In the
// order of Tables().
constexpr const char* kRollupUpsert[2] = {
    "INSERT INTO rollup_hourly(check_id, bucket_ns, ok_ns, observed_ns, runs, duration_sum_ns,"
    " histogram) VALUES(?1, ?2, ?3, ?4, ?5, ?6, sonde_histogram_merge(x'', ?7))"
    " ON CONFLICT(check_id, bucket_ns) DO UPDATE SET ok_ns = ok_ns + excluded.ok_ns,"
    " observed_ns = observed_ns + excluded.observed_ns, runs = runs + excluded.runs,"
    " duration_sum_ns = duration_sum_ns + excluded.duration_sum_ns,"
    " histogram = sonde_histogram_merge(histogram, ?7)",
    "INSERT INTO rollup_daily(check_id, bucket_ns, ok_ns, observed_ns, runs, duration_sum_ns,"
    " histogram) VALUES(?1, ?2, ?3, ?4, ?5, ?6, sonde_histogram_merge(x'', ?7))"
    " ON CONFLICT(check_id, bucket_ns) DO UPDATE SET ok_ns = ok_ns + excluded.ok_ns,"
    " observed_ns = observed_ns + excluded.observed_ns, runs = runs + excluded.runs,"
    " duration_sum_ns = duration_sum_ns + excluded.duration_sum_ns,"
    " histogram = sonde_histogram_merge(histogram, ?7)"};

// sonde_histogram_merge(blob, added): the encoded DurationHistogram `blob` merged with the
// encoded histogram `added`; `blob` unchanged when `added` is NULL. A damaged blob (only from
// outside tampering) restarts that bucket's histogram rather than failing every later run.
void HistogramMerge(sqlite3_context* ctx, int /*argc*/, sqlite3_value** argv) {
  auto bytes = [](sqlite3_value* v) {
    const auto* data = static_cast<const char*>(sqlite3_value_blob(v));
    return std::string_view(data ? data : "", static_cast<size_t>(sqlite3_value_bytes(v)));
  };
  const std::string_view blob = bytes(argv[0]);
  if (sqlite3_value_type(argv[1]) == SQLITE_NULL) {
    return sqlite3_result_blob64(ctx, blob.empty() ? "" : blob.data(), blob.size(),
                                 SQLITE_TRANSIENT);
  }
  const std::string_view added = bytes(argv[1]);
  std::string merged;
  if (!DurationHistogram::MergeEncoded(blob, added, merged)) {
    DurationHistogram histogram;
    if (auto decoded = DurationHistogram::Decode(blob); decoded.ok()) {
      histogram = std::move(decoded.value());
    }
    if (auto runs = DurationHistogram::Decode(added); runs.ok()) histogram.Merge(runs.value());
    merged = histogram.Encode();
  }
  sqlite3_result_blob64(ctx, merged.empty() ? "" : merged.data(), merged.size(), SQLITE_TRANSIENT);
}

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

DbStatus RegisterRollupFunctions(Db& db) {
  const int rc = sqlite3_create_function_v2(db.get(), "sonde_histogram_merge", 2,
                                            SQLITE_UTF8 | SQLITE_DETERMINISTIC | SQLITE_DIRECTONLY,
                                            nullptr, HistogramMerge, nullptr, nullptr, nullptr);
  return rc == SQLITE_OK ? DbStatus::Ok() : db.LastError();
}

DbStatus SqliteWriter::AddToRollups(int64_t check_id, std::optional<TimePoint> from, bool from_ok,
                                    TimePoint at, Duration duration, TimePoint now) {
  const auto tables = Tables(retention_);
  for (size_t i = 0; i < tables.size(); ++i) {
    const RollupTable& t = tables[i];
    const TimePoint keep = KeepFrom(now, t);
    const TimePoint run_bucket = BucketStart(at, t.bucket);
    bool run_pending = run_bucket >= keep;
    auto add = [&](TimePoint bucket, Duration part, bool ok) {
      const bool with_run = run_pending && bucket == run_bucket;
      op_rollups_.push_back({{i, check_id, ToNs(bucket)},
                             ok ? part.count() : int64_t{0},
                             part.count(),
                             with_run ? std::optional<Duration>(duration) : std::nullopt});
      if (with_run) run_pending = false;
    };
    // The check was in the previous run's state from that run's point until this one's.
    if (from) {
      ForEachBucket(std::max(*from, keep), at, t.bucket,
                    [&](TimePoint bucket, Duration part) { add(bucket, part, from_ok); });
    }
    if (run_pending) add(run_bucket, Duration::zero(), false);
  }
  return DbStatus::Ok();
}

void SqliteWriter::KeepOpRollups() {
  for (const RollupChange& c : op_rollups_) {
    RollupDelta& d = rollups_[c.key];
    d.ok_ns += c.ok_ns;
    d.observed_ns += c.observed_ns;
    if (!c.run) continue;
    ++d.runs;
    d.duration_sum_ns += c.run->count();
    std::string histogram;
    DurationHistogram::AddEncoded(d.histogram, *c.run, 1, histogram);  // d.histogram is ours
    d.histogram = std::move(histogram);
  }
  op_rollups_.clear();
}

DbStatus SqliteWriter::FlushRollups() {
  DbStatus err;
  for (const auto& [key, d] : rollups_) {
    Stmt* s = db_->Prepare(kRollupUpsert[key.table], &err);
    if (!s) return err;
    s->Bind(1, key.check_id).Bind(2, key.bucket_ns).Bind(3, d.ok_ns).Bind(4, d.observed_ns);
    s->Bind(5, d.runs).Bind(6, d.duration_sum_ns);
    if (d.runs > 0) {
      s->BindBlob(7, d.histogram);
    } else {
      s->Bind(7, std::optional<int64_t>());
    }
    if (err = s->Run(); !err.ok()) return err;
  }
  rollups_.clear();
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
