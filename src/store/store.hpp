// The store seam: where check state and run history live. MemoryStore implements it now;
// the SQLite store (durable state and history) implements the same interface, and one test
// suite runs against every implementation.
//
// Thread safety: implementations are called from the engine's event loop only unless they
// say otherwise. Failure: every mutating call returns a Status; the engine keeps serving
// from memory and logs a failed write.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <vector>

#include "core/check.hpp"
#include "core/check_state.hpp"
#include "core/result.hpp"

namespace sonde {

// One finished run, as history keeps it.
struct RunRecord {
  CheckKey key;
  std::string run_uuid;
  TimePoint started;
  TimePoint finished;
  bool ok = false;
  std::vector<std::string> errors;
  std::string ended_by;  // "report", "timeout", "exit", "removed", "shutdown"
  bool operator==(const RunRecord&) const = default;
};

class Store {
 public:
  virtual ~Store() = default;
  Store() = default;
  Store(const Store&) = delete;
  Store& operator=(const Store&) = delete;

  // Every check's last saved state.
  virtual std::map<CheckKey, CheckState> LoadStates() = 0;
  // Replaces a check's state. OK means it is stored (durably, for durable stores).
  virtual Status SaveState(const CheckKey& key, const CheckState& state) = 0;
  // Forgets a removed check's state (its history stays).
  virtual Status DeleteState(const CheckKey& key) = 0;
  virtual Status AppendRun(const RunRecord& run) = 0;
  // The newest `limit` runs of a check, newest first.
  virtual std::vector<RunRecord> RecentRuns(const CheckKey& key, size_t limit) = 0;
};

}  // namespace sonde
