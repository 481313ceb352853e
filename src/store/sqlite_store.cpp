#include "store/sqlite_store.hpp"

#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <filesystem>

#include "store/sqlite_schema.hpp"

namespace sonde {
namespace {

namespace fs = std::filesystem;
using R = Result<std::unique_ptr<SqliteStore>>;

constexpr Duration kMinRetention = std::chrono::hours(72);  // > the 48h raw uptime window
constexpr auto kIdleWake = std::chrono::milliseconds(200);  // to notice pruning is due
constexpr auto kRetryDelay = std::chrono::seconds(1);       // between retries of failed states

std::string DirError(const std::string& dir, const std::string& why) {
  return "cannot use state directory " + dir + ": " + why +
         "; fix it or choose another --state-dir";
}

// Creates the directory if needed and proves we may create files in it.
Status PrepareDir(const std::string& dir) {
  std::error_code ec;
  fs::create_directories(dir, ec);
  if (ec) return Status::Error(DirError(dir, "cannot create it (" + ec.message() + ")"));
  if (!fs::is_directory(dir, ec)) return Status::Error(DirError(dir, "it is not a directory"));
  if (::access(dir.c_str(), W_OK | X_OK) != 0) {
    return Status::Error(
        DirError(dir, std::string("it is not writable (") + std::strerror(errno) + ")"));
  }
  return Status::Ok();
}

// An exclusive lock for the store's lifetime: two daemons on one state directory would
// interleave their writes.
Result<int> LockDir(const std::string& dir) {
  const std::string path = (fs::path(dir) / "sonde.lock").string();
  const int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
  if (fd < 0) {
    return Result<int>::Error(
        DirError(dir, "cannot create " + path + " (" + std::strerror(errno) + ")"));
  }
  if (::flock(fd, LOCK_EX | LOCK_NB) != 0) {
    const int err = errno;
    ::close(fd);
    if (err == EWOULDBLOCK) {
      return Result<int>::Error("cannot use state directory " + dir +
                                ": another sonde process is using it (" + path + " is locked)");
    }
    return Result<int>::Error(
        DirError(dir, "cannot lock " + path + " (" + std::strerror(err) + ")"));
  }
  return fd;
}

Status CheckOptions(const SqliteOptions& o) {
  if (o.raw_retention < kMinRetention || o.hourly_retention < kMinRetention ||
      o.daily_retention < kMinRetention) {
    return Status::Error("store retention must be at least 72h");
  }
  if (o.max_batch == 0 || o.max_queue == 0) {
    return Status::Error("store batch and queue sizes must be positive");
  }
  return Status::Ok();
}

// The write-ahead log, opened once for the default sync: fdatasync of any descriptor of the
// file syncs it, and the log keeps its inode while the store is open (a checkpoint rewinds or
// truncates it in place; only closing the last connection deletes it).
Result<int> OpenLog(const std::string& db_path) {
  const std::string path = db_path + "-wal";
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    return Result<int>::Error("cannot use state database " + db_path + ": cannot open " + path +
                              " (" + std::strerror(errno) + ")");
  }
  return fd;
}

}  // namespace

