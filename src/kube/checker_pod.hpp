// Builds the checker pod of one run of a check read from the API (CheckSpec::kube set), with
// Kuberhealthy's conventions for the resource's version (kuberhealthy.md §2.1, §2.2):
//
// - v2 (KuberhealthyCheck, KuberhealthyJob): name `lower(<check>-<unixSeconds>)`; labels
//   extraLabels + kuberhealthy-run-id, kuberhealthy-check-name, app=kuberhealthy-check;
//   annotations extraAnnotations + comcast.github.io/check-name; restartPolicy forced to Never;
//   the KH_* variables in `containers` only.
// - v3 (HealthCheck): name `<check>-<5 chars>`; labels podSpec.metadata.labels + extraLabels +
//   healthcheck, kh-run-uuid; annotations podSpec.metadata.annotations + extraAnnotations +
//   createdBy, kh-run-uuid, createdTime, kuberhealthyCheckName; restartPolicy Never only when
//   unset; the KH_* variables in `containers` and `initContainers`.
//
// Owner references: v3 has a controller reference to the HealthCheck, as Kuberhealthy does. v2
// Kuberhealthy referenced its master pod (only when the checker ran in its own namespace);
// Sonde instead gives v2 pods a non-controller reference to the KuberhealthyCheck/Job itself,
// so the garbage collector removes a check's pods with the check and a leader change orphans
// nothing. Pod names are cut to a DNS-1123 label (<= 63 characters, '.' becomes '-').
//
// Pure. Thread safety: pure functions. Failure: errors as values, never throws.
#pragma once

#include <boost/json.hpp>
#include <string>

#include "core/check.hpp"
#include "core/result.hpp"
#include "core/time.hpp"

namespace sonde::kube {

// What changes from one run to the next.
struct PodRun {
  std::string run_uuid;       // KH_RUN_UUID and the run labels
  std::string reporting_url;  // KH_REPORTING_URL, complete (carries the run token)
  TimePoint deadline;         // KH_CHECK_RUN_DEADLINE = UnixSeconds(deadline)
  TimePoint start;            // v2 names the pod after it; v3's createdTime annotation
  // v3 only: the pod name's suffix, lower-case letters and digits (Kuberhealthy takes 5
  // characters of a random uuid). Empty: the first 5 characters of run_uuid.
  std::string name_suffix;
};

// The checker pod's name for this run.
std::string CheckerPodName(const CheckSpec& spec, const PodRun& run);

// The Pod object to create. Errors: the spec was not read from the API (no `kube`), its pod spec
// is not a JSON object, or the check name cannot be a label value (> 63 characters).
Result<boost::json::object> BuildCheckerPod(const CheckSpec& spec, const PodRun& run);

// Label selectors: every checker pod of the check, and the pod of one run.
std::string CheckPodsSelector(const CheckSpec& spec);
std::string RunPodSelector(const CheckSpec& spec, const std::string& run_uuid);

}  // namespace sonde::kube
