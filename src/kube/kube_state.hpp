// A check's state as it is kept in the cluster, to and from CheckState:
//
// - v2 (KuberhealthyCheck, KuberhealthyJob): a KuberhealthyState (comcast.github.io/v1) with the
//   check's namespace and its name lower-cased, spaces as '-'. `spec` holds every field as
//   Kuberhealthy writes it (OK, Errors, RunDuration as a Go duration, Namespace, Node, LastRun
//   in whole seconds, AuthoritativePod, uuid). What v2 has no field for (the run allowed to
//   report now, the last run's start, the counters) goes in the annotation `sonde.dev/state`,
//   so that a new leader resumes the schedule; Kuberhealthy ignores it.
// - v3 (HealthCheck): the `status` subresource, written as a JSON merge patch.
//
// Pure. Thread safety: pure functions. Failure: errors as values, never throws.
#pragma once

#include <boost/json.hpp>
#include <string>
#include <string_view>

#include "core/check.hpp"
#include "core/check_state.hpp"
#include "core/result.hpp"

namespace sonde::kube {

inline constexpr std::string_view kSondeStateAnnotation = "sonde.dev/state";

// The khstate's name for a check: lower-case, ' ' -> '-'.
std::string KhStateName(std::string_view check_name);

// The whole KuberhealthyState object, for a create (no resource_version) or an update (with
// the resourceVersion last read, for optimistic concurrency).
boost::json::object KhStateObject(const CheckKey& key, const CheckState& state,
                                  std::string_view resource_version = {});

// Reads a khstate, written by Sonde or by any Kuberhealthy v2 (LastRun with nanoseconds as
// v2.0-2.5 wrote it, an empty RunDuration). Without Sonde's annotation, the last result also
// counts as the last OK or failure. Errors name the field: `khstates/ns/name: spec.LastRun: ...`.
Result<CheckState> ReadKhState(const boost::json::object& khstate);

// The merge-patch body for a HealthCheck's status subresource: every status field Sonde keeps
// (ok, errors, consecutiveFailures, runDuration in nanoseconds, namespace, currentUUID,
// lastRunUnix, successCount, failureCount, lastOKUnix, lastFailureUnix), unset times as 0.
boost::json::object HealthCheckStatusPatch(const CheckKey& key, const CheckState& state);

// Reads a HealthCheck's status (all zero when it has none). v3 keeps no node, pod, last run
// uuid or result time: last_run is the later of lastOKUnix and lastFailureUnix, run_uuid is
// currentUUID, node and authoritative_pod stay empty.
Result<CheckState> ReadHealthCheckStatus(const boost::json::object& health_check);

}  // namespace sonde::kube
