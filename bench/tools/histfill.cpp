// histfill: builds a year of run history through the real store (SqliteStore::CommitRun, the
// daemon's own write path: group commit, roll-ups, downtime events, retention) for benchmark
// scenario 7, then reports the fill rate and what the database holds. Bench-only: built with
// -DSONDE_MICROBENCH=ON, never installed, never part of the daemon.
//
//   sonde_histfill --state-dir DIR [--checks 100] [--runs 1000000] [--days 365]
//                  [--namespace bench] [--prefix y] [--outage-permille 5] [--seed 1]
//                  [--max-seconds 600] [--plain FILE]
//
// Runs are spread evenly over the `days` ending a minute ago, interleaved across the checks in
// time order (each check reports every days/(runs/checks)); a check that is OK starts an outage
// with probability outage-permille/1000 per run, lasting 1-20 runs; every tenth check ends
// failing. The store's clock follows the fill (it is set to each run's end before the run is
// committed), so the daemon's default retention (raw runs and hourly roll-ups 90 days, daily
// roll-ups 800 days) prunes exactly what a daemon that ran through this year would have pruned.
// --plain FILE also inserts the same rows into a bare SQLite table (one index, WAL,
// synchronous=FULL, 512 rows per transaction): the yardstick for the rate and the bytes per run.
//
// Prints one line of key=value. Exit status: 0 when every run was stored, 1 otherwise (message
// on stderr). Single process, bounded in time (--max-seconds) and in queued writes (20 000).
#include <sqlite3.h>
#include <sys/stat.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <map>
#include <mutex>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "core/uuid.hpp"
#include "store/sqlite_store.hpp"

namespace {

using sonde::Duration;
using sonde::TimePoint;

struct Options {
  std::string state_dir;
  std::string plain;
  std::string ns = "bench";
  std::string prefix = "y";
  int64_t checks = 100;
  int64_t runs = 1'000'000;
  int64_t days = 365;
  int64_t outage_permille = 5;
  int64_t max_seconds = 600;
  uint64_t seed = 1;
};

// The store's clock: set by the filler, read by the writer thread for retention.
class FillClock final : public sonde::Clock {
 public:
  TimePoint Now() const override { return TimePoint(Duration(ns_.load())); }
  void Set(TimePoint t) { ns_.store(t.time_since_epoch().count()); }

 private:
  std::atomic<int64_t> ns_{0};
};

[[noreturn]] void Fail(const std::string& what) {
  std::fprintf(stderr, "histfill: %s\n", what.c_str());
  std::exit(1);
}

Options Parse(int argc, char** argv) {
  Options o;
  std::map<std::string, int64_t*> ints = {{"--checks", &o.checks},
                                          {"--runs", &o.runs},
                                          {"--days", &o.days},
                                          {"--outage-permille", &o.outage_permille},
                                          {"--max-seconds", &o.max_seconds}};
  std::map<std::string, std::string*> strs = {{"--state-dir", &o.state_dir},
                                              {"--plain", &o.plain},
                                              {"--namespace", &o.ns},
                                              {"--prefix", &o.prefix}};
  for (int i = 1; i < argc; i += 2) {
    const std::string flag = argv[i];
    if (i + 1 >= argc) Fail(flag + ": needs a value");
    const char* v = argv[i + 1];
    if (flag == "--seed") {
      o.seed = std::strtoull(v, nullptr, 10);
    } else if (auto s = strs.find(flag); s != strs.end()) {
      *s->second = v;
    } else if (auto n = ints.find(flag); n != ints.end()) {
      char* end = nullptr;
      *n->second = std::strtoll(v, &end, 10);
      if (*end != '\0' || *n->second <= 0) Fail(flag + ": \"" + v + "\" is not a positive number");
    } else {
      Fail("unknown option " + flag);
    }
  }
  if (o.state_dir.empty()) Fail("--state-dir is required");
  if (o.runs < o.checks) Fail("--runs must be at least --checks");
  return o;
}

// One check's place in the generated year.
struct Track {
  sonde::CheckKey key;
  sonde::CheckState state;
  int64_t outage_left = 0;  // failing runs still to come
};

// Failure texts as checks write them; the outage's first and later runs differ, like real ones.
const char* const kErrors[] = {
    "GET https://shop.example.internal/api/login: 503 Service Unavailable after 1.204s",
    "dial tcp 10.0.3.17:5432: connect: connection refused",
    "condition [BODY].status == \"green\" failed: [BODY].status is \"yellow\"",
    "no heartbeat: the last report came late; one was due an hour ago (grace 1h0m0s)",
};

// Everything generated for one run, in commit order.
class Generator {
 public:
  Generator(const Options& o, TimePoint end) : o_(o), rng_(o.seed) {
    per_check_ = o.runs / o.checks;
    spacing_ = Duration(std::chrono::hours(24) * o.days) / per_check_;
    start_ = end - spacing_ * per_check_;
    for (int64_t i = 0; i < o.checks; ++i) {
      tracks_.push_back(Track{{o.ns, o.prefix + std::to_string(i)}, {}, 0});
    }
  }
  int64_t total() const { return per_check_ * o_.checks; }

