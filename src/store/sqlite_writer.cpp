#include "store/sqlite_writer.hpp"

#include <limits>

#include "store/downtime.hpp"

namespace sonde {
namespace {

constexpr int64_t kOpenEnd = std::numeric_limits<int64_t>::max();  // events.end_sort while open

struct Timeline {
  int64_t first_at = 0;
  int64_t last_at = 0;
  bool last_ok = false;
  std::optional<int64_t> open_event;
};

DbStatus LoadTimeline(Db& db, int64_t check_id, std::optional<Timeline>* out) {
  DbStatus err;
  Stmt* s = db.Prepare(
      "SELECT first_at_ns, last_at_ns, last_ok, open_event_id FROM timelines WHERE check_id = ?",
      &err);
  if (!s) return err;
  s->Bind(1, check_id);
  if (s->Step()) *out = Timeline{s->Int(0), s->Int(1), s->Int(2) != 0, s->OptInt(3)};
  DbStatus st = s->status();
  s->Reset();
  return st;
}

DbStatus LoadEvent(Db& db, int64_t id, const CheckKey& key, std::optional<DowntimeEvent>* out) {
  DbStatus err;
  Stmt* s = db.Prepare(
      "SELECT start_ns, first_error, last_error, failed_runs FROM events WHERE id = ?", &err);
  if (!s) return err;
  s->Bind(1, id);
  if (s->Step()) {
    *out =
        DowntimeEvent{id, key, FromNs(s->Int(0)), std::nullopt, s->Text(1), s->Text(2), s->Int(3)};
  }
  DbStatus st = s->status();
  s->Reset();
  return st;
}

// Writes the event change; `open_event` becomes the check's open event id afterwards.
DbStatus WriteEvent(Db& db, int64_t check_id, const EventChange& change,
                    std::optional<int64_t>* open_event) {
  DbStatus err;
  const DowntimeEvent& e = change.event;
  Stmt* s = nullptr;
  switch (change.kind) {
    case EventChangeKind::kNone:
      return DbStatus::Ok();
    case EventChangeKind::kOpen:
      s = db.Prepare(
          "INSERT INTO events(check_id, start_ns, end_ns, end_sort, first_error, last_error,"
          " failed_runs) VALUES(?, ?, NULL, ?, ?, ?, ?)",
          &err);
      if (!s) return err;
      s->Bind(1, check_id).Bind(2, ToNs(e.start)).Bind(3, kOpenEnd).Bind(4, e.first_error);
      s->Bind(5, e.last_error).Bind(6, e.failed_runs);
      if (err = s->Run(); err.ok()) *open_event = db.LastInsertId();
      return err;
    case EventChangeKind::kExtend:
      s = db.Prepare("UPDATE events SET last_error = ?, failed_runs = ? WHERE id = ?", &err);
      if (!s) return err;
      s->Bind(1, e.last_error).Bind(2, e.failed_runs).Bind(3, e.id);
      return s->Run();
    case EventChangeKind::kClose:
      s = db.Prepare("UPDATE events SET end_ns = ?, end_sort = ? WHERE id = ?", &err);
      if (!s) return err;
      s->Bind(1, ToNs(*e.end)).Bind(2, ToNs(*e.end)).Bind(3, e.id);
      if (err = s->Run(); err.ok()) open_event->reset();
      return err;
  }
  return DbStatus::Ok();
}

// `existed`: the check has a timeline row already (updated in place; else inserted).
DbStatus SaveTimeline(Db& db, int64_t check_id, const Timeline& t, bool existed) {
  DbStatus err;
  Stmt* s = db.Prepare(existed ? "UPDATE timelines SET first_at_ns = ?2, last_at_ns = ?3,"
                                 " last_ok = ?4, open_event_id = ?5 WHERE check_id = ?1"
                               : "INSERT INTO timelines(check_id, first_at_ns, last_at_ns, last_ok,"
                                 " open_event_id) VALUES(?1, ?2, ?3, ?4, ?5)",
                       &err);
  if (!s) return err;
  s->Bind(1, check_id).Bind(2, t.first_at).Bind(3, t.last_at).Bind(4, int64_t{t.last_ok});
  s->Bind(5, t.open_event);
  return s->Run();
}

DbStatus InsertRun(Db& db, int64_t check_id, const RunRecord& r, TimePoint at) {
  DbStatus err;
  Stmt* s = db.Prepare(
      "INSERT INTO runs(check_id, run_uuid, started_ns, finished_ns, at_ns, ok, errors,"
      " ended_by, instance) VALUES(?, ?, ?, ?, ?, ?, ?, ?, ?)",
      &err);
  if (!s) return err;
  s->Bind(1, check_id).Bind(2, r.run_uuid).Bind(3, ToNs(r.started)).Bind(4, ToNs(r.finished));
  s->Bind(5, ToNs(at)).Bind(6, int64_t{r.ok}).Bind(7, EncodeErrors(r.errors));
  s->Bind(8, r.ended_by).Bind(9, r.instance);
  return s->Run();
}

}  // namespace

SqliteWriter::SqliteWriter(std::unique_ptr<Db> db, std::string path, Retention retention,
                           const Clock& clock)
    : db_(std::move(db)), path_(std::move(path)), retention_(retention), clock_(clock) {}

SqliteWriter::BatchResult SqliteWriter::Apply(const std::map<CheckKey, StateWrite>& retries,
                                              const std::vector<WriteOp>& ops) {
  // Savepoints cost every op (each page it writes is copied to the sub-journal) but are only
  // needed when an op fails alone, which is rare (a duplicate run uuid): try the batch without
  // them, and only if an op fails alone roll back and apply it again with one per op.
  const TimePoint now = clock_.Now();
  if (std::optional<BatchResult> result = ApplyBatch(retries, ops, now, false)) return *result;
  return *ApplyBatch(retries, ops, now, true);
}

std::optional<SqliteWriter::BatchResult> SqliteWriter::ApplyBatch(
    const std::map<CheckKey, StateWrite>& retries, const std::vector<WriteOp>& ops, TimePoint now,
    bool savepoints) {
  BatchResult result;
  auto fail_all = [&](const DbStatus& s) {
    Abort();
    result.ops.assign(ops.size(), Describe(s, nullptr));
    return result;
  };
  if (DbStatus s = db_->Run("BEGIN IMMEDIATE"); !s.ok()) return fail_all(s);
  for (const auto& [key, write] : retries) {
    if (DbStatus s = ApplyState(key, write.state); !s.ok()) return fail_all(s);
  }
  rollups_.clear();
  for (const WriteOp& op : ops) {
    op_rollups_.clear();
    if (savepoints) {
      if (DbStatus s = db_->Run("SAVEPOINT op"); !s.ok()) return fail_all(s);
    }
    DbStatus s = ApplyOp(op, now);
    if (s.ok() && savepoints) s = db_->Run("RELEASE op");
    if (s.ok()) {
      KeepOpRollups();
      result.ops.push_back(Status::Ok());
      continue;
    }
    // A constraint failure spoils only this op; anything else may have ended the transaction.
    if (s.AbortsTransaction() || !db_->InTransaction()) return fail_all(s);
    if (!savepoints) {  // undo the op's other statements: again, with savepoints
      Abort();
      return std::nullopt;
    }
    if (!db_->Exec("ROLLBACK TO op; RELEASE op").ok()) return fail_all(s);
    check_ids_.clear();  // ids inserted inside the rolled-back savepoint are gone
    result.ops.push_back(Describe(s, &op));
  }
  if (DbStatus s = FlushRollups(); !s.ok()) return fail_all(s);
  if (DbStatus s = db_->Run("COMMIT"); !s.ok()) return fail_all(s);
  result.committed = true;
  return result;
}

void SqliteWriter::Abort() {
  if (db_->InTransaction()) db_->Exec("ROLLBACK");
  check_ids_.clear();
  op_rollups_.clear();
  rollups_.clear();
}

Status SqliteWriter::Describe(const DbStatus& s, const WriteOp* op) const {
  if (s.IsDiskFull()) return Status::Error("cannot store: disk full (" + path_ + "): " + s.message);
  if (op && op->kind == WriteOp::Kind::kRun && s.code == SQLITE_CONSTRAINT_UNIQUE) {
    return Status::Error("cannot store run " + op->run.run_uuid + " of " + op->key.str() +
                         ": a run with that uuid is already stored");
  }
  return Status::Error("cannot store (" + path_ + "): " + s.message);
}

DbStatus SqliteWriter::ApplyOp(const WriteOp& op, TimePoint now) {
  switch (op.kind) {
    case WriteOp::Kind::kRun:
      return ApplyRun(op.run, op.state, now);
    case WriteOp::Kind::kSaveState:
      return ApplyState(op.key, op.state);
    case WriteOp::Kind::kDeleteState:
      return ApplyState(op.key, std::nullopt);
    case WriteOp::Kind::kToken:
      return ApplyToken(op.key, op.token);
  }
  return DbStatus::Ok();
}

DbStatus SqliteWriter::ApplyRun(const RunRecord& run, const CheckState& state, TimePoint now) {
  int64_t id = 0;
  if (DbStatus s = CheckId(run.key, &id); !s.ok()) return s;
  std::optional<Timeline> timeline;
  if (DbStatus s = LoadTimeline(*db_, id, &timeline); !s.ok()) return s;
  const TimePoint at = TimelinePoint(
      timeline ? std::optional<TimePoint>(FromNs(timeline->last_at)) : std::nullopt, run.finished);
  if (DbStatus s = AddToRollups(
          id, timeline ? std::optional<TimePoint>(FromNs(timeline->last_at)) : std::nullopt,
          timeline && timeline->last_ok, at, run.finished - run.started, now);
      !s.ok()) {
    return s;
  }
  std::optional<DowntimeEvent> open;
  if (timeline && timeline->open_event) {
    if (DbStatus s = LoadEvent(*db_, *timeline->open_event, run.key, &open); !s.ok()) return s;
  }
  Timeline next{timeline ? timeline->first_at : ToNs(at), ToNs(at), run.ok,
                timeline ? timeline->open_event : std::nullopt};
  if (DbStatus s = WriteEvent(*db_, id, ApplyRunToEvent(open, run, at), &next.open_event);
      !s.ok()) {
    return s;
  }
  if (DbStatus s = SaveTimeline(*db_, id, next, timeline.has_value()); !s.ok()) return s;
  if (DbStatus s = InsertRun(*db_, id, run, at); !s.ok()) return s;
  return WriteState(id, state);
}

DbStatus SqliteWriter::ApplyState(const CheckKey& key, const std::optional<CheckState>& state) {
  int64_t id = 0;
  if (DbStatus s = CheckId(key, &id); !s.ok()) return s;
  if (state) return WriteState(id, *state);
  DbStatus err;
  Stmt* s = db_->Prepare("DELETE FROM check_states WHERE check_id = ?", &err);
  if (!s) return err;
  s->Bind(1, id);
  return s->Run();
}

DbStatus SqliteWriter::ApplyToken(const CheckKey& key, const std::string& token) {
  int64_t id = 0;
  if (DbStatus s = CheckId(key, &id); !s.ok()) return s;
  DbStatus err;
  Stmt* s =
      db_->Prepare("INSERT OR REPLACE INTO heartbeat_tokens(check_id, token) VALUES(?, ?)", &err);
  if (!s) return err;
  s->Bind(1, id).Bind(2, token);
  return s->Run();
}

// The state row is updated in place (one b-tree seek and rewrite) and inserted only when the
// check has none yet: INSERT OR REPLACE would delete and insert the row on every run.
DbStatus SqliteWriter::WriteState(int64_t check_id, const CheckState& st) {
  DbStatus err;
  for (const char* sql :
       {"UPDATE check_states SET ok = ?2, errors = ?3, run_duration_ns = ?4, node = ?5,"
        " authoritative_pod = ?6, last_run_ns = ?7, run_uuid = ?8, current_uuid = ?9,"
        " last_run_start_ns = ?10, last_ok_ns = ?11, last_failure_ns = ?12,"
        " consecutive_failures = ?13, success_count = ?14, failure_count = ?15"
        " WHERE check_id = ?1",
        "INSERT INTO check_states(check_id, ok, errors, run_duration_ns, node,"
        " authoritative_pod, last_run_ns, run_uuid, current_uuid, last_run_start_ns, last_ok_ns,"
        " last_failure_ns, consecutive_failures, success_count, failure_count)"
        " VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15)"}) {
    Stmt* s = db_->Prepare(sql, &err);
    if (!s) return err;
    s->Bind(1, check_id).Bind(2, int64_t{st.ok}).Bind(3, EncodeErrors(st.errors));
    s->Bind(4, static_cast<int64_t>(st.run_duration.count())).Bind(5, st.node);
    s->Bind(6, st.authoritative_pod).Bind(7, ToNs(st.last_run)).Bind(8, st.run_uuid);
    s->Bind(9, st.current_uuid).Bind(10, ToNs(st.last_run_start)).Bind(11, ToNs(st.last_ok));
    s->Bind(12, ToNs(st.last_failure)).Bind(13, st.consecutive_failures);
    s->Bind(14, st.success_count).Bind(15, st.failure_count);
    if (err = s->Run(); !err.ok() || db_->Changes() > 0) return err;
  }
  return DbStatus{SQLITE_INTERNAL, "check state row neither updated nor inserted"};
}

DbStatus SqliteWriter::CheckId(const CheckKey& key, int64_t* id) {
  if (auto it = check_ids_.find(key); it != check_ids_.end()) {
    *id = it->second;
    return DbStatus::Ok();
  }
  DbStatus err;
  Stmt* ins = db_->Prepare(
      "INSERT INTO check_keys(ns, name) VALUES(?, ?) ON CONFLICT(ns, name) DO NOTHING", &err);
  if (!ins) return err;
  ins->Bind(1, key.ns).Bind(2, key.name);
  if (err = ins->Run(); !err.ok()) return err;
  Stmt* sel = db_->Prepare("SELECT id FROM check_keys WHERE ns = ? AND name = ?", &err);
  if (!sel) return err;
  sel->Bind(1, key.ns).Bind(2, key.name);
  if (!sel->Step()) {
    err = sel->status().ok() ? DbStatus{SQLITE_INTERNAL, "check key vanished"} : sel->status();
    sel->Reset();
    return err;
  }
  *id = sel->Int(0);
  sel->Reset();
  check_ids_.emplace(key, *id);
  return DbStatus::Ok();
}

DbStatus SqliteWriter::SetMaxBytes(int64_t bytes) {
  auto page_size = db_->QueryInt("PRAGMA page_size");
  if (!page_size.ok()) return {SQLITE_ERROR, page_size.error()};
  const int64_t pages =
      bytes > 0 ? std::max<int64_t>(bytes / page_size.value(), 1) : int64_t{0xfffffffe};
  auto set = db_->QueryInt("PRAGMA max_page_count = " + std::to_string(pages));
  return set.ok() ? DbStatus::Ok() : DbStatus{SQLITE_ERROR, set.error()};
}

}  // namespace sonde
