#include "store/sqlite_db.hpp"

namespace sonde {
namespace {

DbStatus ErrorOf(sqlite3* db, int rc) {
  std::string message = sqlite3_errstr(rc);
  const char* detail = db ? sqlite3_errmsg(db) : nullptr;
  if (detail && message != detail) message += std::string(" (") + detail + ")";
  return {rc, std::move(message)};
}

}  // namespace

bool DbStatus::AbortsTransaction() const {
  switch (code & 0xff) {
    case SQLITE_OK:
    case SQLITE_CONSTRAINT:
    case SQLITE_MISMATCH:
    case SQLITE_TOOBIG:
    case SQLITE_RANGE:
      return false;
    default:
      return true;
  }
}

Stmt& Stmt::operator=(Stmt&& other) noexcept {
  if (this != &other) {
    sqlite3_finalize(stmt_);
    stmt_ = other.stmt_;
    dirty_ = other.dirty_;
    other.stmt_ = nullptr;
  }
  return *this;
}

Stmt::~Stmt() { sqlite3_finalize(stmt_); }

Stmt& Stmt::Bind(int i, int64_t v) {
  dirty_ = true;
  sqlite3_bind_int64(stmt_, i, v);
  return *this;
}

Stmt& Stmt::Bind(int i, std::string_view text) {
  dirty_ = true;
  sqlite3_bind_text64(stmt_, i, text.data(), text.size(), SQLITE_TRANSIENT, SQLITE_UTF8);
  return *this;
}

Stmt& Stmt::Bind(int i, std::optional<int64_t> v) {
  if (v) return Bind(i, *v);
  dirty_ = true;
  sqlite3_bind_null(stmt_, i);
  return *this;
}

Stmt& Stmt::BindBlob(int i, std::string_view bytes) {
  // A zero-length blob, not NULL, for an empty value.
  dirty_ = true;
  sqlite3_bind_blob64(stmt_, i, bytes.empty() ? "" : bytes.data(), bytes.size(), SQLITE_TRANSIENT);
  return *this;
}

bool Stmt::Step() {
  dirty_ = true;
  const int rc = sqlite3_step(stmt_);
  if (rc == SQLITE_ROW) return true;
  if (rc == SQLITE_DONE) {
    status_ = DbStatus::Ok();
  } else {
    status_ = ErrorOf(sqlite3_db_handle(stmt_), rc);
  }
  return false;
}

DbStatus Stmt::Run() {
  while (Step()) {
  }
  DbStatus s = status_;
  Reset();
  return s;
}

void Stmt::Reset() {
  sqlite3_reset(stmt_);
  sqlite3_clear_bindings(stmt_);
  status_ = DbStatus::Ok();
  dirty_ = false;
}

std::optional<int64_t> Stmt::OptInt(int col) const {
  if (IsNull(col)) return std::nullopt;
  return Int(col);
}

std::string Stmt::Text(int col) const {
  const auto* p = reinterpret_cast<const char*>(sqlite3_column_text(stmt_, col));
  return p ? std::string(p, static_cast<size_t>(sqlite3_column_bytes(stmt_, col))) : std::string();
}

std::string_view Stmt::Blob(int col) const {
  const void* p = sqlite3_column_blob(stmt_, col);
  if (!p) return {};
  return {static_cast<const char*>(p), static_cast<size_t>(sqlite3_column_bytes(stmt_, col))};
}

Result<std::unique_ptr<Db>> Db::Open(const std::string& path, int flags) {
  sqlite3* raw = nullptr;
  const int rc = sqlite3_open_v2(path.c_str(), &raw, flags, nullptr);
  if (rc != SQLITE_OK) {
    std::string message = ErrorOf(raw, rc).message;
    sqlite3_close(raw);
    return Result<std::unique_ptr<Db>>::Error(std::move(message));
  }
  sqlite3_extended_result_codes(raw, 1);
  return std::unique_ptr<Db>(new Db(raw));
}

Db::~Db() {
  cache_.clear();  // statements first: sqlite3_close refuses while any are alive
  sqlite3_close(db_);
}

DbStatus Db::Exec(const std::string& sql) {
  const int rc = sqlite3_exec(db_, sql.c_str(), nullptr, nullptr, nullptr);
  return rc == SQLITE_OK ? DbStatus::Ok() : ErrorOf(db_, rc);
}

Stmt* Db::Prepare(std::string_view sql, DbStatus* error) {
  auto it = cache_.find(sql);
  if (it != cache_.end()) {
    // Run() leaves its statement reset: a hot statement is not reset and unbound twice.
    if (it->second.dirty()) it->second.Reset();
    return &it->second;
  }
  sqlite3_stmt* raw = nullptr;
  const int rc = sqlite3_prepare_v3(db_, sql.data(), static_cast<int>(sql.size()),
                                    SQLITE_PREPARE_PERSISTENT, &raw, nullptr);
  if (rc != SQLITE_OK) {
    *error = ErrorOf(db_, rc);
    sqlite3_finalize(raw);
    return nullptr;
  }
  return &cache_.emplace(std::string(sql), Stmt(raw)).first->second;
}

DbStatus Db::Run(std::string_view sql) {
  DbStatus err;
  Stmt* s = Prepare(sql, &err);
  return s ? s->Run() : err;
}

Result<int64_t> Db::QueryInt(const std::string& sql) {
  DbStatus error;
  Stmt* stmt = Prepare(sql, &error);
  if (!stmt) return Result<int64_t>::Error(error.message);
  if (!stmt->Step()) {
    const std::string why = stmt->status().ok() ? "no result" : stmt->status().message;
    stmt->Reset();
    return Result<int64_t>::Error(why);
  }
  const int64_t v = stmt->Int(0);
  stmt->Reset();
  return v;
}

Result<std::string> Db::QueryText(const std::string& sql) {
  DbStatus error;
  Stmt* stmt = Prepare(sql, &error);
  if (!stmt) return Result<std::string>::Error(error.message);
  if (!stmt->Step()) {
    const std::string why = stmt->status().ok() ? "no result" : stmt->status().message;
    stmt->Reset();
    return Result<std::string>::Error(why);
  }
  std::string v = stmt->Text(0);
  stmt->Reset();
  return v;
}

DbStatus Db::LastError() const { return ErrorOf(db_, sqlite3_extended_errcode(db_)); }

}  // namespace sonde
