#include "store/sqlite_reader.hpp"

#include <algorithm>
#include <limits>

namespace sonde {
namespace {

constexpr int64_t kMinNs = std::numeric_limits<int64_t>::min();
constexpr int64_t kMaxNs = std::numeric_limits<int64_t>::max();

CheckState StateFromRow(const Stmt& s, int c) {
  CheckState st;
  st.ok = s.Int(c) != 0;
  st.errors = DecodeErrors(s.Text(c + 1));
  st.run_duration = Duration(s.Int(c + 2));
  st.node = s.Text(c + 3);
  st.authoritative_pod = s.Text(c + 4);
  st.last_run = FromNs(s.OptInt(c + 5));
  st.run_uuid = s.Text(c + 6);
  st.current_uuid = s.Text(c + 7);
  st.last_run_start = FromNs(s.OptInt(c + 8));
  st.last_ok = FromNs(s.OptInt(c + 9));
  st.last_failure = FromNs(s.OptInt(c + 10));
  st.consecutive_failures = s.Int(c + 11);
  st.success_count = s.Int(c + 12);
  st.failure_count = s.Int(c + 13);
  return st;
}

DowntimeEvent EventFromRow(const Stmt& s, const CheckKey& key) {
  // Columns: id, start_ns, end_ns, first_error, last_error, failed_runs.
  return {s.Int(0), key, FromNs(s.Int(1)), FromNs(s.OptInt(2)), s.Text(3), s.Text(4), s.Int(5)};
}

// Each variant is an index range scan in result order or bounded by `since`. end_sort is the
// end, or the largest integer while open, so "open or ended at or after since" is one range.
// Per check, events are disjoint and in commit order, so start order is id order.
std::string EventsQuery(bool by_check, bool by_since) {
  const char* index = by_check ? (by_since ? "events_by_check_end" : "events_by_start")
                               : (by_since ? "events_by_end" : nullptr);
  std::string sql =
      "SELECT e.id, e.start_ns, e.end_ns, e.first_error, e.last_error, e.failed_runs, k.ns,"
      " k.name FROM events e ";
  if (index) sql += std::string("INDEXED BY ") + index;
  sql += " JOIN check_keys k ON k.id = e.check_id WHERE 1";  // ?1 check id, ?2 since, ?3 limit
  if (by_check) sql += " AND e.check_id = ?1";
  if (by_since) sql += " AND e.end_sort >= ?2";
  sql += by_check && !by_since ? " ORDER BY e.start_ns DESC, e.id DESC" : " ORDER BY e.id DESC";
  return sql + " LIMIT ?3";
}

int64_t Capped(size_t limit) { return static_cast<int64_t>(std::min(limit, kMaxQueryLimit)); }

}  // namespace

SqliteReader::SqliteReader(std::unique_ptr<Db> db, std::string path, Retention retention,
                           const Clock& clock)
    : db_(std::move(db)), path_(std::move(path)), retention_(retention), clock_(clock) {}

std::string SqliteReader::Error(const DbStatus& s) const {
  return "cannot read state database " + path_ + ": " + s.message;
}

DbStatus SqliteReader::CheckId(const CheckKey& key, std::optional<int64_t>* id) {
  DbStatus err;
  Stmt* s = db_->Prepare("SELECT id FROM check_keys WHERE ns = ? AND name = ?", &err);
  if (!s) return err;
  s->Bind(1, key.ns).Bind(2, key.name);
  if (s->Step()) *id = s->Int(0);
  err = s->status();
  s->Reset();
  return err;
}

Result<std::map<CheckKey, CheckState>> SqliteReader::LoadStates() {
  using R = Result<std::map<CheckKey, CheckState>>;
  std::lock_guard lock(mu_);
  DbStatus err;
  Stmt* s = db_->Prepare(
      "SELECT k.ns, k.name, s.ok, s.errors, s.run_duration_ns, s.node, s.authoritative_pod,"
      " s.last_run_ns, s.run_uuid, s.current_uuid, s.last_run_start_ns, s.last_ok_ns,"
      " s.last_failure_ns, s.consecutive_failures, s.success_count, s.failure_count"
      " FROM check_states s JOIN check_keys k ON k.id = s.check_id",
      &err);
  if (!s) return R::Error(Error(err));
  std::map<CheckKey, CheckState> out;
  while (s->Step()) out[CheckKey{s->Text(0), s->Text(1)}] = StateFromRow(*s, 2);
  err = s->status();
  s->Reset();
  if (!err.ok()) return R::Error(Error(err));
  return out;
}

Result<std::map<CheckKey, std::string>> SqliteReader::LoadHeartbeatTokens() {
  using R = Result<std::map<CheckKey, std::string>>;
  std::lock_guard lock(mu_);
  DbStatus err;
  Stmt* s = db_->Prepare(
      "SELECT k.ns, k.name, t.token FROM heartbeat_tokens t JOIN check_keys k ON k.id = t.check_id",
      &err);
  if (!s) return R::Error(Error(err));
  std::map<CheckKey, std::string> out;
  while (s->Step()) out[CheckKey{s->Text(0), s->Text(1)}] = s->Text(2);
  err = s->status();
  s->Reset();
  if (!err.ok()) return R::Error(Error(err));
  return out;
}

Result<std::vector<RunRecord>> SqliteReader::History(const HistoryQuery& q) {
  using R = Result<std::vector<RunRecord>>;
  std::lock_guard lock(mu_);
  ReadTxn txn(*db_);
  if (!txn.status().ok()) return R::Error(Error(txn.status()));
  std::optional<int64_t> id;
  if (DbStatus err = CheckId(q.key, &id); !err.ok()) return R::Error(Error(err));
  if (!id) return std::vector<RunRecord>{};
  DbStatus err;
  Stmt* s = db_->Prepare(
      "SELECT run_uuid, started_ns, finished_ns, ok, errors, ended_by, instance FROM runs"
      " WHERE check_id = ? AND finished_ns >= ? AND finished_ns < ?"
      " ORDER BY finished_ns DESC, id DESC LIMIT ? OFFSET ?",
      &err);
  if (!s) return R::Error(Error(err));
  s->Bind(1, *id).Bind(2, q.since ? ToNs(*q.since) : kMinNs);
  s->Bind(3, q.until ? ToNs(*q.until) : kMaxNs).Bind(4, Capped(q.limit));
  s->Bind(5, static_cast<int64_t>(std::min<size_t>(q.offset, kMaxNs)));
  std::vector<RunRecord> out;
  while (s->Step()) {
    out.push_back({q.key, s->Text(0), FromNs(s->Int(1)), FromNs(s->Int(2)), s->Int(3) != 0,
                   DecodeErrors(s->Text(4)), s->Text(5), s->Text(6)});
  }
  err = s->status();
  s->Reset();
  if (!err.ok()) return R::Error(Error(err));
  return out;
}

Result<std::vector<DowntimeEvent>> SqliteReader::Events(const std::optional<CheckKey>& key,
                                                        std::optional<TimePoint> since,
                                                        size_t limit) {
  using R = Result<std::vector<DowntimeEvent>>;
  std::lock_guard lock(mu_);
  ReadTxn txn(*db_);
  if (!txn.status().ok()) return R::Error(Error(txn.status()));
  std::optional<int64_t> id;
  if (key) {
    if (DbStatus err = CheckId(*key, &id); !err.ok()) return R::Error(Error(err));
    if (!id) return std::vector<DowntimeEvent>{};
  }
  DbStatus err;
  Stmt* s = db_->Prepare(EventsQuery(id.has_value(), since.has_value()), &err);
  if (!s) return R::Error(Error(err));
  s->Bind(1, id).Bind(2, since ? std::optional<int64_t>(ToNs(*since)) : std::nullopt);
  s->Bind(3, Capped(limit));
  std::vector<DowntimeEvent> out;
  while (s->Step()) out.push_back(EventFromRow(*s, CheckKey{s->Text(6), s->Text(7)}));
  err = s->status();
  s->Reset();
  if (!err.ok()) return R::Error(Error(err));
  return out;
}

Result<std::optional<DowntimeEvent>> SqliteReader::OpenEvent(const CheckKey& key) {
  using R = Result<std::optional<DowntimeEvent>>;
  std::lock_guard lock(mu_);
  DbStatus err;
  Stmt* s = db_->Prepare(
      "SELECT e.id, e.start_ns, e.end_ns, e.first_error, e.last_error, e.failed_runs"
      " FROM check_keys k JOIN timelines t ON t.check_id = k.id"
      " JOIN events e ON e.id = t.open_event_id WHERE k.ns = ? AND k.name = ?",
      &err);
  if (!s) return R::Error(Error(err));
  s->Bind(1, key.ns).Bind(2, key.name);
  std::optional<DowntimeEvent> out;
  if (s->Step()) out = EventFromRow(*s, key);
  err = s->status();
  s->Reset();
  if (!err.ok()) return R::Error(Error(err));
  return out;
}

}  // namespace sonde