  // Run n (0 <= n < total()): check n % checks, its (n / checks)-th run.
  std::pair<sonde::RunRecord, sonde::CheckState> Make(int64_t n) {
    const int64_t i = n % o_.checks, j = n / o_.checks;
    Track& t = tracks_[static_cast<size_t>(i)];
    const TimePoint finished = start_ + spacing_ * j + spacing_ * (i + 1) / o_.checks;
    const TimePoint started = finished - std::chrono::milliseconds(200 + rng_() % 3000);
    const bool last = j == per_check_ - 1;
    if (t.outage_left == 0 && rng_() % 1000 < static_cast<uint64_t>(o_.outage_permille)) {
      t.outage_left = 1 + static_cast<int64_t>(rng_() % 20);
    }
    bool ok = t.outage_left == 0;
    if (!ok) --t.outage_left;
    if (last) ok = i % 10 != 0;  // every tenth check ends failing
    std::vector<std::string> errors;
    if (!ok) errors.push_back(kErrors[(i + (t.state.consecutive_failures > 0)) % 4]);
    sonde::CheckState& s = t.state;
    s.ok = ok;
    s.errors = errors;
    s.run_duration = finished - started;
    s.last_run = finished;
    s.last_run_start = started;
    s.node = s.authoritative_pod = "bench-host";
    const std::string uuid = sonde::NewUuidV4();
    s.run_uuid = uuid;
    s.current_uuid.clear();
    if (ok) {
      s.consecutive_failures = 0;
      ++s.success_count;
      s.last_ok = finished;
    } else {
      ++s.consecutive_failures;
      ++s.failure_count;
      s.last_failure = finished;
    }
    sonde::RunRecord r{t.key,    uuid,        started, finished, ok, std::move(errors),
                       "report", "bench-host"};
    return {std::move(r), s};
  }

