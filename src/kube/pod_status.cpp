#include "kube/pod_status.hpp"

#include <algorithm>
#include <array>

#include "kube/json_fields.hpp"

namespace sonde::kube {
namespace {

namespace json = boost::json;
using internal::ArrayAt;
using internal::IntAt;
using internal::ObjectAt;
using internal::StringAt;

// Waiting reasons the kubelet retries for ever without a change to the pod or the cluster.
constexpr std::array<std::string_view, 6> kStuckReasons = {
    "ErrImagePull",      "ImagePullBackOff",           "InvalidImageName",
    "ErrImageNeverPull", "CreateContainerConfigError", "CreateContainerError"};

std::optional<PodPhase> ParsePhase(std::string_view s) {
  if (s.empty() || s == "Pending") return PodPhase::kPending;  // not yet seen by a kubelet
  if (s == "Running") return PodPhase::kRunning;
  if (s == "Succeeded") return PodPhase::kSucceeded;
  if (s == "Failed") return PodPhase::kFailed;
  if (s == "Unknown") return PodPhase::kUnknown;
  return std::nullopt;
}

int ToInt(std::optional<int64_t> v) { return static_cast<int>(v.value_or(0)); }

ContainerStatus ReadContainer(const json::object& c, bool init) {
  ContainerStatus out;
  out.name = StringAt(c, "name");
  out.init = init;
  out.restart_count = ToInt(IntAt(c, "restartCount"));
  const json::object* state = ObjectAt(c, "state");
  if (state == nullptr) return out;
  if (const json::object* t = ObjectAt(*state, "terminated")) {
    out.state = ContainerStatus::State::kTerminated;
    out.exit_code = ToInt(IntAt(*t, "exitCode"));
    out.signal = ToInt(IntAt(*t, "signal"));
    out.reason = StringAt(*t, "reason");
    out.message = StringAt(*t, "message");
  } else if (const json::object* w = ObjectAt(*state, "waiting")) {
    out.state = ContainerStatus::State::kWaiting;
    out.reason = StringAt(*w, "reason");
    out.message = StringAt(*w, "message");
  } else if (ObjectAt(*state, "running") != nullptr) {
    out.state = ContainerStatus::State::kRunning;
  }
  return out;
}

void ReadContainers(const json::object& status, std::string_view list, bool init,
                    std::vector<ContainerStatus>& out) {
  const json::array* a = ArrayAt(status, list);
  if (a == nullptr) return;
  for (const json::value& v : *a) {
    if (const json::object* c = v.if_object()) out.push_back(ReadContainer(*c, init));
  }
}

bool IsStuck(const ContainerStatus& c) {
  return c.state == ContainerStatus::State::kWaiting &&
         std::find(kStuckReasons.begin(), kStuckReasons.end(), c.reason) != kStuckReasons.end();
}

std::string Where(const ContainerStatus& c) {
  return (c.init ? "init container \"" : "container \"") + c.name + "\"";
}

bool Failed(const ContainerStatus& c) {
  return c.state == ContainerStatus::State::kTerminated && (c.exit_code != 0 || c.signal != 0);
}

std::string Tail(const ContainerStatus& c) {
  if (!c.message.empty()) return c.message;
  return c.reason == "Error" || c.reason == "Completed" ? "" : c.reason;
}

}  // namespace

const char* PhaseName(PodPhase phase) {
  switch (phase) {
    case PodPhase::kPending:
      return "Pending";
    case PodPhase::kRunning:
      return "Running";
    case PodPhase::kSucceeded:
      return "Succeeded";
    case PodPhase::kFailed:
      return "Failed";
    case PodPhase::kUnknown:
      return "Unknown";
  }
  return "Unknown";
}

Result<PodStatus> ReadPodStatus(const json::object& pod) {
  const json::object* meta = ObjectAt(pod, "metadata");
  PodStatus out;
  out.name = meta ? StringAt(*meta, "name") : "";
  if (out.name.empty()) return Result<PodStatus>::Error("pod: metadata.name: missing");
  if (const json::object* labels = ObjectAt(*meta, "labels")) {
    out.run_uuid = StringAt(*labels, "kh-run-uuid");
    if (out.run_uuid.empty()) out.run_uuid = StringAt(*labels, "kuberhealthy-run-id");
  }
  out.deleting = meta->contains("deletionTimestamp") && !meta->at("deletionTimestamp").is_null();
  if (const json::object* spec = ObjectAt(pod, "spec")) out.node = StringAt(*spec, "nodeName");
  const json::object* status = ObjectAt(pod, "status");
  if (status == nullptr) return out;
  const std::string phase = StringAt(*status, "phase");
  const std::optional<PodPhase> parsed = ParsePhase(phase);
  if (!parsed) {
    return Result<PodStatus>::Error("pod " + out.name + ": status.phase: unknown phase \"" + phase +
                                    "\"");
  }
  out.phase = *parsed;
  out.reason = StringAt(*status, "reason");
  out.message = StringAt(*status, "message");
  ReadContainers(*status, "initContainerStatuses", true, out.containers);
  ReadContainers(*status, "containerStatuses", false, out.containers);
  return out;
}

std::optional<std::string> StartError(const PodStatus& pod) {
  for (const ContainerStatus& c : pod.containers) {
    if (!IsStuck(c)) continue;
    std::string out = "error when waiting for pod to start: " + c.reason + " (" + Where(c);
    if (!c.message.empty()) out += ": " + c.message;
    return out + ")";
  }
  return std::nullopt;
}

RunExit ToRunExit(const PodStatus& pod) {
  RunExit out;
  for (const ContainerStatus& c : pod.containers) {
    ContainerExit e{.container = c.name, .init = c.init};
    if (IsStuck(c)) {
      e.spawn_error = c.reason + (c.message.empty() ? "" : ": " + c.message);
    } else if (c.state == ContainerStatus::State::kTerminated) {
      e.started = true;
      e.signaled = c.signal != 0;
      e.exit_code = c.exit_code;
      e.signal = c.signal;
      if (Failed(c) && out.stderr_tail.empty()) out.stderr_tail = Tail(c);
    } else {
      continue;  // never reached: an earlier init container failed, or still running
    }
    out.containers.push_back(std::move(e));
  }
  if (out.containers.empty() && pod.phase == PodPhase::kFailed) {
    std::string why = pod.reason.empty() ? "failed" : pod.reason;
    if (!pod.message.empty()) why += ": " + pod.message;
    out.containers.push_back(
        {.container = pod.name, .spawn_error = "pod " + why + " before its containers ran"});
  }
  return out;
}

std::string DeadlineMessage(const PodStatus& pod, bool reported) {
  if (reported) return "timed out waiting for pod to exit";
  if (pod.phase == PodPhase::kPending) return "failed to see pod running within timeout";
  return "timed out waiting for checker pod to report in";
}

std::string ExecutionError(const CheckKey& key, const std::string& message) {
  return "Check execution error: " + key.str() + ": " + message;
}

}  // namespace sonde::kube
