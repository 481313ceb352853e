#include "engine/engine.hpp"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <csignal>
#include <cstring>

#include "contract/report.hpp"

namespace sonde {
namespace {

constexpr Duration kMaxTick = std::chrono::seconds(1);
constexpr Duration kStallAfter = std::chrono::seconds(10);

std::string SignalName(int sig) {
  const char* abbrev = sigabbrev_np(sig);
  return abbrev ? std::string("SIG") + abbrev : "signal " + std::to_string(sig);
}

std::string TrimTail(std::string s) {
  while (!s.empty() && (s.back() == '\n' || s.back() == ' ' || s.back() == '\r')) s.pop_back();
  constexpr size_t kMax = 512;
  if (s.size() > kMax) s = "..." + s.substr(s.size() - kMax);
  return s;
}

// What a check without a recorded state shows (StateOf, RefreshSnapshot).
const CheckState& NoState() {
  static const CheckState kNone;
  return kNone;
}

}  // namespace

std::chrono::steady_clock::duration Engine::Until(TimePoint when, TimePoint now) {
  return std::max(Duration{0}, when - now);
}

std::string DescribeExitWithoutReport(const RunExit& exit) {
  const std::string tail = TrimTail(exit.stderr_tail);
  const std::string with_tail = tail.empty() ? "" : "; stderr: " + tail;
  for (const ContainerExit& c : exit.containers) {
    const std::string where = (c.init ? "init container " : "container ") + c.container;
    if (!c.started) return "checker could not start (" + where + "): " + c.spawn_error;
    if (c.signaled) {
      return "checker was killed by " + SignalName(c.signal) + " before reporting (" + where + ")" +
             with_tail;
    }
    if (c.exit_code != 0) {
      return "checker exited with code " + std::to_string(c.exit_code) + " before reporting (" +
             where + ")" + with_tail;
    }
  }
  return "checker exited with code 0 without reporting to KH_REPORTING_URL" + with_tail;
}

Engine::Engine(boost::asio::any_io_executor executor, const Clock& clock, Runner& runner,
               Store& store, EngineOptions options, SondeMetrics* metrics)
    : executor_(executor),
      clock_(clock),
      runner_(runner),
      store_(store),
      metrics_(metrics),
      options_(std::move(options)),
      scheduler_(std::max<size_t>(1, options_.max_concurrent_runs)),
      wake_(executor),
      last_pump_(clock.Now()),
      heartbeat_timer_(executor) {
  for (auto& [key, state] : store_.LoadStates()) ChangeState(key) = std::move(state);
  if (auto tokens = store_.LoadHeartbeatTokens(); tokens.ok()) {
    stored_tokens_ = std::move(tokens.value());
  } else {
    spdlog::error("store: cannot load heartbeat tokens: {}", tokens.error());
  }
}

Engine::~Engine() {
  wake_.cancel();
  for (auto& [uuid, run] : active_) run.timer->cancel();
  heartbeat_timer_.cancel();
}

std::string Engine::ReportingUrl(const CheckSpec& spec, const std::string& uuid) const {
  const char* path = spec.kind == CheckKind::kHealthCheck ? kReportPathV3 : kReportPathV2;
  return options_.reporting_base_url + path + "?" + kRunUuidQuery + "=" + uuid;
}

// A probe that never ran starts at a point of its interval (at most 10 s in) derived from its
// name: a thousand probes loaded together then spread out instead of all falling due at the
// same instant, every interval, for ever. A checker process starts at once, as Kuberhealthy's.
std::optional<TimePoint> Engine::LastStart(const CheckSpec& spec, TimePoint now) const {
  if (const auto& last = StateOf(spec.key).last_run_start) return last;
  if (!spec.probe || spec.IsJob()) return std::nullopt;
  const Duration spread = std::min<Duration>(spec.run_interval, std::chrono::seconds(10));
  if (spread.count() <= 0) return std::nullopt;
  const auto offset = Duration(std::hash<std::string>{}(spec.key.str()) % spread.count());
  return now - spec.run_interval + offset;
}

void Engine::ApplyChecks(std::vector<CheckSpec> checks, std::vector<std::string> load_errors) {
  load_errors_ = std::move(load_errors);
  const TimePoint now = clock_.Now();
  // A sorted vector, not a map: a temporary node per check would leave as many holes in the
  // heap between the long-lived entries made below (measured: ~13 MB at 100 000 checks).
  std::vector<std::shared_ptr<const CheckSpec>> next;
  next.reserve(checks.size());
  // Copied, not moved: the copies' parts are allocated here, next to the engine's entries,
  // while the parsed ones sit among the YAML parser's freed nodes and would pin that memory.
  for (const auto& c : checks) next.push_back(std::make_shared<const CheckSpec>(c));
  std::vector<CheckSpec>().swap(checks);
  auto by_key = [](const auto& a, const auto& b) { return a->key < b->key; };
  std::stable_sort(next.begin(), next.end(), by_key);
  // Of two definitions of one key (the loader reports them), the last wins.
  auto last = std::unique(next.rbegin(), next.rend(),
                          [](const auto& a, const auto& b) { return a->key == b->key; });
  next.erase(next.begin(), last.base());
  auto in_next = [&next](const CheckKey& key) {
    auto it = std::lower_bound(next.begin(), next.end(), key,
                               [](const auto& spec, const CheckKey& k) { return spec->key < k; });
    return it != next.end() && (*it)->key == key;
  };
  for (auto it = checks_.begin(); it != checks_.end();) {
    const CheckKey key = (it++)->first;
    if (!in_next(key)) ForgetCheck(key);
  }
  std::vector<CheckKey> need_token;  // stored after the loop (see below)
  schedule_cache_ = {};              // a time zone's rules are loaded again at each apply
  for (const auto& spec : next) {
    const CheckKey& key = spec->key;
    auto old = checks_.find(key);
    if (old != checks_.end() && *old->second == *spec) continue;
    const bool added = old == checks_.end();
    if (added) spdlog::info("check {} added ({})", key.str(), spec->source_file.str());
    if (!added) spdlog::info("check {} changed; effective from its next run", key.str());
    checks_[key] = spec;
    if (spec->IsHeartbeat()) {  // nothing to start: it waits for reports (engine_heartbeat.cpp)
      scheduler_.Remove(key);
      if (ApplyHeartbeat(key, added)) need_token.push_back(key);
      continue;
    }
    ForgetHeartbeat(key);  // in case it was one
    // A follower leaves runs in flight alone: they are the leader's (SetLeading takes over).
    if (added && leading_) CloseInterruptedRun(key);
    scheduler_.Upsert(key, spec->run_interval, spec->IsJob(), LastStart(*spec, now), now);
  }
  // After every long-lived entry is made: the queued writes are freed once stored, and freed
  // among those entries they would fragment the heap (~60 MB at 100 000 new heartbeat checks).
  for (const CheckKey& key : need_token) {
    StoreToken(key, heartbeats_.at(key).token, [key](Result<std::string> url) {
      if (url.ok()) spdlog::info("check {}: heartbeat URL {}", key.str(), url.value());
    });
  }
  schedule_cache_ = {};
  ReleaseMemoryWhenSettled();
  Pump();
}

void Engine::ForgetCheck(const CheckKey& key) {
  spdlog::info("check {} removed", key.str());
  for (auto& [uuid, run] : active_) {
    if (run.key != key) continue;
    run_views_[uuid].end = RunEnd::kRemoved;
    if (metrics_ && !run.result_recorded) {
      metrics_->RunFinished(key, RunOutcome::kRemoved, clock_.Now() - run.started);
    }
    run.result_recorded = true;
    runner_.Terminate(uuid);
  }
  if (metrics_) metrics_->ForgetCheck(key);
  ForgetHeartbeat(key);
  scheduler_.Remove(key);
  checks_.erase(key);
  if (auto record = records_.find(key); record != records_.end()) {
    if (record->second.recent_runs.empty()) {
      records_.erase(record);
    } else {
      record->second.Change(state_versions_) = CheckState{};
    }
  }
  if (auto s = store_.DeleteState(key); !s.ok()) {
    spdlog::error("store: cannot delete state of {}: {}", key.str(), s.message());
  }
}

void Engine::Pump() {
  const TimePoint now = last_pump_ = clock_.Now();
  if (scheduling_ && leading_) {
    const auto due = scheduler_.TakeDue(now);
    for (const DueCheck& d : due) {
      if (metrics_) metrics_->SchedulerLateness(now - d.due);
      StartRun(d.key);
    }
    if (metrics_) metrics_->SchedulerLoop(clock_.Now() - now, due.size());
  }
  ArmWake();
}

void Engine::ArmWake() {
  const TimePoint now = clock_.Now();
  TimePoint when = now + kMaxTick;  // ticks at least every second: /healthz watches it
  if (auto due = scheduler_.NextDue(); due && scheduler_.free_slots() > 0 && leading_) {
    when = std::min(when, *due);
  }
  // Left alone when it already fires by then: re-arming on every run's end cost a timer
  // cancel, a new wait and often a timerfd update. Firing early only costs an idle Pump.
  const auto at = std::chrono::steady_clock::now() + Until(when, now);
  if (wake_armed_ && wake_.expiry() <= at) return;
  wake_.expires_at(at);
  wake_armed_ = true;
  wake_.async_wait([this](boost::system::error_code ec) {
    if (ec) return;
    wake_armed_ = false;
    Pump();
  });
}

void Engine::SaveState(const CheckKey& key) {
  if (auto st = store_.SaveState(key, records_[key].state()); !st.ok()) {
    spdlog::error("store: cannot save state of {}: {}", key.str(), st.message());
  }
}

void Engine::ReleaseMemoryWhenSettled() {
  if (tokens_in_flight_ == 0 && options_.release_memory) options_.release_memory();
}

const CheckState& Engine::StateOf(const CheckKey& key) const {
  auto it = records_.find(key);
  return it == records_.end() ? NoState() : it->second.state();
}

RunNowResult Engine::RunNow(const CheckKey& key) {
  if (checks_.count(key) == 0) return RunNowResult::kUnknown;
  if (heartbeats_.count(key) > 0) return RunNowResult::kHeartbeat;
  if (!scheduler_.RequestNow(key, clock_.Now())) return RunNowResult::kAlreadyRunning;
  Pump();
  return RunNowResult::kStarted;
}

StatusSnapshot Engine::Snapshot(bool with_schedule, bool with_urls) const {
  StatusSnapshot snap;
  RefreshSnapshot(snap);
  if (!with_schedule) return snap;
  // heartbeats_ has checks_' key order (and fewer keys): walked alongside it, not searched.
  auto hb = heartbeats_.begin();
  for (CheckView& view : snap.checks) {
    const CheckKey& key = view.spec->key;
    while (hb != heartbeats_.end() && hb->first < key) ++hb;
    if (hb != heartbeats_.end() && hb->first == key) {
      // As NextRunOf and Heartbeat(key) answer for a heartbeat check.
      view.next_run = hb->second.due;
      if (with_urls && hb->second.token_stored) view.heartbeat_url = HeartbeatUrl(hb->second.token);
    } else {
      view.next_run = scheduler_.NextRun(key);
    }
  }
  return snap;
}

void Engine::RefreshSnapshot(StatusSnapshot& snap) const {
  snap.instance = leading_ || leader_name_.empty() ? options_.instance_name : leader_name_;
  snap.leader = leading_;
  if (snap.metadata != options_.metadata) snap.metadata = options_.metadata;
  snap.load_errors = load_errors_;
  snap.checks.resize(checks_.size());
  // records_ has checks_' key order (and fewer keys): walked alongside it, not searched (the
  // searches were most of a status page's cost at 10 000 checks).
  auto st = records_.begin();
  auto view = snap.checks.begin();
  for (const auto& [key, spec] : checks_) {
    while (st != records_.end() && st->first < key) ++st;
    const bool has_state = st != records_.end() && st->first == key;
    const uint64_t version = has_state ? st->second.version() : kDefaultStateVersion;
    CheckView& v = *view++;
    if (v.spec != spec) v.spec = spec;
    // Assigned over the old view's strings, which keep their memory: no allocation per check.
    // The version says whether it changed (0 in a new view: never a state's version).
    if (v.state_version != version) {
      v.state = has_state ? st->second.state() : NoState();
      v.state_version = version;
    }
    v.next_run.reset();
    v.heartbeat_url.clear();
  }
}

std::optional<TimePoint> Engine::NextRunOf(const CheckKey& key) const {
  if (auto hb = heartbeats_.find(key); hb != heartbeats_.end()) return hb->second.due;
  return scheduler_.NextRun(key);
}

bool Engine::Healthy() const {
  const TimePoint now = clock_.Now();
  if (now - last_pump_ > kStallAfter) return false;
  if (!scheduling_ || !leading_ || scheduler_.free_slots() == 0) return true;
  const auto due = scheduler_.NextDue();
  return !due || now - *due <= kStallAfter;
}

void Engine::StopScheduling() {
  scheduling_ = false;
  wake_.cancel();
  wake_armed_ = false;
}

void Engine::InterruptAll() {
  StopScheduling();
  // The store still holds these runs as current: the next start closes them as interrupted.
  for (auto& [uuid, run] : active_) {
    if (!run.result_recorded) {
      run_views_[uuid].end = RunEnd::kInterrupted;
      if (metrics_) {
        metrics_->RunFinished(run.key, RunOutcome::kInterrupted, clock_.Now() - run.started);
      }
    }
    run.result_recorded = true;
  }
  std::vector<std::string> uuids;
  for (const auto& entry : active_) uuids.push_back(entry.first);
  for (const auto& uuid : uuids) runner_.Terminate(uuid);
}

}  // namespace sonde