 private:
  const Options& o_;
  std::mt19937_64 rng_;
  int64_t per_check_ = 0;
  Duration spacing_{};
  TimePoint start_{};
  std::vector<Track> tracks_;
};

double SecondsSince(std::chrono::steady_clock::time_point t0) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

int64_t FileSize(const std::string& path) {
  struct stat st {};
  return ::stat(path.c_str(), &st) == 0 ? static_cast<int64_t>(st.st_size) : 0;
}

struct Filled {
  int64_t runs = 0;
  double seconds = 0;
  double prune_seconds = 0;  // waiting for retention after the last commit
};

int64_t Unpruned(const std::string& path, TimePoint end, const sonde::SqliteOptions& opts);

// Commits every run through the store, at most kInFlight queued at a time.
Filled FillStore(const Options& o, TimePoint end) {
  constexpr int64_t kInFlight = 20'000;  // below SqliteOptions::max_queue (50 000)
  FillClock clock;
  sonde::SqliteOptions opts;
  opts.clock = &clock;
  auto opened = sonde::SqliteStore::Open(o.state_dir, opts);
  if (!opened.ok()) Fail(opened.error());
  std::unique_ptr<sonde::SqliteStore> store = std::move(opened.value());
  Generator gen(o, end);
  std::mutex mu;
  std::condition_variable cv;
  int64_t in_flight = 0, failed = 0;
  std::string first_error;
  const auto t0 = std::chrono::steady_clock::now();
  for (int64_t n = 0; n < gen.total(); ++n) {
    auto [run, state] = gen.Make(n);
    {
      std::unique_lock lock(mu);
      cv.wait(lock, [&] { return in_flight < kInFlight; });
      if (failed > 0) Fail("a run was not stored: " + first_error);
      ++in_flight;
    }
    if (SecondsSince(t0) > static_cast<double>(o.max_seconds)) {
      Fail("gave up after " + std::to_string(o.max_seconds) + " s at run " + std::to_string(n));
    }
    clock.Set(run.finished);
    store->CommitRun(run, state, [&](sonde::Status st) {
      std::lock_guard lock(mu);
      --in_flight;
      if (!st.ok() && failed++ == 0) first_error = st.message();
      cv.notify_all();
    });
  }
  {
    std::unique_lock lock(mu);
    cv.wait(lock, [&] { return in_flight == 0; });
  }
  Filled f{gen.total(), SecondsSince(t0), 0};
  if (failed > 0) Fail("a run was not stored: " + first_error);
  // The fill outran the writer's pruning passes (a year in seconds): move the clock past the
  // next pass and wait until it has removed what retention says a daemon would not hold.
  clock.Set(end + opts.prune_interval * 2);
  const auto t1 = std::chrono::steady_clock::now();
  while (Unpruned(o.state_dir + "/sonde.db", end, opts) > 0) {
    if (SecondsSince(t0) > static_cast<double>(o.max_seconds)) Fail("pruning: out of time");
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
  }
  f.prune_seconds = SecondsSince(t1);
  store.reset();  // finishes queued writes and checkpoints the WAL
  return f;
}

class Sql {
 public:
  explicit Sql(const std::string& path, int flags) {
    if (sqlite3_open_v2(path.c_str(), &db_, flags, nullptr) != SQLITE_OK) {
      Fail("cannot open " + path + ": " + sqlite3_errmsg(db_));
    }
  }
  ~Sql() { sqlite3_close(db_); }
  Sql(const Sql&) = delete;
  Sql& operator=(const Sql&) = delete;
  void Exec(const char* sql) {
    char* err = nullptr;
    if (sqlite3_exec(db_, sql, nullptr, nullptr, &err) != SQLITE_OK) {
      const std::string msg = err ? err : "?";
      sqlite3_free(err);
      Fail(std::string(sql) + ": " + msg);
    }
  }
  // Rows of (text, integer) of a query.
  std::vector<std::pair<std::string, int64_t>> Pairs(const char* sql) {
    sqlite3_stmt* st = nullptr;
    if (sqlite3_prepare_v2(db_, sql, -1, &st, nullptr) != SQLITE_OK) {
      Fail(std::string(sql) + ": " + sqlite3_errmsg(db_));
    }
    std::vector<std::pair<std::string, int64_t>> out;
    while (sqlite3_step(st) == SQLITE_ROW) {
      const auto* t = sqlite3_column_text(st, 0);
      out.emplace_back(t ? reinterpret_cast<const char*>(t) : "", sqlite3_column_int64(st, 1));
    }
    sqlite3_finalize(st);
    return out;
  }
  int64_t Int(const char* sql) {
    auto rows = Pairs(sql);
    return rows.empty() ? 0 : rows[0].second;
  }
  sqlite3* db() { return db_; }

