#include "engine/engine.hpp"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <boost/asio/post.hpp>
#include <csignal>
#include <cstring>

#include "contract/report.hpp"
#include "core/uuid.hpp"

namespace sonde {
namespace {

constexpr Duration kMaxTick = std::chrono::seconds(1);
constexpr Duration kStallAfter = std::chrono::seconds(10);

std::chrono::steady_clock::duration Until(TimePoint when, TimePoint now) {
  return std::max(Duration{0}, when - now);
}

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

}  // namespace

std::string DescribeExitWithoutReport(const RunExit& exit) {
  const std::string tail = TrimTail(exit.stderr_tail);
  const std::string with_tail = tail.empty() ? "" : "; stderr: " + tail;
  for (const ContainerExit& c : exit.containers) {
    const std::string where = (c.init ? "init container " : "container ") + c.container;
    if (!c.started) return "checker could not start (" + where + "): " + c.spawn_error;
    if (c.signaled) {
      return "checker was killed by " + SignalName(c.signal) + " before reporting (" + where +
             ")" + with_tail;
    }
    if (c.exit_code != 0) {
      return "checker exited with code " + std::to_string(c.exit_code) +
             " before reporting (" + where + ")" + with_tail;
    }
  }
  return "checker exited with code 0 without reporting to KH_REPORTING_URL" + with_tail;
}

Engine::Engine(boost::asio::any_io_executor executor, const Clock& clock, Runner& runner,
               Store& store, EngineOptions options)
    : executor_(executor),
      clock_(clock),
      runner_(runner),
      store_(store),
      options_(std::move(options)),
      scheduler_(std::max<size_t>(1, options_.max_concurrent_runs)),
      wake_(executor),
      last_pump_(clock.Now()),
      states_(store.LoadStates()) {}

Engine::~Engine() {
  wake_.cancel();
  for (auto& [uuid, run] : active_) run.timer->cancel();
}

std::string Engine::ReportingUrl(const CheckSpec& spec, const std::string& uuid) const {
  const char* path = spec.kind == CheckKind::kHealthCheck ? kReportPathV3 : kReportPathV2;
  return options_.reporting_base_url + path + "?" + kRunUuidQuery + "=" + uuid;
}

void Engine::ApplyChecks(std::vector<CheckSpec> checks, std::vector<std::string> load_errors) {
  load_errors_ = std::move(load_errors);
  const TimePoint now = clock_.Now();
  std::map<CheckKey, std::shared_ptr<const CheckSpec>> next;
  for (auto& c : checks) {
    const CheckKey key = c.key;
    next[key] = std::make_shared<const CheckSpec>(std::move(c));
  }
  for (auto it = checks_.begin(); it != checks_.end();) {
    const CheckKey key = (it++)->first;
    if (next.count(key) == 0) ForgetCheck(key);
  }
  for (auto& [key, spec] : next) {
    auto old = checks_.find(key);
    if (old != checks_.end() && *old->second == *spec) continue;
    if (old == checks_.end()) spdlog::info("check {} added ({})", key.str(), spec->source_file);
    if (old != checks_.end()) spdlog::info("check {} changed; effective from its next run", key.str());
    const CheckState& state = states_[key];
    scheduler_.Upsert(key, spec->run_interval, spec->IsJob(), state.last_run_start, now);
    checks_[key] = spec;
  }
  Pump();
}

void Engine::ForgetCheck(const CheckKey& key) {
  spdlog::info("check {} removed", key.str());
  for (auto& [uuid, run] : active_) {
    if (run.key != key) continue;
    run_views_[uuid].end = RunEnd::kRemoved;
    run.result_recorded = true;
    runner_.Terminate(uuid);
  }
  scheduler_.Remove(key);
  checks_.erase(key);
  states_.erase(key);
  if (auto s = store_.DeleteState(key); !s.ok()) {
    spdlog::error("store: cannot delete state of {}: {}", key.str(), s.message());
  }
}

void Engine::Pump() {
  last_pump_ = clock_.Now();
  if (scheduling_) {
    for (const CheckKey& key : scheduler_.TakeDue(last_pump_)) StartRun(key);
  }
  ArmWake();
}

void Engine::ArmWake() {
  const TimePoint now = clock_.Now();
  TimePoint when = now + kMaxTick;  // ticks at least every second: /healthz watches it
  if (auto due = scheduler_.NextDue(); due && scheduler_.free_slots() > 0) {
    when = std::min(when, *due);
  }
  wake_.expires_after(Until(when, now));
  wake_.async_wait([this](boost::system::error_code ec) {
    if (!ec) Pump();
  });
}

void Engine::StartRun(const CheckKey& key) {
  const auto spec = checks_.at(key);
  const TimePoint now = clock_.Now();
  const std::string uuid = NewUuidV4();
  const TimePoint deadline = now + spec->timeout;

  CheckState& state = states_[key];
  state.run_uuid = uuid;
  state.current_uuid = uuid;
  state.last_run_start = now;
  SaveState(key);
  RememberRun(key, uuid, deadline);

  ActiveRun& run = active_[uuid];
  run.key = key;
  run.spec = spec;
  run.started = now;
  run.timer = std::make_unique<boost::asio::steady_timer>(executor_);
  run.timer->expires_after(Until(deadline, now));
  run.timer->async_wait([this, uuid](boost::system::error_code ec) {
    if (!ec) OnDeadline(uuid);
  });
  spdlog::debug("run {} of {} started", uuid, key.str());

  RunRequest request{spec, uuid, ReportingUrl(*spec, uuid), deadline};
  // The runner may finish a run inside Start (a checker that cannot start); posting keeps
  // OnExit from re-entering Pump while it iterates.
  runner_.Start(request, [this, uuid](const RunExit& exit) {
    boost::asio::post(executor_, [this, uuid, exit] { OnExit(uuid, exit); });
  });
}

void Engine::RememberRun(const CheckKey& key, const std::string& uuid, TimePoint deadline) {
  for (auto& [other, run] : active_) {
    if (run.key == key && !run.result_recorded) run_views_[other].end = RunEnd::kSuperseded;
  }
  run_views_[uuid] = RunView{key.str(), RunEnd::kActive, deadline};
  auto& recent = recent_runs_[key];
  recent.push_back(uuid);
  while (recent.size() > options_.runs_remembered_per_check) {
    run_views_.erase(recent.front());
    recent.pop_front();
  }
}

void Engine::OnDeadline(const std::string& uuid) {
  auto it = active_.find(uuid);
  if (it == active_.end() || it->second.result_recorded) return;
  const std::string timeout = FormatGoDuration(it->second.spec->timeout);
  spdlog::warn("run {} of {} timed out after {}", uuid, it->second.key.str(), timeout);
  RecordResult(uuid, false, {"timed out after " + timeout + " waiting for the checker to report"},
               RunEnd::kTimedOut);
  runner_.Terminate(uuid);
}

ReportVerdict Engine::HandleReport(const std::string& uuid, std::string_view body) {
  auto view = run_views_.find(uuid);
  ReportVerdict verdict =
      JudgeReport(view == run_views_.end() ? nullptr : &view->second, uuid, clock_.Now());
  if (verdict.http_status != 200) return verdict;
  auto report = ParseReport(body);
  if (!report.ok()) return {400, report.error()};
  RecordResult(uuid, report.value().ok, std::move(report.value().errors), RunEnd::kReported);
  auto run = active_.find(uuid);
  if (run != active_.end()) {
    // The checker has said what it had to say; give it a moment to exit, then stop it.
    run->second.timer->expires_after(options_.report_exit_grace);
    run->second.timer->async_wait([this, uuid](boost::system::error_code ec) {
      if (!ec && active_.count(uuid) > 0) runner_.Terminate(uuid);
    });
  }
  return verdict;
}

void Engine::OnExit(const std::string& uuid, const RunExit& exit) {
  auto it = active_.find(uuid);
  if (it == active_.end()) return;
  if (!it->second.result_recorded) {
    RecordResult(uuid, false, {DescribeExitWithoutReport(exit)}, RunEnd::kExited);
  }
  const CheckKey key = it->second.key;
  it->second.timer->cancel();
  active_.erase(it);
  scheduler_.Finished(key, clock_.Now());
  Pump();
}

void Engine::RecordResult(const std::string& uuid, bool ok, std::vector<std::string> errors,
                          RunEnd end) {
  auto it = active_.find(uuid);
  if (it == active_.end() || it->second.result_recorded) return;
  ActiveRun& run = it->second;
  run.result_recorded = true;
  run_views_[uuid].end = end;
  const TimePoint now = clock_.Now();

  CheckState& s = states_[run.key];
  s.ok = ok;
  s.errors = errors;
  s.run_duration = now - run.started;
  s.last_run = now;
  s.node = options_.node_name;
  s.authoritative_pod = options_.instance_name;
  if (s.current_uuid == uuid) s.current_uuid.clear();
  if (ok) {
    s.consecutive_failures = 0;
    ++s.success_count;
    s.last_ok = now;
  } else {
    ++s.consecutive_failures;
    ++s.failure_count;
    s.last_failure = now;
  }
  SaveState(run.key);
  static constexpr const char* kEndedBy[] = {"active", "report", "timeout", "exit",
                                             "superseded", "removed", "interrupted"};
  RunRecord record{run.key, uuid, run.started, now, ok, std::move(errors),
                   kEndedBy[static_cast<int>(end)]};
  if (auto st = store_.AppendRun(record); !st.ok()) {
    spdlog::error("store: cannot record run {} of {}: {}", uuid, run.key.str(), st.message());
  }
  if (!ok) spdlog::info("run {} of {} failed: {}", uuid, run.key.str(), s.errors.front());
}

void Engine::SaveState(const CheckKey& key) {
  if (auto st = store_.SaveState(key, states_[key]); !st.ok()) {
    spdlog::error("store: cannot save state of {}: {}", key.str(), st.message());
  }
}

RunNowResult Engine::RunNow(const CheckKey& key) {
  if (checks_.count(key) == 0) return RunNowResult::kUnknown;
  if (!scheduler_.RequestNow(key, clock_.Now())) return RunNowResult::kAlreadyRunning;
  Pump();
  return RunNowResult::kStarted;
}

StatusSnapshot Engine::Snapshot() const {
  StatusSnapshot snap;
  snap.instance = options_.instance_name;
  snap.metadata = options_.metadata;
  snap.load_errors = load_errors_;
  snap.checks.reserve(checks_.size());
  for (const auto& [key, spec] : checks_) {
    auto st = states_.find(key);
    snap.checks.push_back(
        CheckView{spec, st == states_.end() ? CheckState{} : st->second, scheduler_.NextRun(key)});
  }
  return snap;
}

bool Engine::Healthy() const {
  const TimePoint now = clock_.Now();
  if (now - last_pump_ > kStallAfter) return false;
  if (!scheduling_ || scheduler_.free_slots() == 0) return true;
  const auto due = scheduler_.NextDue();
  return !due || now - *due <= kStallAfter;
}

void Engine::StopScheduling() {
  scheduling_ = false;
  wake_.cancel();
}

void Engine::InterruptAll() {
  StopScheduling();
  std::vector<std::string> uuids;
  for (auto& [uuid, run] : active_) uuids.push_back(uuid);
  for (const auto& uuid : uuids) {
    auto it = active_.find(uuid);
    if (it == active_.end()) continue;
    if (!it->second.result_recorded) {
      run_views_[uuid].end = RunEnd::kInterrupted;
      it->second.result_recorded = true;
      CheckState& s = states_[it->second.key];
      if (s.current_uuid == uuid) s.current_uuid.clear();
      SaveState(it->second.key);
    }
    runner_.Terminate(uuid);
  }
}

}  // namespace sonde