R SqliteStore::Open(const std::string& state_dir, SqliteOptions options) {
  if (Status s = CheckOptions(options); !s.ok()) return R::Error(s.message());
  if (Status s = PrepareDir(state_dir); !s.ok()) return R::Error(s.message());
  auto lock = LockDir(state_dir);
  if (!lock.ok()) return R::Error(lock.error());
  const std::string path = (fs::path(state_dir) / kDatabaseFileName).string();
  auto fail = [&](const std::string& message) {
    ::close(lock.value());
    return R::Error(message);
  };
  auto write = OpenWriteConnection(path);
  if (!write.ok()) return fail(write.error());
  // The connection has read and written the file, so SQLite has created the log.
  int log_fd = -1;
  if (!options.sync) {
    auto log = OpenLog(path);
    if (!log.ok()) return fail(log.error());
    log_fd = log.value();
    options.sync = [log_fd] {
      if (::fdatasync(log_fd) == 0) return Status::Ok();
      return Status::Error(std::string("fdatasync: ") + std::strerror(errno));
    };
  }
  auto fail_open = [&](const std::string& message) {
    if (log_fd >= 0) ::close(log_fd);
    return fail(message);
  };
  // COMMIT writes the log without waiting for the disk; the syncer syncs it before any `done`.
  // Migrations above ran with synchronous=FULL. Checkpoints still sync the log first.
  if (DbStatus s = write.value()->Exec("PRAGMA synchronous = NORMAL"); !s.ok()) {
    return fail_open("cannot use state database " + path + ": " + s.message);
  }
  if (DbStatus s = RegisterRollupFunctions(*write.value()); !s.ok()) {
    return fail_open("cannot use state database " + path + ": " + s.message);
  }
  auto read = OpenReadConnection(path);
  if (!read.ok()) return fail_open(read.error());
  std::unique_ptr<const Clock> own_clock;
  if (!options.clock) own_clock = std::make_unique<SystemClock>();
  std::unique_ptr<SqliteStore> store(
      new SqliteStore(path, lock.value(), options, std::move(own_clock)));
  store->wal_fd_ = log_fd;
  const Retention retention{options.raw_retention, options.hourly_retention,
                            options.daily_retention};
  store->writer_ =
      std::make_unique<SqliteWriter>(std::move(write.value()), path, retention, store->clock_);
  if (options.max_db_bytes > 0) {
    if (DbStatus s = store->writer_->SetMaxBytes(options.max_db_bytes); !s.ok()) {
      return R::Error("cannot use state database " + path + ": " + s.message);
    }
  }
  store->reader_ =
      std::make_unique<SqliteReader>(std::move(read.value()), path, retention, store->clock_);
  store->thread_ = std::thread([s = store.get()] { s->WriterLoop(); });
  store->syncer_ = std::thread([s = store.get()] { s->SyncerLoop(); });
  return store;
}

SqliteStore::SqliteStore(std::string path, int lock_fd, const SqliteOptions& options,
                         std::unique_ptr<const Clock> own_clock)
    : path_(std::move(path)),
      lock_fd_(lock_fd),
      options_(options),
      own_clock_(std::move(own_clock)),
      clock_(options.clock ? *options.clock : *own_clock_) {}

SqliteStore::~SqliteStore() {
  {
    std::lock_guard lock(mu_);
    stopping_ = true;
  }
  wake_.notify_all();
  if (thread_.joinable()) thread_.join();
  {
    std::lock_guard lock(mu_);
    writer_done_ = true;
  }
  settled_wake_.notify_all();
  if (syncer_.joinable()) syncer_.join();
  // After a failed sync, closing must not checkpoint the log into the database: what the log
  // holds on disk is unknown. The next open recovers from the log as it is.
  if (sync_failed_ && writer_) writer_->KeepLogOnClose();
  if (sync_failed_ && reader_) reader_->KeepLogOnClose();
  writer_.reset();
  reader_.reset();
  if (wal_fd_ >= 0) ::close(wal_fd_);
  ::close(lock_fd_);
}

Status SqliteStore::Enqueue(WriteOp& op) {
  {
    std::lock_guard lock(mu_);
    if (stopping_) return Status::Error("cannot store: the store is closing");
    // Writes the writer has taken still count until acknowledged: a stalled sync must not let
    // committed-but-unsynced batches grow without bound.
    if (queue_.size() + unacked_ >= options_.max_queue) {
      return Status::Error("cannot store: " + std::to_string(queue_.size() + unacked_) +
                           " writes are already waiting for " + path_ +
                           " (the disk is not keeping up)");
    }
    op.seq = next_seq_++;
    queue_.push_back(std::move(op));
  }
  wake_.notify_one();
  return Status::Ok();
}

Status SqliteStore::SaveState(const CheckKey& key, const CheckState& state) {
  WriteOp op{WriteOp::Kind::kSaveState, 0, key, {}, state, nullptr};
  return Enqueue(op);
}

