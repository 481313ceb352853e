// Checkpoints the store's WAL on a thread and connection of its own, so that copying committed
// pages into sonde.db and syncing it does not stall the writer's group commits (SQLite's
// automatic checkpoint runs inside the COMMIT that crosses its threshold, on the writer).
// Thread safety: OnCommit runs on the writer's thread (SQLite's WAL hook); the rest is internal.
// Failure: a failed or busy checkpoint is only tried again later; commits never wait for it.
#pragma once

#include <atomic>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <string>
#include <thread>

#include "core/result.hpp"
#include "store/sqlite_db.hpp"

namespace sonde {

class SqliteCheckpointer {
 public:
  // After a commit leaves `background_frames` more frames in the WAL than the last checkpoint
  // copied, the thread checkpoints (PASSIVE: never blocks the writer). A writer that never
  // pauses leaves frames past every background checkpoint, so the WAL would never start over:
  // at `inline_frames` the committing thread checkpoints itself (copying only what the
  // background checkpoints have not), and the next transaction restarts the WAL.
  static Result<std::unique_ptr<SqliteCheckpointer>> Start(const std::string& path,
                                                           int background_frames,
                                                           int inline_frames);
  ~SqliteCheckpointer();  // waits for a checkpoint in progress
  SqliteCheckpointer(const SqliteCheckpointer&) = delete;
  SqliteCheckpointer& operator=(const SqliteCheckpointer&) = delete;

  // Takes over checkpoints of the writer's connection (replacing its automatic checkpoint).
  // `writer` must be closed before this object is destroyed.
  void Attach(Db& writer);

 private:
  SqliteCheckpointer(std::unique_ptr<Db> db, int background_frames, int inline_frames);
  static int OnCommit(void* self, sqlite3* db, const char* schema, int frames);
  void Loop();

  std::unique_ptr<Db> db_;  // the thread's connection
  const int background_frames_;
  const int inline_frames_;
  std::atomic<int> copied_{0};  // WAL frames the last checkpoint copied (0 after a restart)
  std::mutex mu_;
  std::condition_variable wake_;
  bool due_ = false;
  bool stopping_ = false;
  std::thread thread_;
};

}  // namespace sonde
