#include "store/sqlite_checkpointer.hpp"

namespace sonde {

Result<std::unique_ptr<SqliteCheckpointer>> SqliteCheckpointer::Start(const std::string& path,
                                                                      int background_frames,
                                                                      int inline_frames) {
  using R = Result<std::unique_ptr<SqliteCheckpointer>>;
  auto db = Db::Open(path, SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX);
  if (!db.ok()) return R::Error("cannot use state database " + path + ": " + db.error());
  // FULL: the WAL is synced before its pages are copied and sonde.db after, as the writer's
  // automatic checkpoint did, so a restarted WAL never drops a committed page.
  if (DbStatus s = db.value()->Exec("PRAGMA synchronous = FULL; PRAGMA busy_timeout = 5000;");
      !s.ok()) {
    return R::Error("cannot use state database " + path + ": " + s.message);
  }
  std::unique_ptr<SqliteCheckpointer> c(
      new SqliteCheckpointer(std::move(db.value()), background_frames, inline_frames));
  c->thread_ = std::thread([p = c.get()] { p->Loop(); });
  return c;
}

SqliteCheckpointer::SqliteCheckpointer(std::unique_ptr<Db> db, int background_frames,
                                       int inline_frames)
    : db_(std::move(db)), background_frames_(background_frames), inline_frames_(inline_frames) {}

SqliteCheckpointer::~SqliteCheckpointer() {
  {
    std::lock_guard lock(mu_);
    stopping_ = true;
  }
  wake_.notify_all();
  if (thread_.joinable()) thread_.join();
}

void SqliteCheckpointer::Attach(Db& writer) { sqlite3_wal_hook(writer.get(), OnCommit, this); }

int SqliteCheckpointer::OnCommit(void* self, sqlite3* db, const char* schema, int frames) {
  auto* c = static_cast<SqliteCheckpointer*>(self);
  int copied = c->copied_.load();
  if (frames < copied) {  // the WAL started over
    copied = 0;
    c->copied_.store(0);
  }
  if (frames >= c->inline_frames_) {
    int log = 0;
    int done = 0;
    // PASSIVE: busy (the thread is checkpointing) is fine; the next commit tries again.
    if (sqlite3_wal_checkpoint_v2(db, schema, SQLITE_CHECKPOINT_PASSIVE, &log, &done) ==
        SQLITE_OK) {
      c->copied_.store(done);
    }
  } else if (frames - copied >= c->background_frames_) {
    {
      std::lock_guard lock(c->mu_);
      c->due_ = true;
    }
    c->wake_.notify_one();
  }
  return SQLITE_OK;
}

void SqliteCheckpointer::Loop() {
  for (;;) {
    {
      std::unique_lock lock(mu_);
      wake_.wait(lock, [&] { return due_ || stopping_; });
      if (stopping_) return;
      due_ = false;
    }
    int log = 0;
    int done = 0;
    if (sqlite3_wal_checkpoint_v2(db_->get(), "main", SQLITE_CHECKPOINT_PASSIVE, &log, &done) ==
        SQLITE_OK) {
      copied_.store(done);
    }
  }
}

}  // namespace sonde
