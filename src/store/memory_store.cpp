#include "store/memory_store.hpp"

namespace sonde {

Status MemoryStore::SaveState(const CheckKey& key, const CheckState& state) {
  states_[key] = state;
  return Status::Ok();
}

Status MemoryStore::DeleteState(const CheckKey& key) {
  states_.erase(key);
  return Status::Ok();
}

Status MemoryStore::AppendRun(const RunRecord& run) {
  auto& runs = runs_[run.key];
  runs.push_back(run);
  while (runs.size() > runs_per_check_) runs.pop_front();
  return Status::Ok();
}

std::vector<RunRecord> MemoryStore::RecentRuns(const CheckKey& key, size_t limit) {
  std::vector<RunRecord> out;
  auto it = runs_.find(key);
  if (it == runs_.end()) return out;
  for (auto r = it->second.rbegin(); r != it->second.rend() && out.size() < limit; ++r) {
    out.push_back(*r);
  }
  return out;
}

}  // namespace sonde
