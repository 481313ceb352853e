// A durable Store in one SQLite file, <state_dir>/sonde.db (WAL mode).
//
// Writes: one writer thread owns the write connection. CommitRun, SaveState and DeleteState
// queue their write (bounded queue) and return at once; the writer applies up to max_batch
// queued writes in one transaction (group commit). Its COMMIT does not wait for the disk
// (synchronous=NORMAL): a second thread, the syncer, fdatasyncs the write-ahead log
// (<state_dir>/sonde.db-wal) once that COMMIT has returned, and only then calls each
// CommitRun's `done`, so OK still means committed and on disk. While it syncs, the writer
// applies the next batch; one sync covers every batch committed before it started.
// If the transaction fails (e.g. the disk is full) every `done` of the batch gets the error,
// nothing of it is stored, and the writer carries on: later commits succeed once space
// returns. If a sync fails, every `done` waiting on it gets the error, and so does every later
// write until the store is reopened: Linux may drop pages it could not write, so no later sync
// could prove them (or the commits after them, chained in the log) on disk; what a restart
// finds is consistent (SQLite recovers up to the last intact commit), possibly with some of
// those refused writes. SaveState/DeleteState are not acknowledged: they are durable with
// the next sync after their group commit; while writes fail the latest per check is kept and
// retried with every later batch. Reads see them at once.
// Reads: a separate read connection (WAL lets it read during writes) behind a mutex.
// Retention: raw runs, hourly and daily roll-ups and closed events older than their retention
// (measured on the injected clock) are pruned on the writer thread, in short transactions
// between batches, at most once per prune_interval.
//
// Thread safety: all methods are safe from any thread; `done` runs on the syncer thread (or
// on the caller's, when the write is refused at once), in the order the writes were queued.
// Failure: Open returns an error naming the file or directory and what to do; calls return
// Status/Result values. The destructor finishes every queued write, and calls every `done`,
// before it returns.
#pragma once

#include <condition_variable>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>

#include "core/clock.hpp"
#include "store/sqlite_reader.hpp"
#include "store/sqlite_writer.hpp"
#include "store/store.hpp"

namespace sonde {

struct SqliteOptions {
  Duration raw_retention = std::chrono::hours(24 * 90);     // runs; at least 3 days
  Duration hourly_retention = std::chrono::hours(24 * 90);  // hourly roll-ups; at least 3 days
  Duration daily_retention = std::chrono::hours(24 * 800);  // daily roll-ups, closed events
  size_t max_batch = 512;                                   // writes per transaction
  size_t max_queue = 50'000;  // queued writes; beyond it CommitRun fails at once (see below)
  Duration prune_interval = std::chrono::minutes(1);
  int64_t max_db_bytes = 0;      // caps sonde.db (0: no cap); reaching it acts as a full disk
  const Clock* clock = nullptr;  // for retention; nullptr: the system clock
  // Makes every commit that returned before the call durable; called on the syncer thread.
  // Empty: fdatasync of the write-ahead log. Tests inject one to observe or fail syncs.
  std::function<Status()> sync;
};

class SqliteStore final : public Store {
 public:
  // Opens or creates <state_dir>/sonde.db (creating the directory if needed) and starts the
  // writer. Takes an exclusive lock on <state_dir>/sonde.lock: one daemon per state directory.
  static Result<std::unique_ptr<SqliteStore>> Open(const std::string& state_dir,
                                                   SqliteOptions options = {});
  ~SqliteStore() override;

  // LoadStates waits for writes queued before it, so it sees them.
  std::map<CheckKey, CheckState> LoadStates() override;
  Status SaveState(const CheckKey& key, const CheckState& state) override;
  Status DeleteState(const CheckKey& key) override;
  // If the queue is full (the disk cannot keep up), `done` gets an error at once, on the
  // caller's thread: failing fast beats blocking a network thread.
  void CommitRun(const RunRecord& run, const CheckState& state,
                 std::function<void(Status)> done) override;
  Result<std::vector<RunRecord>> History(const HistoryQuery& query) override;
  Result<std::vector<DowntimeEvent>> Events(const std::optional<CheckKey>& key,
                                            std::optional<TimePoint> since, size_t limit) override;
  Result<std::optional<DowntimeEvent>> OpenEvent(const CheckKey& key) override;
  Result<UptimeStats> Uptime(const CheckKey& key, Duration window, TimePoint now) override;
  // Waits for writes queued before it, as LoadStates does.
  Result<std::map<CheckKey, std::string>> LoadHeartbeatTokens() override;
  // Queued and group-committed like CommitRun; `done` runs on the syncer thread.
  void SaveHeartbeatToken(const CheckKey& key, const std::string& token,
                          std::function<void(Status)> done) override;
  Result<std::vector<UptimeSegment>> UptimeSegments(const CheckKey& key, TimePoint from,
                                                    Duration segment, size_t count,
                                                    TimePoint now) override;

  // LoadStates, with a read error reported rather than an empty map.
  Result<std::map<CheckKey, CheckState>> TryLoadStates();
  const std::string& path() const { return path_; }

 private:
  SqliteStore(std::string path, int lock_fd, const SqliteOptions& options,
              std::unique_ptr<const Clock> own_clock);
  // Queues `op` (moving it) and gives it its seq; on failure leaves it untouched.
  Status Enqueue(WriteOp& op);
  void WriterLoop();
  // Applies one batch (and failed state writes to retry) and hands its `done`s to the syncer;
  // true if it committed.
  bool RunBatch(std::vector<WriteOp> batch);
  void SyncerLoop();
  // One pruning step if a pass is running or due; true while the pass goes on.
  bool MaybePrune(bool pruning);

  const std::string path_;
  const int lock_fd_;
  int wal_fd_ = -1;  // the write-ahead log, for the default sync
  const SqliteOptions options_;
  std::unique_ptr<const Clock> own_clock_;  // when options.clock was nullptr
  const Clock& clock_;
  std::unique_ptr<SqliteWriter> writer_;  // writer thread only
  std::unique_ptr<SqliteReader> reader_;

  std::mutex mu_;
  std::condition_variable wake_;       // writer: work queued or stopping
  std::condition_variable processed_;  // LoadStates: a batch was applied (or failed)
  std::deque<WriteOp> queue_;
  // A batch the writer is done with: its `done`s wait for a sync if it committed.
  struct Settled {
    bool committed = false;
    std::vector<std::function<void(Status)>> done;
    std::vector<Status> results;
  };
  std::condition_variable settled_wake_;  // syncer: a batch settled, or the writer ended
  std::deque<Settled> settled_;
  size_t unacked_ = 0;                 // writes taken by the writer whose `done` is not called yet
  std::optional<Status> sync_failed_;  // set by a failed sync: every later write fails
  bool writer_done_ = false;
  std::map<CheckKey, StateWrite> retry_states_;  // state writes whose batch failed
  uint64_t next_seq_ = 1;
  uint64_t processed_seq_ = 0;  // every write with seq <= this has been applied or failed
  bool stopping_ = false;
  TimePoint next_prune_{};  // writer thread only
  std::thread thread_;
  std::thread syncer_;
};

}  // namespace sonde
