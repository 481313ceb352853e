#include "store/sqlite_schema.hpp"

#include <cstdio>
#include <fstream>
#include <iterator>

namespace sonde {
namespace {

// Append-only: a released migration never changes; a new schema is a new entry.
// Times are Unix nanoseconds. `at_ns` is a run's timeline point (see TimelinePoint).
constexpr const char* kMigrations[] = {
    R"sql(
CREATE TABLE check_keys(
  id INTEGER PRIMARY KEY,
  ns TEXT NOT NULL,
  name TEXT NOT NULL,
  UNIQUE(ns, name));
CREATE TABLE check_states(
  check_id INTEGER PRIMARY KEY REFERENCES check_keys(id),
  ok INTEGER NOT NULL,
  errors TEXT NOT NULL,
  run_duration_ns INTEGER NOT NULL,
  node TEXT NOT NULL,
  authoritative_pod TEXT NOT NULL,
  last_run_ns INTEGER,
  run_uuid TEXT NOT NULL,
  current_uuid TEXT NOT NULL,
  last_run_start_ns INTEGER,
  last_ok_ns INTEGER,
  last_failure_ns INTEGER,
  consecutive_failures INTEGER NOT NULL,
  success_count INTEGER NOT NULL,
  failure_count INTEGER NOT NULL);
CREATE TABLE runs(
  id INTEGER PRIMARY KEY,
  check_id INTEGER NOT NULL REFERENCES check_keys(id),
  run_uuid TEXT NOT NULL,
  started_ns INTEGER NOT NULL,
  finished_ns INTEGER NOT NULL,
  at_ns INTEGER NOT NULL,
  ok INTEGER NOT NULL,
  errors TEXT NOT NULL,
  ended_by TEXT NOT NULL,
  instance TEXT NOT NULL);
CREATE UNIQUE INDEX runs_by_uuid ON runs(run_uuid) WHERE run_uuid <> '';
CREATE INDEX runs_by_finished ON runs(check_id, finished_ns);
CREATE INDEX runs_by_at ON runs(check_id, at_ns);
CREATE TABLE events(
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  check_id INTEGER NOT NULL REFERENCES check_keys(id),
  start_ns INTEGER NOT NULL,
  end_ns INTEGER,
  end_sort INTEGER NOT NULL,
  first_error TEXT NOT NULL,
  last_error TEXT NOT NULL,
  failed_runs INTEGER NOT NULL);
CREATE INDEX events_by_start ON events(check_id, start_ns);
CREATE INDEX events_by_check_end ON events(check_id, end_sort);
CREATE INDEX events_by_end ON events(end_sort);
CREATE TABLE timelines(
  check_id INTEGER PRIMARY KEY REFERENCES check_keys(id),
  first_at_ns INTEGER NOT NULL,
  last_at_ns INTEGER NOT NULL,
  last_ok INTEGER NOT NULL,
  open_event_id INTEGER REFERENCES events(id));
CREATE TABLE rollup_hourly(
  check_id INTEGER NOT NULL REFERENCES check_keys(id),
  bucket_ns INTEGER NOT NULL,
  ok_ns INTEGER NOT NULL DEFAULT 0,
  observed_ns INTEGER NOT NULL DEFAULT 0,
  runs INTEGER NOT NULL DEFAULT 0,
  duration_sum_ns INTEGER NOT NULL DEFAULT 0,
  histogram BLOB NOT NULL DEFAULT x'',
  PRIMARY KEY(check_id, bucket_ns)) WITHOUT ROWID;
CREATE TABLE rollup_daily(
  check_id INTEGER NOT NULL REFERENCES check_keys(id),
  bucket_ns INTEGER NOT NULL,
  ok_ns INTEGER NOT NULL DEFAULT 0,
  observed_ns INTEGER NOT NULL DEFAULT 0,
  runs INTEGER NOT NULL DEFAULT 0,
  duration_sum_ns INTEGER NOT NULL DEFAULT 0,
  histogram BLOB NOT NULL DEFAULT x'',
  PRIMARY KEY(check_id, bucket_ns)) WITHOUT ROWID;
)sql",
    // v2: heartbeat checks' reporting tokens (issue #9).
    R"sql(
CREATE TABLE heartbeat_tokens(
  check_id INTEGER PRIMARY KEY REFERENCES check_keys(id),
  token TEXT NOT NULL UNIQUE);
)sql",
};

std::string Cannot(const std::string& path, const std::string& why) {
  return "cannot use state database " + path + ": " + why;
}

constexpr const char* kMoveAside =
    ". Stop sonde and move the file (with any -wal and -shm files beside it) aside to start "
    "with empty history, restore a backup, or choose another --state-dir";

// A non-empty file must start with SQLite's magic header; say so before SQLite guesses.
bool LooksLikeSqlite(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return true;  // missing: SQLite creates it
  char header[16] = {};
  in.read(header, sizeof header);
  if (in.gcount() == 0) return true;  // empty: SQLite treats it as a new database
  return in.gcount() == sizeof header && std::string(header, 15) == "SQLite format 3";
}

Result<std::unique_ptr<Db>> Fail(const std::string& path, const std::string& why) {
  return Result<std::unique_ptr<Db>>::Error(Cannot(path, why));
}