 private:
  sqlite3* db_ = nullptr;
};

// Rows that retention would have removed by `end`: raw runs and hourly roll-ups (an hour of
// slack for the bucket holding the cut-off).
int64_t Unpruned(const std::string& path, TimePoint end, const sonde::SqliteOptions& opts) {
  Sql db(path, SQLITE_OPEN_READONLY);
  const auto ns = [](TimePoint t) { return std::to_string(t.time_since_epoch().count()); };
  const std::string runs =
      "SELECT 'x', count(*) FROM runs WHERE at_ns < " + ns(end - opts.raw_retention);
  const std::string hourly = "SELECT 'x', count(*) FROM rollup_hourly WHERE bucket_ns < " +
                             ns(end - opts.hourly_retention - std::chrono::hours(1));
  return db.Int(runs.c_str()) + db.Int(hourly.c_str());
}

// What the filled database holds: rows per table, and bytes per raw run (the runs table and its
// indexes, from dbstat) as opposed to roll-ups and events.
std::string Describe(const std::string& path) {
  Sql db(path, SQLITE_OPEN_READONLY);
  std::string out;
  const char* counts[][2] = {
      {"runs_kept", "SELECT 'x', count(*) FROM runs"},
      {"events", "SELECT 'x', count(*) FROM events"},
      {"rollup_hourly", "SELECT 'x', count(*) FROM rollup_hourly"},
      {"rollup_daily", "SELECT 'x', count(*) FROM rollup_daily"},
      {"free_pages", "SELECT 'x', freelist_count FROM pragma_freelist_count"},
      {"page_size", "SELECT 'x', page_size FROM pragma_page_size"}};
  int64_t runs_kept = 0;
  for (const auto& c : counts) {
    const int64_t v = db.Int(c[1]);
    if (std::strcmp(c[0], "runs_kept") == 0) runs_kept = v;
    out += std::string(" ") + c[0] + "=" + std::to_string(v);
  }
  int64_t run_bytes = 0, other_bytes = 0;
  for (const auto& [name, bytes] : db.Pairs("SELECT name, sum(pgsize) FROM dbstat GROUP BY name")) {
    (name == "runs" || name.rfind("runs_by_", 0) == 0 ? run_bytes : other_bytes) += bytes;
  }
  out += " run_table_bytes=" + std::to_string(run_bytes) +
         " other_bytes=" + std::to_string(other_bytes) +
         " bytes_per_kept_run=" + std::to_string(runs_kept > 0 ? run_bytes / runs_kept : 0);
  return out;
}

// The yardstick: the same rows in a bare table with one index, same durability and batch size.
std::string FillPlain(const Options& o, TimePoint end) {
  std::remove(o.plain.c_str());
  Sql db(o.plain, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE);
  db.Exec("PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL;");
  db.Exec(
      "CREATE TABLE runs(check_name TEXT, run_uuid TEXT, started INTEGER, finished INTEGER, "
      "ok INTEGER, errors TEXT, ended_by TEXT, instance TEXT);"
      "CREATE INDEX runs_by_check ON runs(check_name, finished);");
  sqlite3_stmt* ins = nullptr;
  sqlite3_prepare_v2(db.db(), "INSERT INTO runs VALUES(?,?,?,?,?,?,?,?)", -1, &ins, nullptr);
  Generator gen(o, end);
  const auto t0 = std::chrono::steady_clock::now();
  for (int64_t n = 0; n < gen.total(); ++n) {
    if (n % 512 == 0) db.Exec(n == 0 ? "BEGIN" : "COMMIT; BEGIN");
    auto [r, state] = gen.Make(n);
    const std::string key = r.key.str();
    const std::string errors = r.errors.empty() ? "[]" : "[\"" + r.errors[0] + "\"]";
    sqlite3_bind_text(ins, 1, key.c_str(), -1, SQLITE_TRANSIENT);
    sqlite3_bind_text(ins, 2, r.run_uuid.c_str(), -1, SQLITE_TRANSIENT);
    sqlite3_bind_int64(ins, 3, r.started.time_since_epoch().count());
    sqlite3_bind_int64(ins, 4, r.finished.time_since_epoch().count());
    sqlite3_bind_int(ins, 5, r.ok ? 1 : 0);
    sqlite3_bind_text(ins, 6, errors.c_str(), -1, SQLITE_TRANSIENT);
    sqlite3_bind_text(ins, 7, r.ended_by.c_str(), -1, SQLITE_TRANSIENT);
    sqlite3_bind_text(ins, 8, r.instance.c_str(), -1, SQLITE_TRANSIENT);
    if (sqlite3_step(ins) != SQLITE_DONE)
      Fail(std::string("plain insert: ") + sqlite3_errmsg(db.db()));
    sqlite3_reset(ins);
    if (SecondsSince(t0) > static_cast<double>(o.max_seconds)) Fail("plain fill: out of time");
  }
  db.Exec("COMMIT");
  const double secs = SecondsSince(t0);
  sqlite3_finalize(ins);
  db.Exec("PRAGMA wal_checkpoint(TRUNCATE)");
  const int64_t bytes =
      db.Int("SELECT 'x', page_count * page_size FROM pragma_page_count, pragma_page_size");
  char buf[200];
  std::snprintf(buf, sizeof buf, " plain_runs_per_s=%.1f plain_bytes=%lld plain_bytes_per_run=%lld",
                static_cast<double>(gen.total()) / secs, static_cast<long long>(bytes),
                static_cast<long long>(bytes / gen.total()));
  return buf;
}

}  // namespace

int main(int argc, char** argv) {
  const Options o = Parse(argc, argv);
  const TimePoint end = std::chrono::time_point_cast<Duration>(std::chrono::system_clock::now()) -
                        std::chrono::minutes(1);
  const Filled f = FillStore(o, end);
  const std::string db = o.state_dir + "/sonde.db";
  char head[240];
  std::snprintf(head, sizeof head,
                "runs=%lld seconds=%.3f runs_per_s=%.1f prune_seconds=%.3f db_bytes=%lld "
                "wal_bytes=%lld",
                static_cast<long long>(f.runs), f.seconds, static_cast<double>(f.runs) / f.seconds,
                f.prune_seconds, static_cast<long long>(FileSize(db)),
                static_cast<long long>(FileSize(db + "-wal")));
  std::string line = head + Describe(db);
  if (!o.plain.empty()) line += FillPlain(o, end);
  std::printf("%s\n", line.c_str());
  return 0;
}