Status SqliteStore::DeleteState(const CheckKey& key) {
  WriteOp op{WriteOp::Kind::kDeleteState, 0, key, {}, {}, nullptr};
  return Enqueue(op);
}

void SqliteStore::CommitRun(const RunRecord& run, const CheckState& state,
                            std::function<void(Status)> done) {
  WriteOp op{WriteOp::Kind::kRun, 0, run.key, run, state, std::move(done)};
  if (Status s = Enqueue(op); !s.ok() && op.done) op.done(s);
}

void SqliteStore::SaveHeartbeatToken(const CheckKey& key, const std::string& token,
                                     std::function<void(Status)> done) {
  WriteOp op{WriteOp::Kind::kToken, 0, key, {}, {}, std::move(done), token};
  if (Status s = Enqueue(op); !s.ok() && op.done) op.done(s);
}

Result<std::map<CheckKey, std::string>> SqliteStore::LoadHeartbeatTokens() {
  std::unique_lock lock(mu_);
  const uint64_t target = next_seq_ - 1;
  processed_.wait(lock, [&] { return processed_seq_ >= target; });
  return reader_->LoadHeartbeatTokens();
}

void SqliteStore::WriterLoop() {
  auto retry_at = std::chrono::steady_clock::time_point::min();
  bool pruning = false;
  for (;;) {
    std::vector<WriteOp> batch;
    bool retry_due = false;
    bool stop = false;
    bool sync_failed = false;
    {
      std::unique_lock lock(mu_);
      if (!pruning) wake_.wait_for(lock, kIdleWake, [&] { return stopping_ || !queue_.empty(); });
      while (!queue_.empty() && batch.size() < options_.max_batch) {
        batch.push_back(std::move(queue_.front()));
        queue_.pop_front();
      }
      unacked_ += batch.size();
      stop = stopping_ && queue_.empty();
      sync_failed = sync_failed_.has_value();
      retry_due = !retry_states_.empty() && (stop || std::chrono::steady_clock::now() >= retry_at);
    }
    if (!batch.empty() || retry_due) {
      if (!RunBatch(std::move(batch))) retry_at = std::chrono::steady_clock::now() + kRetryDelay;
    }
    if (stop) return;
    pruning = !sync_failed && MaybePrune(pruning);
  }
}

bool SqliteStore::RunBatch(std::vector<WriteOp> batch) {
  std::map<CheckKey, StateWrite> retries;
  std::optional<Status> refused;
  {
    std::lock_guard lock(mu_);
    refused = sync_failed_;
    // A later state write of the same check in this batch supersedes a failed one (and is
    // kept for retry itself if this batch fails too). A run's state does not: if the run
    // fails alone, the retried state must still land; if it succeeds it is applied later.
    for (const WriteOp& op : batch) {
      if (op.IsStateWrite()) retry_states_.erase(op.key);
    }
    retries = retry_states_;
  }
  SqliteWriter::BatchResult result;
  if (refused) {
    result.ops.assign(batch.size(), *refused);  // nothing new goes into a log that failed
  } else {
    result = writer_->Apply(retries, batch);
  }
  Settled settled{result.committed, {}, std::move(result.ops)};
  settled.done.reserve(batch.size());
  for (WriteOp& op : batch) settled.done.push_back(std::move(op.done));
  {
    std::lock_guard lock(mu_);
    if (result.committed) {
      for (const auto& [key, write] : retries) {
        auto it = retry_states_.find(key);
        if (it != retry_states_.end() && it->second.seq == write.seq) retry_states_.erase(it);
      }
    } else {
      for (const WriteOp& op : batch) {
        if (!op.IsStateWrite()) continue;  // runs and tokens fail back to their caller
        auto& slot = retry_states_[op.key];
        if (slot.seq < op.seq) {
          slot = {op.seq, op.kind == WriteOp::Kind::kSaveState ? std::optional<CheckState>(op.state)
                                                               : std::nullopt};
        }
      }
    }
    if (!batch.empty()) {
      processed_seq_ = batch.back().seq;
      settled_.push_back(std::move(settled));
    }
  }
  processed_.notify_all();
  settled_wake_.notify_one();
  return result.committed;
}

