// Reads a watched check resource — KuberhealthyCheck or KuberhealthyJob (comcast.github.io/v1),
// HealthCheck (kuberhealthy.github.io/v2) — into a CheckSpec with Kuberhealthy's defaults and
// quirks, and validates it as Kuberhealthy does before it creates a pod. The spec goes through
// the config module's readers (a JSON text is a YAML document), so a resource means the same as
// the same YAML in a file, Sonde's spec.probe and spec.heartbeat included.
//
// Pure: no I/O, no clock. Thread safety: pure functions. Failure: errors as values, never throws.
#pragma once

#include <boost/json.hpp>
#include <string>
#include <vector>

#include "core/check.hpp"
#include "core/result.hpp"

namespace sonde {
class ProbeRegistry;
}

namespace sonde::kube {

struct CheckResourceOptions {
  // The probe kinds spec.probe may use; null: a resource with spec.probe is an error.
  const ProbeRegistry* probes = nullptr;
};

struct CheckResource {
  CheckSpec spec;  // spec.kube is set; source_file is the object reference (khchecks/ns/name)
  // Values Kuberhealthy replaces with a default, and fields it ignores, each with its path:
  // `spec.runInterval: invalid duration "5x"; using 10m as Kuberhealthy does`.
  std::vector<std::string> warnings;
  std::string job_phase;  // KuberhealthyJob spec.phase: "", "Running" or "Completed"
};

// "khchecks/ns/name", "khjobs/ns/name" or "healthchecks/ns/name": how errors name an object.
std::string ObjectRef(CheckKind kind, const CheckKey& key);

// Reads `object` (a watch event's object). The error names the object and every problem with
// its field path, e.g. `khchecks/ns/name: spec.podSpec.containers[1].image: missing`.
// Differences from Kuberhealthy, on purpose: an invalid timeout falls back to the default with
// a warning (Kuberhealthy v2 used 0, which times every run out at once), and a zero or negative
// runInterval counts as invalid (Go's ticker panics on it).
Result<CheckResource> ReadCheckResource(const boost::json::object& object,
                                        const CheckResourceOptions& opts = {});

}  // namespace sonde::kube
