// The engine: turns check definitions into runs and runs into state. It owns the schedule
// (through the pure Scheduler), every run's deadline, and the report path; it talks to
// checkers only through the Runner seam and to storage only through the Store seam.
//
// Thread safety: not thread-safe. Every method runs on the single event-loop executor given
// at construction, and so do the runner's callbacks.
// Ownership: the clock, runner and store are borrowed and must outlive the engine.
#pragma once

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/steady_timer.hpp>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "contract/report_policy.hpp"
#include "contract/status_page.hpp"
#include "core/check.hpp"
#include "core/check_state.hpp"
#include "core/clock.hpp"
#include "core/uuid.hpp"
#include "metrics/registry.hpp"
#include "runner/runner.hpp"
#include "scheduler/heartbeat.hpp"
#include "scheduler/scheduler.hpp"
#include "store/store.hpp"

namespace sonde {

struct EngineOptions {
  std::string instance_name = "sonde";                       // AuthoritativePod and CurrentMaster
  std::string node_name;                                     // Node of each result (this host)
  std::string reporting_base_url = "http://127.0.0.1:8080";  // no trailing slash
  size_t max_concurrent_runs = 32;  // Default: 32 runs at a time; the rest queue
  Duration report_exit_grace = std::chrono::seconds(5);  // after a report, then Terminate
  size_t runs_remembered_per_check = 16;        // older run uuids answer 400 (unknown) not 410
  std::map<std::string, std::string> metadata;  // status page Metadata
  // Called once the work of applying a check set is done, new heartbeat tokens stored: much
  // memory was freed just then; the daemon gives it back to the system (malloc_trim).
  std::function<void()> release_memory;
  // Where in-process probes do their network I/O (connect, exchange, close). Empty: the engine's
  // own executor. Another thread's executor takes the probes' socket work (most of a probe's
  // cost) off the engine's loop, so that starts stay on time; only the observation comes back
  // to the loop, which judges it and records the run. Must outlive the engine's probes: stop
  // its thread before the engine's executor goes.
  boost::asio::any_io_executor probe_executor;
};

enum class RunNowResult { kStarted, kUnknown, kAlreadyRunning, kHeartbeat };

// What a heartbeat URL was told (engine_heartbeat.cpp): the job finished (the body says how;
// an empty body means OK), started (/start), or failed (/fail).
enum class HeartbeatSignal { kReport, kStart, kFail };

struct HeartbeatAnswer {
  int http_status = 200;   // 200, 400, 404 unknown token, 413, 429 rate limited, 503 not stored
  std::string reason;      // one line
  Duration retry_after{};  // with 429
};

// A heartbeat check as the API shows it.
struct HeartbeatView {
  std::string url;  // "" until its token is stored
  TimePoint due;    // the next report is expected by due + grace
  Duration grace{};
  std::optional<TimePoint> started;  // a /start not yet followed by a result
};

class Engine {
 public:
  // `metrics` is optional (null: nothing is counted) and borrowed like the others.
  Engine(boost::asio::any_io_executor executor, const Clock& clock, Runner& runner, Store& store,
         EngineOptions options, SondeMetrics* metrics = nullptr);
  Engine(const Engine&) = delete;
  Engine& operator=(const Engine&) = delete;
  ~Engine();

  // Replaces the set of checks. Added checks are scheduled (due now unless the store knows a
  // recent start); removed ones stop (a running checker is terminated); changed ones take
  // effect at their next run; unchanged ones are not disturbed. `load_errors` are shown on
  // the status page until the next call.
  void ApplyChecks(std::vector<CheckSpec> checks, std::vector<std::string> load_errors);

  // A checker's report for run `uuid`. Decides with JudgeReport, then validates the body;
  // an accepted result is committed to the store and `reply` gets 200 only once it is durable
  // (503 with the reason if the store cannot take it; the run then stays open, so the
  // checker's retry can still land). `reply` is called exactly once, on the executor,
  // possibly before HandleReport returns. Never throws for bad input.
  void HandleReport(const std::string& uuid, std::string_view body,
                    std::function<void(ReportVerdict)> reply);

