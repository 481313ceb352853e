// The SQLite store's write side: applies queued writes to the write connection in group
// transactions, keeps roll-ups and events in step with each run, and prunes old rows.
// Thread safety: none; the store's one writer thread owns it. Failure: DbStatus/Status values.
#pragma once

#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "core/clock.hpp"
#include "store/sqlite_codec.hpp"
#include "store/sqlite_db.hpp"
#include "store/store.hpp"

namespace sonde {

// One queued write, in the order callers made them (seq).
struct WriteOp {
  enum class Kind { kRun, kSaveState, kDeleteState, kToken };
  Kind kind = Kind::kRun;
  uint64_t seq = 0;
  CheckKey key;
  RunRecord run;                     // kRun
  CheckState state;                  // kRun, kSaveState
  std::function<void(Status)> done;  // kRun, kToken
  std::string token;                 // kToken: the check's heartbeat token

  // Unacknowledged state writes, retried with later batches if theirs fails.
  bool IsStateWrite() const { return kind == Kind::kSaveState || kind == Kind::kDeleteState; }
};

// A state write to (re)apply: the state, or none to delete it.
struct StateWrite {
  uint64_t seq = 0;
  std::optional<CheckState> state;
};

// Registers the SQL functions the writer's statements use on its connection `db`.
DbStatus RegisterRollupFunctions(Db& db);

class SqliteWriter {
 public:
  SqliteWriter(std::unique_ptr<Db> db, std::string path, Retention retention, const Clock& clock);

  struct BatchResult {
    bool committed = false;   // false: nothing of the batch is stored
    std::vector<Status> ops;  // one per op; an op can fail alone (e.g. a duplicate run uuid)
  };
  // In one transaction: `retries` first, then `ops` in order, then commit (synced).
  BatchResult Apply(const std::map<CheckKey, StateWrite>& retries, const std::vector<WriteOp>& ops);

  // Pruning runs as many small transactions: Begin a pass, then Step until it returns false.
  void BeginPrunePass();
  // One step (one short transaction); false when the pass is done (or failed; tried next pass).
  bool PruneStep();

  // Caps the database file (0: no cap); a full database fails commits like a full disk.
  DbStatus SetMaxBytes(int64_t bytes);
  // See Db::KeepLogOnClose.
  void KeepLogOnClose() { db_->KeepLogOnClose(); }

 private:
  // Apply without (or with) a savepoint per op; none when an op failed alone without them.
  std::optional<BatchResult> ApplyBatch(const std::map<CheckKey, StateWrite>& retries,
                                        const std::vector<WriteOp>& ops, TimePoint now,
                                        bool savepoints);
  DbStatus ApplyOp(const WriteOp& op, TimePoint now);
  DbStatus ApplyRun(const RunRecord& run, const CheckState& state, TimePoint now);
  DbStatus ApplyState(const CheckKey& key, const std::optional<CheckState>& state);
  DbStatus ApplyToken(const CheckKey& key, const std::string& token);
  DbStatus WriteState(int64_t check_id, const CheckState& state);
  DbStatus CheckId(const CheckKey& key, int64_t* id);
  Status Describe(const DbStatus& s, const WriteOp* op) const;
  void Abort();

  // Roll-ups (sqlite_rollup.cpp): the time from the previous run's point `from` (none for a
  // check's first run) to this run's point `at`, in the previous run's state, and the run.
  DbStatus AddToRollups(int64_t check_id, std::optional<TimePoint> from, bool from_ok, TimePoint at,
                        Duration duration, TimePoint now);
  // Writes the batch's roll-up changes: one upsert per bucket (before COMMIT).
  DbStatus FlushRollups();
  void KeepOpRollups();  // the op succeeded: its roll-up changes join the batch's
  DbStatus PruneNextCheck();
  DbStatus PruneEvents();

  std::unique_ptr<Db> db_;
  const std::string path_;
  const Retention retention_;
  const Clock& clock_;
  std::map<CheckKey, int64_t> check_ids_;  // only ids of committed rows (cleared on rollback)

  // Roll-up changes are summed in memory per bucket and written once per batch: a check
  // reporting many times within one group commit costs one upsert per bucket, not one per run.
  struct RollupKey {
    size_t table = 0;  // index in the roll-up tables (hourly, daily)
    int64_t check_id = 0;
    int64_t bucket_ns = 0;
    auto operator<=>(const RollupKey&) const = default;
  };
  struct RollupDelta {
    int64_t ok_ns = 0;
    int64_t observed_ns = 0;
    int64_t runs = 0;
    int64_t duration_sum_ns = 0;
    std::string histogram;  // the runs' durations, as DurationHistogram::Encode() writes them
  };
  struct RollupChange {
    RollupKey key;
    int64_t ok_ns = 0;
    int64_t observed_ns = 0;
    std::optional<Duration> run;  // the run itself falls in this bucket
  };
  std::vector<RollupChange> op_rollups_;      // of the op being applied
  std::map<RollupKey, RollupDelta> rollups_;  // of the batch's ops that succeeded

  struct PrunePass {
    TimePoint now;
    int64_t next_check = 0;
    bool checks_done = false;
  };
  std::optional<PrunePass> prune_;
};

}  // namespace sonde