// Acknowledges settled batches in order, a committed one only after a sync that started once
// its COMMIT had returned. Batches that settle during a sync wait for the next one, so a sync
// covers every batch committed meanwhile.
void SqliteStore::SyncerLoop() {
  for (;;) {
    std::deque<Settled> settled;
    std::optional<Status> failed;
    {
      std::unique_lock lock(mu_);
      settled_wake_.wait(lock, [&] { return writer_done_ || !settled_.empty(); });
      if (settled_.empty()) return;  // the writer has ended and every batch is acknowledged
      settled.swap(settled_);
      failed = sync_failed_;
    }
    const bool committed =
        std::any_of(settled.begin(), settled.end(), [](const Settled& b) { return b.committed; });
    if (committed && !failed) {
      if (Status s = options_.sync(); !s.ok()) {
        failed =
            Status::Error("cannot store (" + path_ + "): syncing its write-ahead log failed (" +
                          s.message() + "); writes are refused until sonde restarts");
        std::lock_guard lock(mu_);
        sync_failed_ = failed;
      }
    }
    size_t acked = 0;
    for (Settled& b : settled) {
      for (size_t i = 0; i < b.done.size(); ++i) {
        if (b.done[i]) b.done[i](b.committed && failed ? *failed : b.results[i]);
      }
      acked += b.done.size();
    }
    std::lock_guard lock(mu_);
    unacked_ -= acked;
  }
}

bool SqliteStore::MaybePrune(bool pruning) {
  if (!pruning) {
    const TimePoint now = clock_.Now();
    if (now < next_prune_) return false;
    next_prune_ = now + options_.prune_interval;
    writer_->BeginPrunePass();
  }
  return writer_->PruneStep();
}

Result<std::map<CheckKey, CheckState>> SqliteStore::TryLoadStates() {
  std::unique_lock lock(mu_);
  const uint64_t target = next_seq_ - 1;
  processed_.wait(lock, [&] { return processed_seq_ >= target; });
  // Holding mu_, no batch can settle its retries between this read and the overlay below.
  auto states = reader_->LoadStates();
  if (!states.ok()) return states;
  for (const auto& [key, write] : retry_states_) {
    if (write.state) {
      states.value()[key] = *write.state;
    } else {
      states.value().erase(key);
    }
  }
  return states;
}

std::map<CheckKey, CheckState> SqliteStore::LoadStates() {
  auto states = TryLoadStates();
  return states.ok() ? std::move(states.value()) : std::map<CheckKey, CheckState>{};
}

Result<std::vector<RunRecord>> SqliteStore::History(const HistoryQuery& query) {
  return reader_->History(query);
}

Result<std::vector<DowntimeEvent>> SqliteStore::Events(const std::optional<CheckKey>& key,
                                                       std::optional<TimePoint> since,
                                                       size_t limit) {
  return reader_->Events(key, since, limit);
}

Result<std::optional<DowntimeEvent>> SqliteStore::OpenEvent(const CheckKey& key) {
  return reader_->OpenEvent(key);
}

Result<UptimeStats> SqliteStore::Uptime(const CheckKey& key, Duration window, TimePoint now) {
  return reader_->Uptime(key, window, now);
}

Result<std::vector<UptimeSegment>> SqliteStore::UptimeSegments(const CheckKey& key, TimePoint from,
                                                               Duration segment, size_t count,
                                                               TimePoint now) {
  auto fast = reader_->UptimeSegments(key, from, segment, count, now);
  if (!fast.ok() || fast.value()) {
    if (!fast.ok()) return Result<std::vector<UptimeSegment>>::Error(fast.error());
    return std::move(*fast.value());
  }
  return Store::UptimeSegments(key, from, segment, count, now);
}

}  // namespace sonde