  // A request to a heartbeat check's URL; `token` is its secret part. Rate-limits per check,
  // validates the body, and stores a run (answering 200 once it is durable) unless the check's
  // minRecordInterval says to count it only. `reply` is called exactly once, on the executor.
  void HandleHeartbeat(const std::string& token, HeartbeatSignal signal, std::string_view body,
                       std::function<void(HeartbeatAnswer)> reply);
  // Gives a heartbeat check a new token; the old URL stops working once the new one is
  // durable, and `done` gets the new URL (or why not: unknown check, not a heartbeat, store).
  void RotateHeartbeatToken(const CheckKey& key, std::function<void(Result<std::string>)> done);
  // The heartbeat side of a check; none for other checks.
  std::optional<HeartbeatView> Heartbeat(const CheckKey& key) const;

  // POST /api/run: start a check now.
  RunNowResult RunNow(const CheckKey& key);

  // `with_schedule` false leaves out next_run and heartbeat_url, which /metrics and "/" do not
  // show; `with_urls` false leaves out heartbeat_url (formatting it costs a heartbeat check),
  // which only the dashboard shows. Each view's state_version changes whenever its state does
  // (CheckRecord::Change); kDefaultStateVersion for a check without a state yet.
  StatusSnapshot Snapshot(bool with_schedule = true, bool with_urls = true) const;
  // Snapshot(false) written over `snap` (empty, or an earlier result kept by the caller): views
  // of unchanged checks keep their strings and are only compared, so a caller that reads every
  // check often (/metrics) neither allocates nor copies per check.
  void RefreshSnapshot(StatusSnapshot& snap) const;
  bool Knows(const CheckKey& key) const { return checks_.count(key) > 0; }
  TimePoint Now() const { return clock_.Now(); }
  std::string ReportingUrl(const CheckSpec& spec, const std::string& uuid) const;

  // True while the scheduling loop ticks and no due check waits while slots are free.
  bool Healthy() const;
  size_t ActiveRuns() const { return active_.size(); }

  // Stops starting runs. Runs in flight may still report and finish.
  void StopScheduling();

  // Operator mode (engine_leading.cpp): only the leader starts runs. A follower keeps its
  // checks, shows the states the leader writes (ObserveStates) and stays healthy.
  // SetLeading(true) takes over: states afresh from the store, runs a former leader left in
  // flight followed to their end (or closed as interrupted when nothing of them is left), and
  // every check rescheduled from its last start, so a leader change neither re-runs everything
  // nor fails or repeats the runs it interrupts. SetLeading(false) stops starting runs and
  // hands the runs in flight over (Runner::Release) to the next leader.
  void SetLeading(bool leading);
  bool leading() const { return leading_; }
  // A follower's view of the leader's writes; ignored for checks with a run in flight here.
  void ObserveStates(std::map<CheckKey, CheckState> states);
  // Who leads, as a follower's status page names it (CurrentMaster); "" while unknown.
  void SetLeaderName(std::string name) { leader_name_ = std::move(name); }
  // Terminates what is still running; their runs end as interrupted.
  void InterruptAll();

