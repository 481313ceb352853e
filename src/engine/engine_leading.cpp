// Leadership in operator mode: which replica starts runs (engine.hpp, SetLeading).
#include <spdlog/spdlog.h>

#include <set>

#include "engine/engine.hpp"

namespace sonde {

void Engine::SetLeading(bool leading) {
  if (leading == leading_) return;
  leading_ = leading;
  if (!leading) {
    if (!active_.empty()) {
      spdlog::warn("no longer the leader: terminating {} runs in flight", active_.size());
    }
    std::vector<std::string> uuids;
    for (auto& [uuid, run] : active_) {
      if (!run.result_recorded) run_views_[uuid].end = RunEnd::kInterrupted;
      run.result_recorded = true;
      uuids.push_back(uuid);
    }
    for (const auto& uuid : uuids) runner_.Terminate(uuid);
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
    CloseInterruptedRun(key);
    // Forget what this replica knew of the schedule: the last start is the cluster's now.
    scheduler_.Remove(key);
    scheduler_.Upsert(key, spec->run_interval, spec->IsJob(), LastStart(*spec, now), now);
  }
  Pump();
}

void Engine::ObserveStates(std::map<CheckKey, CheckState> states) {
  std::set<CheckKey> running;
  for (const auto& [uuid, run] : active_) running.insert(run.key);
  for (auto& [key, state] : states) {
    if (running.count(key) == 0) states_[key] = std::move(state);
  }
}

}  // namespace sonde
