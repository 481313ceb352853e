// The store seam: each check's current state, its run history, downtime events and uptime.
// MemoryStore keeps them in process memory; SqliteStore keeps them durably in one SQLite file.
// One test suite (store_test.cpp) runs against every implementation.
//
// Thread safety: every implementation is safe to call from any thread. Completion callbacks
// (CommitRun's `done`) may run on an internal thread: callers post back to their own executor.
// Failure: calls return Status/Result values; nothing throws.
#pragma once

#include <functional>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "core/check.hpp"
#include "core/check_state.hpp"
#include "core/result.hpp"

namespace sonde {

// One finished run, as history keeps it.
// Timeline: a check's runs are expected to be committed in order of `finished` (the engine runs
// one at a time per check). A run committed with a `finished` earlier than its check's previous
// run is kept as given, but events and uptime time it at the previous run's point instead (see
// TimelinePoint in downtime.hpp): a wall clock stepped back must not rewrite the past.
struct RunRecord {
  CheckKey key;
  std::string run_uuid;
  TimePoint started;
  TimePoint finished;
  bool ok = false;
  std::vector<std::string> errors;
  std::string ended_by;  // "report", "timeout", "exit", "removed", "interrupted", "restart"
  std::string instance;  // the daemon instance that ran it
  bool operator==(const RunRecord&) const = default;
};

// A period during which a check was failing: opened by its first failed run after an OK (or
// after nothing), closed by the next OK run.
struct DowntimeEvent {
  int64_t id = 0;  // unique per store, increasing
  CheckKey key;
  TimePoint start;               // `finished` of the first failed run
  std::optional<TimePoint> end;  // `finished` of the OK run that closed it; none while open
  std::string first_error;
  std::string last_error;
  int64_t failed_runs = 0;
  bool operator==(const DowntimeEvent&) const = default;
};

// Uptime and run durations of one check over [now - window, now].
struct UptimeStats {
  Duration window{};
  // Fraction of the *observed* time the check was OK: between two consecutive runs the check
  // is taken to be in the state of the earlier run's result (time-weighted, not a count of
  // runs). Time before the first run in or before the window is not observed. None when
  // nothing in the window is observed.
  std::optional<double> uptime;
  Duration observed{};
  int64_t runs = 0;                       // runs that finished inside the window
  std::optional<Duration> mean_duration;  // of those runs (finished - started)
  std::optional<Duration> p95_duration;   // of those runs; may be bucket-approximated
};

// History and Events return at most this many items, whatever limit is asked for.
inline constexpr size_t kMaxQueryLimit = 1000;

struct HistoryQuery {
  CheckKey key;
  std::optional<TimePoint> since;  // finished >= since
  std::optional<TimePoint> until;  // finished < until
  size_t limit = 100;              // at most this many, newest first
  size_t offset = 0;               // skip this many newest first (pagination)
};

// One piece of a check's timeline, as the dashboard's uptime bars draw it: time observed and
// time OK in it (time-weighted as in UptimeStats), and the runs that finished in it.
struct UptimeSegment {
  Duration ok{};
  Duration observed{};
  int64_t runs = 0;
  Duration duration_sum{};  // of those runs (finished - started)
  bool operator==(const UptimeSegment&) const = default;
};

// The uptime windows Sonde reports everywhere (API, metrics, CLI).
struct UptimeWindow {
  const char* name;
  Duration length;
};
inline constexpr UptimeWindow kUptimeWindows[] = {{"1h", std::chrono::hours(1)},
                                                  {"24h", std::chrono::hours(24)},
                                                  {"7d", std::chrono::hours(24 * 7)},
                                                  {"30d", std::chrono::hours(24 * 30)},
                                                  {"365d", std::chrono::hours(24 * 365)}};

class Store {
 public:
  virtual ~Store() = default;
  Store() = default;
  Store(const Store&) = delete;
  Store& operator=(const Store&) = delete;

  // Every check's last saved state.
  virtual std::map<CheckKey, CheckState> LoadStates() = 0;
  // Replaces a check's state (used when a run starts: its uuid and start time). LoadStates
  // sees it at once. A durable store may queue it in order with other writes and return before
  // it is on disk (it is durable with the next group commit; see SqliteStore).
  virtual Status SaveState(const CheckKey& key, const CheckState& state) = 0;
  // Forgets a removed check's state (its history and events stay).
  virtual Status DeleteState(const CheckKey& key) = 0;

  // Records a finished run, the check's new state and the downtime-event change it implies
  // (open, extend or close), atomically. `done` is called exactly once: OK once all of it is
  // durable (for a durable store: committed and synced), or an error saying why not (then
  // none of it is stored). Durable stores may group many commits into one transaction.
  // `done` must not call LoadStates (which may wait for the thread running `done`).
  virtual void CommitRun(const RunRecord& run, const CheckState& state,
                         std::function<void(Status)> done) = 0;

  // Runs of a check, newest first (by `finished`, then latest committed).
  virtual Result<std::vector<RunRecord>> History(const HistoryQuery& query) = 0;
  // Downtime events, newest first (highest id): of one check (key set) or of all; those still open
  // or ended at or after `since`.
  virtual Result<std::vector<DowntimeEvent>> Events(const std::optional<CheckKey>& key,
                                                    std::optional<TimePoint> since,
                                                    size_t limit) = 0;
  // The open event of a check, if it is failing.
  virtual Result<std::optional<DowntimeEvent>> OpenEvent(const CheckKey& key) = 0;
  // Uptime over [now - window, now]. Must stay fast for windows of a year and thousands of
  // checks (durable stores answer long windows from roll-ups, never from raw rows).
  virtual Result<UptimeStats> Uptime(const CheckKey& key, Duration window, TimePoint now) = 0;

  // Heartbeat checks' tokens: the secret part of each check's reporting URL. They outlive
  // DeleteState, so a check removed and added again keeps its URL.
  virtual Result<std::map<CheckKey, std::string>> LoadHeartbeatTokens() = 0;
  // Sets or replaces a check's token. `done` as for CommitRun: OK once durable.
  virtual void SaveHeartbeatToken(const CheckKey& key, const std::string& token,
                                  std::function<void(Status)> done) = 0;
  // `count` consecutive segments [from + i*segment, from + (i+1)*segment), each cut at `now`
  // (segments after `now` are empty), as Uptime would answer for each. The default asks Uptime
  // once per segment; a durable store answers hour- and day-aligned segments from its roll-ups
  // in one query, so 2,000 checks' bars stay cheap.
  virtual Result<std::vector<UptimeSegment>> UptimeSegments(const CheckKey& key, TimePoint from,
                                                            Duration segment, size_t count,
                                                            TimePoint now);
};

}  // namespace sonde
