// The life of one run: start, deadline, report, exit, and committing its outcome.
#include <spdlog/spdlog.h>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/post.hpp>

#include "contract/report.hpp"
#include "core/uuid.hpp"
#include "engine/engine.hpp"
#include "probe/probe.hpp"

namespace sonde {
namespace {

// How long past its timeout a probe may take before the engine gives up on it.
constexpr std::chrono::steady_clock::duration kProbeOverrun = std::chrono::seconds(1);

const char* EndedBy(RunEnd end) {
  switch (end) {
    case RunEnd::kReported:
      return "report";
    case RunEnd::kTimedOut:
      return "timeout";
    case RunEnd::kExited:
      return "exit";
    case RunEnd::kSuperseded:
      return "superseded";
    case RunEnd::kRemoved:
      return "removed";
    case RunEnd::kInterrupted:
      return "restart";
    case RunEnd::kProbed:
      return "probe";
    case RunEnd::kActive:
      break;
  }
  return "active";
}

}  // namespace

void Engine::StartRun(const CheckKey& key) {
  const auto spec = checks_.at(key);
  const TimePoint now = clock_.Now();
  const std::string uuid = uuids_.Next();
  const TimePoint deadline = now + spec->timeout;

  CheckState& state = ChangeState(key);
  state.run_uuid = uuid;
  state.current_uuid = uuid;
  state.last_run_start = now;
  // Durable before the checker exists, so a daemon that dies now knows to close this run.
  // A probe leaves nothing behind to close, so its start costs no write.
  if (!spec->probe) SaveState(key);
  RememberRun(key, uuid, deadline);
  if (spec->probe) run_views_[uuid].end = RunEnd::kProbed;

  ActiveRun& run = active_[uuid];
  run.key = key;
  run.spec = spec;
  run.started = now;
  run.timer = std::make_unique<boost::asio::steady_timer>(executor_);
  // A probe enforces the timeout itself and says what it was waiting for; this deadline
  // only catches a probe that overran it.
  run.timer->expires_after(Until(deadline, now) +
                           (spec->probe ? kProbeOverrun : std::chrono::steady_clock::duration{}));
  run.timer->async_wait([this, uuid](boost::system::error_code ec) {
    if (!ec) OnDeadline(uuid);
  });
  // Guarded: the arguments would be built on every run even with debug logging off.
  if (spdlog::should_log(spdlog::level::debug)) {
    spdlog::debug("run {} of {} started", uuid, key.str());
  }

  if (metrics_) metrics_->RunStarted();
  if (spec->probe) return StartProbe(uuid, spec);
  RunRequest request{spec, uuid, ReportingUrl(*spec, uuid), deadline};
  // Posting keeps OnExit from re-entering Pump while Pump iterates.
  runner_.Start(request, [this, uuid](const RunExit& exit) {
    boost::asio::post(executor_, [this, uuid, exit] { OnExit(uuid, exit); });
  });
  if (metrics_) metrics_->SpawnLatency(clock_.Now() - now);
}

void Engine::StartProbe(const std::string& uuid, const std::shared_ptr<const CheckSpec>& spec) {
  std::shared_ptr<const ProbeDefinition> definition = spec->probe.definition;
  // Judged and recorded on the engine's loop, wherever the probe ran.
  auto finish = [this, uuid, key = spec->key, definition, alive = std::weak_ptr<bool>(alive_)](
                    std::exception_ptr e, Observation observation) {
    if (alive.expired()) return;  // the engine is gone; nothing to record into
    std::vector<std::string> errors;
    if (e) {
      errors.push_back(definition->probe->Target() + ": the probe failed unexpectedly");
    } else {
      errors = Judge(*definition, observation, clock_.Now());
      if (metrics_) metrics_->CertificateExpiry(key, observation.certificate_not_after);
    }
    const bool ok = errors.empty();
    RecordResult(uuid, ok, std::move(errors), RunEnd::kProbed);
    OnExit(uuid, RunExit{});
  };
  if (!options_.probe_executor) {
    return boost::asio::co_spawn(executor_, definition->probe->Run(spec->timeout),
                                 std::move(finish));
  }
  // On the probe executor's thread: touch nothing of the engine's, only post back.
  boost::asio::co_spawn(options_.probe_executor, definition->probe->Run(spec->timeout),
                        [executor = executor_, finish = std::move(finish)](
                            std::exception_ptr e, Observation observation) mutable {
                          boost::asio::post(executor,
                                            [finish = std::move(finish), e,
                                             observation = std::move(observation)]() mutable {
                                              finish(e, std::move(observation));
                                            });
                        });
}

void Engine::RememberRun(const CheckKey& key, const std::string& uuid, TimePoint deadline) {
  auto& recent = records_[key].recent_runs;
  // The check's own recent runs, not every active run: with hundreds of probes in flight a
  // scan of active_ per start was the loop's biggest item.
  for (const std::string& other : recent) {
    auto run = active_.find(other);
    if (run != active_.end() && !run->second.result_recorded) {
      run_views_[other].end = RunEnd::kSuperseded;
    }
  }
  run_views_[uuid] = RunView{key.str(), RunEnd::kActive, deadline};
  recent.push_back(uuid);
  // At most runs_remembered_per_check (16) strings: moving them down is cheaper than a deque,
  // whose first element alone allocates 576 bytes (58 MB at 100 000 running checks).
  const size_t limit = options_.runs_remembered_per_check;
  if (recent.size() > limit) {
    const auto drop = recent.begin() + static_cast<std::ptrdiff_t>(recent.size() - limit);
    for (auto it = recent.begin(); it != drop; ++it) run_views_.erase(*it);
    recent.erase(recent.begin(), drop);
  }
}

void Engine::OnDeadline(const std::string& uuid) {
  auto it = active_.find(uuid);
  if (it == active_.end() || it->second.result_recorded) return;
  const std::string timeout = FormatGoDuration(it->second.spec->timeout);
  spdlog::warn("run {} of {} timed out after {}", uuid, it->second.key.str(), timeout);
  const std::string waiting_for =
      it->second.spec->probe ? "the probe of " + it->second.key.str() : "the checker to report";
  std::string error = "timed out after " + timeout + " waiting for " + waiting_for;
  if (const std::string detail = runner_.DeadlineDetail(uuid); !detail.empty()) {
    error += ": " + detail;
  }
  RecordResult(uuid, false, {std::move(error)}, RunEnd::kTimedOut);
  runner_.Terminate(uuid);
}

void Engine::HandleReport(const std::string& uuid, std::string_view body,
                          std::function<void(ReportVerdict)> reply) {
  auto view = run_views_.find(uuid);
  ReportVerdict verdict =
      JudgeReport(view == run_views_.end() ? nullptr : &view->second, uuid, clock_.Now());
  if (verdict.http_status != 200) return reply(verdict);
  auto report = ParseReport(body);
  if (!report.ok()) return reply({400, report.error()});
  auto run = active_.find(uuid);
  if (run == active_.end()) return reply({410, "run " + uuid + " has already ended"});
  ActiveRun& r = run->second;
  r.result_recorded = true;
  view->second.end = RunEnd::kReported;  // a second report now gets 410
  Outcome outcome = Decide(r.key, uuid, r.started, report.value().ok,
                           std::move(report.value().errors), RunEnd::kReported);
  Commit(std::move(outcome), [this, uuid, verdict, reply](Status st) {
    if (st.ok()) return reply(verdict);
    spdlog::error("run {}: report not stored: {}", uuid, st.message());
    // Not acknowledged, so not lost: reopen the run for the checker's retry.
    if (auto v = run_views_.find(uuid); v != run_views_.end()) v->second.end = RunEnd::kActive;
    if (auto a = active_.find(uuid); a != active_.end()) a->second.result_recorded = false;
    reply({503, "report not stored, retry: " + st.message()});
  });
  // The checker has said what it had to say; give it a moment to exit, then stop it.
  r.timer->expires_after(options_.report_exit_grace);
  r.timer->async_wait([this, uuid](boost::system::error_code ec) {
    if (!ec && active_.count(uuid) > 0) runner_.Terminate(uuid);
  });
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

Engine::Outcome Engine::Decide(const CheckKey& key, const std::string& uuid, TimePoint started,
                               bool ok, std::vector<std::string> errors, RunEnd end,
                               const CheckState* base) const {
  const TimePoint now = clock_.Now();
  CheckState s = base ? *base : StateOf(key);
  s.ok = ok;
  s.errors = errors;
  s.run_duration = now - started;
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
  RunRecord record{
      key, uuid, started, now, ok, std::move(errors), EndedBy(end), options_.instance_name};
  return Outcome{std::move(s), std::move(record)};
}

void Engine::RecordResult(const std::string& uuid, bool ok, std::vector<std::string> errors,
                          RunEnd end) {
  auto it = active_.find(uuid);
  if (it == active_.end() || it->second.result_recorded) return;
  ActiveRun& run = it->second;
  run.result_recorded = true;
  run_views_[uuid].end = end;
  if (!ok) spdlog::info("run {} of {} failed: {}", uuid, run.key.str(), errors.front());
  Commit(Decide(run.key, uuid, run.started, ok, std::move(errors), end), [uuid](Status st) {
    if (!st.ok()) spdlog::error("run {}: result not stored: {}", uuid, st.message());
  });
}

// The new state becomes visible only once the store has it, so what the status page shows is
// never ahead of what survives a crash.
void Engine::Commit(Outcome outcome, std::function<void(Status)> then) {
  if (metrics_) {
    // Counted once stored: a report whose commit fails is refused, and counted when its retry
    // lands.
    const RunRecord& record = outcome.record;
    const RunOutcome o = record.ended_by == "timeout"   ? RunOutcome::kTimeout
                         : record.ended_by == "exit"    ? RunOutcome::kExit
                         : record.ended_by == "restart" ? RunOutcome::kInterrupted
                         : record.ok                    ? RunOutcome::kOk
                                                        : RunOutcome::kFailed;
    then = [this, key = record.key, o, took = record.finished - record.started,
            then = std::move(then)](Status st) {
      if (st.ok()) metrics_->RunFinished(key, o, took);
      then(st);
    };
  }
  auto state = std::make_shared<const CheckState>(std::move(outcome.state));
  // The store calls back on its own thread, possibly while the daemon tears the engine
  // down: capture the executor by value and touch the engine only if it still exists. It calls
  // back once, so the captures move on to the executor rather than being copied.
  store_.CommitRun(
      outcome.record, *state,
      [this, executor = executor_, alive = std::weak_ptr<bool>(alive_), key = outcome.record.key,
       uuid = outcome.record.run_uuid, state, then = std::move(then)](Status st) mutable {
        boost::asio::post(
            executor, [this, alive = std::move(alive), key = std::move(key), uuid = std::move(uuid),
                       state = std::move(state), then = std::move(then), st = std::move(st)] {
              if (alive.expired()) return;
              if (st.ok() && checks_.count(key) > 0) ApplyCommitted(key, uuid, *state);
              then(st);
            });
      });
}

void Engine::ApplyCommitted(const CheckKey& key, const std::string& uuid,
                            const CheckState& committed) {
  CheckState& s = ChangeState(key);
  // A newer run may have started while this one was being committed: keep its fields.
  if (!s.current_uuid.empty() && s.current_uuid != uuid) {
    std::string current_uuid = std::move(s.current_uuid);
    std::string run_uuid = std::move(s.run_uuid);
    const std::optional<TimePoint> last_run_start = s.last_run_start;
    s = committed;
    s.current_uuid = std::move(current_uuid);
    s.run_uuid = std::move(run_uuid);
    s.last_run_start = last_run_start;
  } else {
    s = committed;
  }
}

// A run the store says was in flight, but that no process of ours runs: the daemon died
// during it. Close it as failed, and stop what the dead daemon's checker left behind.
void Engine::CloseInterruptedRun(const CheckKey& key) {
  // Looked up, not inserted: an empty state per added check cost 35 MB at 100 000 checks
  // before their first runs.
  auto found = records_.find(key);
  if (found == records_.end()) return;
  const CheckState& state = found->second.state();
  const std::string uuid = state.current_uuid;
  if (uuid.empty() || active_.count(uuid) > 0) return;
  runner_.StopLeftovers(uuid);
  const TimePoint started = state.last_run_start.value_or(clock_.Now());
  RememberRun(key, uuid, started);
  run_views_[uuid].end = RunEnd::kInterrupted;
  spdlog::warn("run {} of {} was interrupted by a daemon restart", uuid, key.str());
  Commit(Decide(key, uuid, started, false,
                {"run " + uuid + " was interrupted by a daemon restart before it reported"},
                RunEnd::kInterrupted),
         [uuid](Status st) {
           if (!st.ok()) spdlog::error("run {}: closing it failed: {}", uuid, st.message());
         });
}

}  // namespace sonde
