// A Store in process memory: nothing survives a restart. Keeps at most `runs_per_check` runs per
// check (oldest dropped first), so its history and uptime cover only those; events are kept.
// Thread-safe (one mutex); CommitRun calls `done` before it returns, on the caller's thread,
// without holding the lock. Never fails.
#pragma once

#include <deque>
#include <mutex>

#include "store/store.hpp"
#include "store/uptime.hpp"

namespace sonde {

class MemoryStore final : public Store {
 public:
  explicit MemoryStore(size_t runs_per_check = 10000) : runs_per_check_(runs_per_check) {}

  std::map<CheckKey, CheckState> LoadStates() override;
  Status SaveState(const CheckKey& key, const CheckState& state) override;
  Status DeleteState(const CheckKey& key) override;
  void CommitRun(const RunRecord& run, const CheckState& state,
                 std::function<void(Status)> done) override;
  Result<std::vector<RunRecord>> History(const HistoryQuery& query) override;
  Result<std::vector<DowntimeEvent>> Events(const std::optional<CheckKey>& key,
                                            std::optional<TimePoint> since, size_t limit) override;
  Result<std::optional<DowntimeEvent>> OpenEvent(const CheckKey& key) override;
  Result<UptimeStats> Uptime(const CheckKey& key, Duration window, TimePoint now) override;
  Result<std::map<CheckKey, std::string>> LoadHeartbeatTokens() override;
  void SaveHeartbeatToken(const CheckKey& key, const std::string& token,
                          std::function<void(Status)> done) override;

 private:
  struct StoredRun {
    RunRecord record;
    UptimeSample sample;  // in commit order, so ordered by sample.at
  };
  struct CheckRuns {
    std::deque<StoredRun> runs;
    std::optional<TimePoint> last_at;
    std::optional<size_t> open_event;  // index into events_
  };

  const size_t runs_per_check_;
  std::mutex mu_;
  std::map<CheckKey, CheckState> states_;
  std::map<CheckKey, CheckRuns> runs_;
  std::vector<DowntimeEvent> events_;  // by id; id = index + 1
  std::map<CheckKey, std::string> tokens_;
};

}  // namespace sonde
