// Small RAII wrappers over SQLite's C API: a connection (Db) and a prepared statement (Stmt).
// Thread safety: a Db and its statements are used by one thread at a time (the owner serialises:
// the store's writer thread, or the reader's mutex). Failure: calls return DbStatus values
// carrying SQLite's extended result code and message; nothing throws.
#pragma once

#include <sqlite3.h>

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "core/result.hpp"

namespace sonde {

// OK, or an SQLite error: its extended result code and a message.
struct DbStatus {
  int code = SQLITE_OK;
  std::string message;

  bool ok() const { return code == SQLITE_OK; }
  static DbStatus Ok() { return {}; }
  // True for failures that may have rolled back the whole transaction (I/O, full, corrupt,
  // out of memory, busy) rather than only the statement (constraints).
  bool AbortsTransaction() const;
  bool IsDiskFull() const { return (code & 0xff) == SQLITE_FULL; }
};

class Stmt {
 public:
  Stmt() = default;
  explicit Stmt(sqlite3_stmt* stmt) : stmt_(stmt) {}
  Stmt(Stmt&& other) noexcept : stmt_(other.stmt_), dirty_(other.dirty_) { other.stmt_ = nullptr; }
  Stmt& operator=(Stmt&& other) noexcept;
  Stmt(const Stmt&) = delete;
  Stmt& operator=(const Stmt&) = delete;
  ~Stmt();

  // Parameters count from 1, as in SQLite. Text and blobs are copied.
  Stmt& Bind(int i, int64_t v);
  Stmt& Bind(int i, std::string_view text);
  Stmt& Bind(int i, std::optional<int64_t> v);
  Stmt& BindBlob(int i, std::string_view bytes);

  // One step: true with a row, false when done (or on error; see status()).
  bool Step();
  // Steps until done; the status of the run.
  DbStatus Run();
  // Bound or stepped since the last Reset.
  bool dirty() const { return dirty_; }
  // The error of the last Step, if it failed.
  const DbStatus& status() const { return status_; }
  // Ready for new bindings and a new run (also ends the statement's read of the database and
  // clears status()).
  void Reset();

  int64_t Int(int col) const { return sqlite3_column_int64(stmt_, col); }
  bool IsNull(int col) const { return sqlite3_column_type(stmt_, col) == SQLITE_NULL; }
  std::optional<int64_t> OptInt(int col) const;
  std::string Text(int col) const;
  std::string_view Blob(int col) const;

 private:
  sqlite3_stmt* stmt_ = nullptr;
  DbStatus status_;
  bool dirty_ = false;  // bound or stepped since the last Reset (Db::Prepare skips a clean one)
};

class Db {
 public:
  // Opens (flags: SQLITE_OPEN_*) with extended result codes on.
  static Result<std::unique_ptr<Db>> Open(const std::string& path, int flags);
  ~Db();
  Db(const Db&) = delete;
  Db& operator=(const Db&) = delete;

  // Runs one or more statements without results.
  DbStatus Exec(const std::string& sql);
  // Runs one statement without results through the statement cache: for statements a hot
  // path repeats (BEGIN, SAVEPOINT, COMMIT), which Exec would parse again each time.
  DbStatus Run(std::string_view sql);
  // A cached prepared statement for `sql` (same text, same statement), reset and unbound;
  // nullptr on failure, with the reason in `error`.
  Stmt* Prepare(std::string_view sql, DbStatus* error);
  // A single integer or text result of a query (e.g. a PRAGMA).
  Result<int64_t> QueryInt(const std::string& sql);
  Result<std::string> QueryText(const std::string& sql);

  DbStatus LastError() const;
  bool InTransaction() const { return sqlite3_get_autocommit(db_) == 0; }
  int64_t LastInsertId() const { return sqlite3_last_insert_rowid(db_); }
  // Rows changed by the last INSERT, UPDATE or DELETE.
  int64_t Changes() const { return sqlite3_changes64(db_); }
  sqlite3* get() const { return db_; }
  // Drops cached statements (before closing, or after the schema changes).
  void ClearCache() { cache_.clear(); }
  // Closing this connection, even as the last one, leaves the write-ahead log as it is rather
  // than checkpointing it into the database (for a log whose sync failed).
  void KeepLogOnClose() { sqlite3_db_config(db_, SQLITE_DBCONFIG_NO_CKPT_ON_CLOSE, 1, nullptr); }

 private:
  explicit Db(sqlite3* db) : db_(db) {}
  sqlite3* db_;
  std::map<std::string, Stmt, std::less<>> cache_;  // transparent: no key copy per lookup
};

// A deferred transaction for reads, so that a multi-query answer sees one snapshot; ends
// (COMMIT) when destroyed.
class ReadTxn {
 public:
  explicit ReadTxn(Db& db) : db_(db), status_(db.Exec("BEGIN")) {}
  ~ReadTxn() {
    if (status_.ok()) db_.Exec("COMMIT");
  }
  ReadTxn(const ReadTxn&) = delete;
  ReadTxn& operator=(const ReadTxn&) = delete;
  const DbStatus& status() const { return status_; }

 private:
  Db& db_;
  DbStatus status_;
};

}  // namespace sonde
