// The Kubernetes Events the operator records on a check resource, so `kubectl describe` and
// `kubectl get events` tell why a check fails, as Kuberhealthy v3's events do: a failed run is a
// Warning `CheckReported` (its errors joined by "; ") or `CheckRunTimedOut`, and the first OK
// run after a failure a Normal `CheckReported` "check reported OK". OK runs of a healthy check
// record nothing: each event is an API write, and those stay bounded per run.
//
// Pure: `now` is passed in. Thread safety: pure functions. Failure: none (no event is a value).
#pragma once

#include <boost/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "core/check.hpp"
#include "core/time.hpp"

namespace sonde::kube {

struct RunOutcome {
  CheckKey key;
  CheckKind kind = CheckKind::kKhCheck;
  bool ok = false;
  std::vector<std::string> errors;
  std::string ended_by;  // as RunRecord::ended_by: "report", "timeout", "removed", ...
};

// The core/v1 Event to create for `run`, or none. `previous_ok` is the check's result before
// this run, none when unknown (then an OK run records nothing). `instance` is the replica.
std::optional<boost::json::object> CheckEvent(const RunOutcome& run,
                                              std::optional<bool> previous_ok, TimePoint now,
                                              const std::string& instance);

}  // namespace sonde::kube
