// Reads a checker pod's status (a watch event's Pod object) into what the pod runner needs:
// the phase, how each container ended or why it is waiting, and, from those, the runner's
// RunExit and Kuberhealthy's messages for pods that never start or never report (§2.5).
//
// Pure. Thread safety: pure functions. Failure: errors as values, never throws.
#pragma once

#include <boost/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "core/check.hpp"
#include "core/result.hpp"
#include "runner/runner.hpp"

namespace sonde::kube {

enum class PodPhase { kPending, kRunning, kSucceeded, kFailed, kUnknown };

struct ContainerStatus {
  enum class State { kNone, kWaiting, kRunning, kTerminated };
  std::string name;
  bool init = false;
  State state = State::kNone;  // kNone: the kubelet has not reported this container yet
  std::string reason;          // waiting or terminated reason: "ErrImagePull", "OOMKilled", ...
  std::string message;         // waiting or terminated message (the termination message)
  int exit_code = 0;           // terminated only
  int signal = 0;              // terminated only; 0 when the runtime did not report one
  int restart_count = 0;
};

struct PodStatus {
  std::string name;      // metadata.name
  std::string run_uuid;  // the run label (kuberhealthy-run-id or kh-run-uuid); "" when absent
  PodPhase phase = PodPhase::kPending;
  std::string reason;                       // pod-level, e.g. "Evicted"
  std::string message;                      // pod-level
  std::string node;                         // spec.nodeName; "" until scheduled
  bool deleting = false;                    // metadata.deletionTimestamp is set
  std::vector<ContainerStatus> containers;  // init containers first, each list in status order

  bool Finished() const { return phase == PodPhase::kSucceeded || phase == PodPhase::kFailed; }
};

// "Pending", "Running", "Succeeded", "Failed" or "Unknown".
const char* PhaseName(PodPhase phase);

// Errors: not an object with metadata.name, or an unknown status.phase.
Result<PodStatus> ReadPodStatus(const boost::json::object& pod);

// A container is stuck in a state the kubelet will not leave by itself (image pull errors,
// a missing ConfigMap or Secret): Kuberhealthy's `error when waiting for pod to start:
// ErrImagePull`, followed by the container and the kubelet's message.
std::optional<std::string> StartError(const PodStatus& pod);

// How the pod's containers ended, in the runner's terms: a terminated container is an exit (its
// signal, or its exit code), a container stuck as StartError says never started, and a failed
// pod whose containers never ran (evicted, node lost) is one container that could not start.
// stderr_tail carries the first failed container's termination message, else its reason
// ("OOMKilled"). `terminated` is left false: only the runner knows whether it stopped the run.
RunExit ToRunExit(const PodStatus& pod);

// Kuberhealthy v2's message when a run's deadline passes (§2.5), by how far the pod got:
// `failed to see pod running within timeout`, `timed out waiting for checker pod to report in`
// or, after a report, `timed out waiting for pod to exit`.
std::string DeadlineMessage(const PodStatus& pod, bool reported);

// "Check execution error: <ns>/<name>: <message>", as v2 stores run failures.
std::string ExecutionError(const CheckKey& key, const std::string& message);

}  // namespace sonde::kube