std::string Hex(int64_t v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "0x%08llx", static_cast<unsigned long long>(v));
  return buf;
}

// Refuses foreign, corrupt and newer files; true when the file is new (no schema yet).
Result<bool> Validate(Db& db, const std::string& path) {
  auto app_id = db.QueryInt("PRAGMA application_id");
  auto tables = db.QueryInt("SELECT count(*) FROM sqlite_schema");
  if (!app_id.ok() || !tables.ok()) {
    const std::string why = app_id.ok() ? tables.error() : app_id.error();
    return Result<bool>::Error(
        Cannot(path, "it is not a readable SQLite database (" + why + ")" + kMoveAside));
  }
  if (app_id.value() == 0 && tables.value() == 0) return true;
  if (app_id.value() != kSondeApplicationId) {
    return Result<bool>::Error(
        Cannot(path, "it is not a Sonde database (application_id " + Hex(app_id.value()) + ", " +
                         std::to_string(tables.value()) + " tables)" + kMoveAside));
  }
  auto check = db.QueryText("PRAGMA quick_check(1)");
  if (!check.ok() || check.value() != "ok") {
    return Result<bool>::Error(
        Cannot(path, "it is corrupt (quick_check: " + (check.ok() ? check.value() : check.error()) +
                         ")" + kMoveAside));
  }
  auto version = db.QueryInt("PRAGMA user_version");
  if (!version.ok()) return Result<bool>::Error(Cannot(path, version.error()));
  if (version.value() > LatestSchemaVersion()) {
    return Result<bool>::Error(
        Cannot(path, "it was written by a newer Sonde (schema version " +
                         std::to_string(version.value()) + ", this build knows up to " +
                         std::to_string(LatestSchemaVersion()) + "); run that version or newer"));
  }
  return false;
}

DbStatus Migrate(Db& db, bool fresh) {
  auto version = db.QueryInt("PRAGMA user_version");
  if (!version.ok()) return {SQLITE_ERROR, version.error()};
  for (int64_t v = version.value(); v < LatestSchemaVersion(); ++v) {
    std::string sql = "BEGIN IMMEDIATE;\n";
    if (fresh && v == 0)
      sql += "PRAGMA application_id = " + std::to_string(kSondeApplicationId) + ";\n";
    sql += kMigrations[v];
    sql += "PRAGMA user_version = " + std::to_string(v + 1) + ";\nCOMMIT;";
    if (DbStatus s = db.Exec(sql); !s.ok()) {
      if (db.InTransaction()) db.Exec("ROLLBACK");
      s.message = "migration to schema version " + std::to_string(v + 1) + " failed: " + s.message;
      return s;
    }
  }
  db.ClearCache();
  return DbStatus::Ok();
}

DbStatus SetPragmas(Db& db) {
  auto mode = db.QueryText("PRAGMA journal_mode = WAL");
  if (!mode.ok()) return {SQLITE_ERROR, mode.error()};
  if (mode.value() != "wal")
    return {SQLITE_ERROR, "cannot switch to WAL (journal_mode " + mode.value() + ")"};
  // FULL: in WAL mode every commit fsyncs the WAL before returning, so an acknowledged
  // commit survives power loss, not just a process crash.
  return db.Exec(
      "PRAGMA synchronous = FULL; PRAGMA foreign_keys = ON; PRAGMA busy_timeout = 5000;"
      // After a burst, checkpoints shrink the WAL back to this size rather than keep it.
      "PRAGMA journal_size_limit = 67108864;");
}

}  // namespace

int LatestSchemaVersion() { return static_cast<int>(std::size(kMigrations)); }

Result<std::unique_ptr<Db>> OpenWriteConnection(const std::string& path) {
  if (!LooksLikeSqlite(path)) {
    return Fail(path, std::string("it is not a SQLite database (wrong file header)") + kMoveAside);
  }
  auto opened = Db::Open(path, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX);
  if (!opened.ok()) return Fail(path, opened.error());
  std::unique_ptr<Db> db = std::move(opened.value());
  if (sqlite3_db_readonly(db->get(), "main") == 1) {
    return Fail(path,
                "the file is not writable; fix its permissions or choose another --state-dir");
  }
  auto fresh = Validate(*db, path);
  if (!fresh.ok()) return Result<std::unique_ptr<Db>>::Error(fresh.error());
  if (DbStatus s = SetPragmas(*db); !s.ok()) return Fail(path, s.message);
  if (DbStatus s = Migrate(*db, fresh.value()); !s.ok()) {
    return Fail(path, s.IsDiskFull() ? "disk full: " + s.message : s.message);
  }
  return db;
}

Result<std::unique_ptr<Db>> OpenReadConnection(const std::string& path) {
  auto opened = Db::Open(path, SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX);
  if (!opened.ok()) return Fail(path, opened.error());
  std::unique_ptr<Db> db = std::move(opened.value());
  if (DbStatus s = db->Exec("PRAGMA query_only = ON; PRAGMA busy_timeout = 5000;"); !s.ok()) {
    return Fail(path, s.message);
  }
  return db;
}

}  // namespace sonde