 private:
  // A run whose processes have not all exited yet.
  struct ActiveRun {
    CheckKey key;
    std::shared_ptr<const CheckSpec> spec;
    TimePoint started;
    bool result_recorded = false;  // its outcome is decided (maybe still being committed)
    std::unique_ptr<boost::asio::steady_timer> timer;  // deadline, then exit grace
  };
  // What a decided run changes: the check's next state and its history row.
  struct Outcome {
    CheckState state;
    RunRecord record;
  };
  // A heartbeat check's live side (engine_heartbeat.cpp). Kept small: there may be 100 000.
  struct HeartbeatEntry {
    std::shared_ptr<const HeartbeatSchedule> schedule;
    std::string token;          // "" until made; the durable token once token_stored
    bool token_stored = false;  // false: a new token is being stored; its URL does not work yet
    TimePoint since;            // when it began waiting without a report (added or daemon start)
    TimePoint due_from;         // `due` is the schedule's next instant after this
    TimePoint due;              // the next report is expected by due + grace
    std::optional<TimePoint> last_report;  // last result report, stored or counted
    std::optional<TimePoint> last_row;     // last history row decided
    std::optional<TimePoint> started;      // pending /start
    std::string start_uuid;
    std::optional<RateLimiter> limiter;   // always set once applied
    std::optional<TimePoint> armed;       // its deadline in heartbeat_deadlines_, if any
    std::unique_ptr<CheckState> decided;  // latest decided state while commits are in flight
  };
  // Heartbeat deadlines, earliest first; ties by key, so that checks due together are handled
  // in a fixed order. The key points into heartbeats_ (map nodes do not move).
  struct DeadlineOrder {
    bool operator()(const std::pair<TimePoint, const CheckKey*>& a,
                    const std::pair<TimePoint, const CheckKey*>& b) const {
      return a.first != b.first ? a.first < b.first : *a.second < *b.second;
    }
  };

  // How long a steady timer must wait for wall-clock instant `when`; never negative.
  static std::chrono::steady_clock::duration Until(TimePoint when, TimePoint now);
  void Pump();
  void ArmWake();
  void StartRun(const CheckKey& key);
  std::optional<TimePoint> LastStart(const CheckSpec& spec, TimePoint now) const;
  // Runs an in-process probe on the executor; its result ends the run like a report would.
  void StartProbe(const std::string& uuid, const std::shared_ptr<const CheckSpec>& spec);
  void OnDeadline(const std::string& uuid);
  void OnExit(const std::string& uuid, const RunExit& exit);
  // `base`: the state to build on; default the committed one.
  Outcome Decide(const CheckKey& key, const std::string& uuid, TimePoint started, bool ok,
                 std::vector<std::string> errors, RunEnd end,
                 const CheckState* base = nullptr) const;
  // Decides a run's outcome now (timeout, exit) and commits it in the background.
  void RecordResult(const std::string& uuid, bool ok, std::vector<std::string> errors, RunEnd end);
  void Commit(Outcome outcome, std::function<void(Status)> then);
  void ApplyCommitted(const CheckKey& key, const std::string& uuid, const CheckState& committed);
  void CloseInterruptedRun(const CheckKey& key);
  // Operator mode: follows the run a former leader left in flight, if its checker is still
  // there and its deadline ahead (engine_leading.cpp). False: close it instead.
  bool AdoptRun(const CheckKey& key);
  void RememberRun(const CheckKey& key, const std::string& uuid, TimePoint deadline);
  void ForgetCheck(const CheckKey& key);
  void SaveState(const CheckKey& key);
  // The check's committed state, or an empty one: reading must not add an entry (100 000
  // heartbeat checks that never reported would each hold an empty 350-byte state).
  const CheckState& StateOf(const CheckKey& key) const;
  std::optional<TimePoint> NextRunOf(const CheckKey& key) const;
  // Heartbeat checks (engine_heartbeat.cpp).
  // True when the check's token is new and must be stored (the caller does: StoreToken).
  bool ApplyHeartbeat(const CheckKey& key, bool added);
  // The check's due-time rules, shared with the check applied before it when they are the same
  // (checks of one file usually are; 128 bytes each otherwise).
  std::shared_ptr<const HeartbeatSchedule> ScheduleOf(const CheckSpec& spec);
  void ForgetHeartbeat(const CheckKey& key);
  // Stores `token` as the check's; it replaces the entry's once durable (a rotation), or makes
  // the entry's pending one usable.
  void StoreToken(const CheckKey& key, const std::string& token,
                  std::function<void(Result<std::string>)> done);
  // (Re)sets the check's deadline: due + grace, or the end of a pending /start's timeout.
  void ArmHeartbeat(const CheckKey& key);
  // Waits for the earliest deadline with the one heartbeat timer.
  void ArmHeartbeatTimer();
  void OnHeartbeatDeadlines();
  void OnHeartbeatTimer(const CheckKey& key);
  void RecordHeartbeat(const CheckKey& key, const std::string& uuid, TimePoint started, bool ok,
                       std::vector<std::string> errors, const char* ended_by,
                       std::function<void(Status)> then);
  std::string HeartbeatUrl(const std::string& token) const;

