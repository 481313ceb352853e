// The pod-restarts check (kuberhealthy/pod-restarts-check): fails for each pod with a Warning
// event of reason BackOff (the kubelet's "Back-off restarting failed container") counted more
// than MAX_FAILURES_ALLOWED times. As in Kuberhealthy: POD_NAMESPACE (blank: every namespace,
// which needs a ClusterRole), MAX_FAILURES_ALLOWED 10, events of pods that no longer exist are
// ignored, and the message is "Found: 12 `BackOff` events for pod: web-1 in namespace: shop".
// Sonde lists the pods in namespace/name order (Kuberhealthy's order is random) and, unlike
// Kuberhealthy's latest image, also drops deleted pods when looking at every namespace.
#include <cstdint>
#include <map>

#include "checks/check_kinds.hpp"
#include "checks/env_reader.hpp"
#include "checks/kube_session.hpp"
#include "kube/json_fields.hpp"

namespace sonde::checks_internal {

using kube::internal::IntAt;
using kube::internal::ObjectAt;
using kube::internal::StringAt;

CheckOutcome RunPodRestartsCheck(const CheckEnv& env, Duration budget) {
  EnvReader in(env);
  const std::string ns = in.String("POD_NAMESPACE", "");
  const int64_t max_failures = in.Int("MAX_FAILURES_ALLOWED", 10, 0, INT32_MAX);
  if (!in.ok()) return in.Outcome();
  auto session = KubeSession::Open(env, budget);
  if (!session.ok()) return {{session.error()}, true};
  KubeSession& api = *session.value();

  const std::string events_path =
      (ns.empty() ? "/api/v1/events" : "/api/v1/namespaces/" + ns + "/events") +
      "?fieldSelector=" + QueryEscape("type=Warning");
  auto events = api.List(events_path);
  if (!events.ok()) return {{events.error()}};
  std::map<std::pair<std::string, std::string>, int64_t> bad;  // (namespace, pod) -> count
  for (const auto& event : events.value()) {
    const auto* involved = ObjectAt(event, "involvedObject");
    const int64_t count = IntAt(event, "count").value_or(0);
    if (involved == nullptr || StringAt(*involved, "kind") != "Pod" ||
        StringAt(event, "reason") != "BackOff" || count <= max_failures) {
      continue;
    }
    auto& worst = bad[{StringAt(*involved, "namespace"), StringAt(*involved, "name")}];
    worst = std::max(worst, count);
  }

  std::vector<std::string> errors;
  for (const auto& [pod, count] : bad) {
    auto r = api.Call("GET", "/api/v1/namespaces/" + pod.first + "/pods/" + pod.second);
    if (!r.ok()) return {{r.error()}};
    if (r.value().status == 404) continue;  // the pod is gone; its events outlive it
    if (r.value().status != 200) {
      return {{"GET pod " + pod.first + "/" + pod.second + ": " + kube::DescribeStatus(r.value())}};
    }
    errors.push_back("Found: " + std::to_string(count) +
                     " `BackOff` events for pod: " + pod.second + " in namespace: " + pod.first);
  }
  return {errors};
}

}  // namespace sonde::checks_internal
