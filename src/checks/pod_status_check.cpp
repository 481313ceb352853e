// The pod-status check (kuberhealthy/pod-status-check): fails for each pod older than
// SKIP_DURATION (default 10m) whose phase is Pending, Failed or Unknown, in TARGET_NAMESPACE
// (blank: every namespace, which needs a ClusterRole). Checker pods are not judged (label
// selector app!=kuberhealthy-check,source!=kuberhealthy as in Kuberhealthy, plus !kh-run-uuid
// for v3 checker pods). Kuberhealthy's message is "web-1 is in pod status phase Pending ";
// Sonde's names the namespace too and adds what its containers wait for, when they do:
// "shop/web-1 is in pod status phase Pending (web: ErrImagePull)". A malformed SKIP_DURATION is
// reported as Kuberhealthy does: "failed to parse skip duration: ...".
#include "checks/check_kinds.hpp"
#include "checks/env_reader.hpp"
#include "checks/kube_session.hpp"
#include "core/clock.hpp"
#include "kube/json_fields.hpp"

namespace sonde::checks_internal {
namespace {

using kube::internal::ArrayAt;
using kube::internal::ObjectAt;
using kube::internal::StringAt;
namespace json = boost::json;

}  // namespace

std::string WaitingReasons(const json::object& status) {
  std::string out;
  for (const char* key : {"initContainerStatuses", "containerStatuses"}) {
    const json::array* list = ArrayAt(status, key);
    if (list == nullptr) continue;
    for (const json::value& c : *list) {
      if (!c.is_object()) continue;
      const json::object* state = ObjectAt(c.get_object(), "state");
      const json::object* waiting = state ? ObjectAt(*state, "waiting") : nullptr;
      if (waiting == nullptr || StringAt(*waiting, "reason").empty()) continue;
      out += (out.empty() ? "" : ", ") + StringAt(c.get_object(), "name") + ": " +
             StringAt(*waiting, "reason");
    }
  }
  return out;
}

CheckOutcome RunPodStatusCheck(const CheckEnv& env, Duration budget) {
  EnvReader in(env);
  const std::string ns = in.String("TARGET_NAMESPACE", "");
  Duration skip = std::chrono::minutes(10);
  if (auto text = env.Get("SKIP_DURATION")) {
    auto d = ParseGoDuration(*text);
    if (!d.ok()) return {{"failed to parse skip duration: SKIP_DURATION: " + d.error()}, true};
    skip = d.value();
  }
  if (!in.ok()) return in.Outcome();
  auto session = KubeSession::Open(env, budget);
  if (!session.ok()) return {{session.error()}, true};

  const std::string path =
      (ns.empty() ? "/api/v1/pods" : "/api/v1/namespaces/" + ns + "/pods") +
      "?labelSelector=" + QueryEscape("app!=kuberhealthy-check,source!=kuberhealthy,!kh-run-uuid");
  auto pods = session.value()->List(path);
  if (!pods.ok()) return {{pods.error()}};
  const TimePoint barrier = SystemClock().Now() - skip;
  std::vector<std::string> errors;
  for (const json::object& pod : pods.value()) {
    const json::object* meta = ObjectAt(pod, "metadata");
    if (meta == nullptr) continue;
    auto created = ParseRfc3339(StringAt(*meta, "creationTimestamp"));
    if (created.ok() && created.value() > barrier) continue;  // too young to judge
    static const json::object kNoStatus;
    const json::object* status = ObjectAt(pod, "status");
    if (status == nullptr) status = &kNoStatus;
    const std::string phase = StringAt(*status, "phase");
    if (phase == "Running" || phase == "Succeeded" || phase.empty()) continue;
    std::string e = StringAt(*meta, "namespace") + "/" + StringAt(*meta, "name") +
                    " is in pod status phase " + phase;
    if (const std::string waiting = WaitingReasons(*status); !waiting.empty()) {
      e += " (" + waiting + ")";
    }
    errors.push_back(std::move(e));
  }
  return {errors};
}

}  // namespace sonde::checks_internal
