// Leadership in operator mode: which replica starts runs (engine.hpp, SetLeading).
#include <spdlog/spdlog.h>

#include <boost/asio/post.hpp>
#include <set>

#include "engine/engine.hpp"

namespace sonde {

void Engine::SetLeading(bool leading) {
  if (leading == leading_) return;
  leading_ = leading;
  if (!leading) {
    if (!active_.empty()) {
      spdlog::warn("no longer the leader: handing {} runs in flight over", active_.size());
    }
    for (auto& [uuid, run] : active_) {
      run.timer->cancel();
      runner_.Release(uuid);
      scheduler_.Remove(run.key);  // rescheduled when this replica leads again
    }
    active_.clear();
    return;
  }
  spdlog::info("leading: taking over {} checks", checks_.size());
  ObserveStates(store_.LoadStates());
  const TimePoint now = clock_.Now();
  for (const auto& [key, spec] : checks_) {
    if (spec->IsHeartbeat()) {
      ArmHeartbeat(key);
      continue;
    }
    // Forget what this replica knew of the schedule: the last start is the cluster's now.
    scheduler_.Remove(key);
    scheduler_.Upsert(key, spec->run_interval, spec->IsJob(), LastStart(*spec, now), now);
    if (!AdoptRun(key)) CloseInterruptedRun(key);
  }
  Pump();
}

bool Engine::AdoptRun(const CheckKey& key) {
  const auto spec = checks_.at(key);
  const CheckState& state = StateOf(key);
  const std::string uuid = state.current_uuid;
  const TimePoint now = clock_.Now();
  if (uuid.empty() || active_.count(uuid) > 0 || !state.last_run_start || spec->probe) {
    return false;
  }
  const TimePoint started = *state.last_run_start;
  const TimePoint deadline = started + spec->timeout;
  if (deadline <= now) return false;
  RunRequest request{spec, uuid, ReportingUrl(*spec, uuid), deadline};
  const bool adopted = runner_.Adopt(request, [this, uuid](const RunExit& exit) {
    boost::asio::post(executor_, [this, uuid, exit] { OnExit(uuid, exit); });
  });
  if (!adopted) return false;
  RememberRun(key, uuid, deadline);
  ActiveRun& run = active_[uuid];
  run.key = key;
  run.spec = spec;
  run.started = started;
  run.timer = std::make_unique<boost::asio::steady_timer>(executor_);
  run.timer->expires_after(Until(deadline, now));
  run.timer->async_wait([this, uuid](boost::system::error_code ec) {
    if (!ec) OnDeadline(uuid);
  });
  scheduler_.MarkRunning(key, started);
  spdlog::info("run {} of {} started under the former leader; following it", uuid, key.str());
  return true;
}

void Engine::ObserveStates(std::map<CheckKey, CheckState> states) {
  std::set<CheckKey> running;
  for (const auto& [uuid, run] : active_) running.insert(run.key);
  for (auto& [key, state] : states) {
    if (running.count(key) > 0) continue;
    // A new version only for a changed state: a follower observes every state each time, and
    // the status page caches render again whatever has a new version.
    const auto found = records_.find(key);
    if (found == records_.end() || !(found->second.state() == state)) {
      ChangeState(key) = std::move(state);
    }
  }
}

}  // namespace sonde
