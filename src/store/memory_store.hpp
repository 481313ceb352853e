// A Store in process memory: nothing survives a restart. History is bounded per check.
// Not thread-safe.
#pragma once

#include <deque>

#include "store/store.hpp"

namespace sonde {

class MemoryStore final : public Store {
 public:
  // Keeps at most `runs_per_check` runs of history per check (oldest dropped first).
  explicit MemoryStore(size_t runs_per_check = 1000) : runs_per_check_(runs_per_check) {}

  std::map<CheckKey, CheckState> LoadStates() override { return states_; }
  Status SaveState(const CheckKey& key, const CheckState& state) override;
  Status DeleteState(const CheckKey& key) override;
  Status AppendRun(const RunRecord& run) override;
  std::vector<RunRecord> RecentRuns(const CheckKey& key, size_t limit) override;

 private:
  size_t runs_per_check_;
  std::map<CheckKey, CheckState> states_;
  std::map<CheckKey, std::deque<RunRecord>> runs_;
};

}  // namespace sonde
