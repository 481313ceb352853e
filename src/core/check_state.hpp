// The recorded state of one check: the union of Kuberhealthy v2's khstate fields and v3's
// HealthCheck status counters. Plain value; the engine owns the live copy, the store a durable one.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "core/time.hpp"

namespace sonde {

struct CheckState {
  bool ok = false;                    // result of the last finished run
  std::vector<std::string> errors;    // errors of the last finished run
  Duration run_duration{};            // from start to result of the last finished run
  std::string node;                   // host that ran the last run
  std::string authoritative_pod;      // instance that recorded the last result
  std::optional<TimePoint> last_run;  // when the last result was recorded (v2 LastRun)
  std::string run_uuid;               // uuid of the most recently started run (v2 `uuid`)
  std::string current_uuid;           // run allowed to report now; "" when none (v3 currentUUID)
  std::optional<TimePoint> last_run_start;  // start of the current or last run (v3 lastRunUnix)
  std::optional<TimePoint> last_ok;         // v3 lastOKUnix
  std::optional<TimePoint> last_failure;    // v3 lastFailureUnix
  int64_t consecutive_failures = 0;
  int64_t success_count = 0;
  int64_t failure_count = 0;

  // True once a run has produced a result (v2 shows only such states).
  bool HasResult() const { return last_run.has_value(); }
  bool operator==(const CheckState&) const = default;
};

// Heap bytes a string holds beyond its object (none while it fits libstdc++'s inline buffer):
// for the caches' MemoryBytes, which are estimates.
inline size_t HeapBytes(const std::string& s) { return s.capacity() > 15 ? s.capacity() + 1 : 0; }

// Heap bytes a state holds beyond its object.
inline size_t HeapBytes(const CheckState& s) {
  size_t n = HeapBytes(s.node) + HeapBytes(s.authoritative_pod) + HeapBytes(s.run_uuid) +
             HeapBytes(s.current_uuid) + s.errors.capacity() * sizeof(std::string);
  for (const std::string& e : s.errors) n += HeapBytes(e);
  return n;
}

}  // namespace sonde