  boost::asio::any_io_executor executor_;
  const Clock& clock_;
  Runner& runner_;
  Store& store_;
  SondeMetrics* metrics_;
  EngineOptions options_;
  Scheduler scheduler_;
  boost::asio::steady_timer wake_;
  bool wake_armed_ = false;  // wake_ has a wait pending
  bool scheduling_ = true;
  bool leading_ = true;  // false: a follower in operator mode
  std::string leader_name_;
  TimePoint last_pump_;

  std::map<CheckKey, std::shared_ptr<const CheckSpec>> checks_;
  // One record per check that has a state or recent runs, so the key is held once for both
  // (a map node each cost 96 bytes of key and node per running check). A removed check keeps
  // its record while it has recent runs (their late reports answer 410), with an empty state.
  class CheckRecord {
   public:
    // Committed, plus the current run's uuid and start.
    const CheckState& state() const { return state_; }
    // Stamps the state with a new version from `versions` (the engine's counter) and returns it
    // to be changed: the only way to change it, so the version changes whenever it does. The
    // status page and metrics caches compare versions instead of keeping a copy of each state.
    CheckState& Change(uint64_t& versions) {
      version_ = ++versions;
      return state_;
    }
    uint64_t version() const { return version_; }
    std::vector<std::string> recent_runs;  // uuids, oldest first

   private:
    CheckState state_;
    uint64_t version_ = kDefaultStateVersion;  // the empty state's
  };
  std::map<CheckKey, CheckRecord> records_;
  uint64_t state_versions_ = kDefaultStateVersion;  // the last version handed out
  // records_[key]'s state, to be changed (a new version).
  CheckState& ChangeState(const CheckKey& key) { return records_[key].Change(state_versions_); }
  std::vector<std::string> load_errors_;
  UuidSource uuids_;                                    // every run's uuid
  std::unordered_map<std::string, ActiveRun> active_;   // by run uuid
  std::unordered_map<std::string, RunView> run_views_;  // recent runs, by uuid
  // Expires with the engine, so a probe or a store commit finishing after it does not touch it.
  std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);
  std::map<CheckKey, HeartbeatEntry> heartbeats_;
  // By token; both point into heartbeats_ (the entry's token and key), so a token is held once.
  std::unordered_map<std::string_view, const CheckKey*> heartbeat_keys_;
  // Durable tokens of checks without a heartbeat entry (removed, or not yet applied); a live
  // heartbeat check's token is in its entry instead, so that it is not held twice.
  std::map<CheckKey, std::string> stored_tokens_;
  // One timer for every heartbeat check (a timer each cost ~300 bytes per check).
  std::set<std::pair<TimePoint, const CheckKey*>, DeadlineOrder> heartbeat_deadlines_;
  boost::asio::steady_timer heartbeat_timer_;
  // The last schedule ScheduleOf made, and what it was made from; kept for one ApplyChecks.
  struct ScheduleCache {
    Duration interval{};
    Duration grace{};
    std::string cron;
    std::string timezone;
    std::shared_ptr<const HeartbeatSchedule> schedule;
  } schedule_cache_;
  bool heartbeat_timer_waiting_ = false;
  size_t tokens_in_flight_ = 0;  // StoreToken calls not answered yet
  void ReleaseMemoryWhenSettled();
};

// The error recorded for a run whose checker ended without reporting.
std::string DescribeExitWithoutReport(const RunExit& exit);

}  // namespace sonde
