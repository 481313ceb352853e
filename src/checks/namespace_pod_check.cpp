// The namespace-pod-check (kuberhealthy/namespace-pod-check): a pod can be created, and then
// deleted, in every namespace; what stops it (a quota, an admission webhook, a missing
// service account, RBAC) is the failure. Kuberhealthy's image has no settings; its messages
// are "Error deploying pod kuberhealthy-namespace-checker-pod in namespace: NS" and "Error
// deleting pod ... in namespace NS", to which Sonde adds the API server's answer.
// Differences from Kuberhealthy's image, which lists the namespaces but then (a bug) creates
// every pod in the namespace "" and reports success whatever happened: Sonde really uses each
// namespace, reports the errors, skips namespaces that are being deleted (no pod can be
// created there, and that is not a fault), and gives the pod a generated name (so a pod left
// by an interrupted run never blocks the next), small requests and limits (namespaces whose
// quota demands them), and the labels the pod-status check skips.
#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <optional>

#include "checks/check_kinds.hpp"
#include "checks/kube_session.hpp"
#include "kube/json_fields.hpp"

namespace sonde::checks_internal {
namespace {

using kube::internal::ObjectAt;
using kube::internal::StringAt;
namespace json = boost::json;

constexpr const char* kPodName = "kuberhealthy-namespace-checker-pod";

std::string TestPod() {
  const json::object limits{{"cpu", "10m"}, {"memory", "16Mi"}};
  const json::object pod{
      {"apiVersion", "v1"},
      {"kind", "Pod"},
      {"metadata",
       {{"generateName", std::string(kPodName) + "-"},
        {"labels", {{"app", "kuberhealthy-namespace-check"}, {"source", "kuberhealthy"}}}}},
      {"spec",
       {{"restartPolicy", "Never"},
        {"terminationGracePeriodSeconds", 0},
        {"containers",
         {{{"name", "busybox"},
           {"image", "busybox"},
           {"imagePullPolicy", "IfNotPresent"},
           {"command", {"sleep", "3600"}},
           {"resources", {{"requests", limits}, {"limits", limits}}}}}}}}};
  return json::serialize(pod);
}

// Creates and deletes the test pod in `ns`; the error says which step failed and why.
std::optional<std::string> CreateAndDelete(KubeSession& api, const std::string& ns) {
  const std::string pods = "/api/v1/namespaces/" + ns + "/pods";
  auto created = api.Call("POST", pods, TestPod());
  if (!created.ok()) return created.error();
  if (created.value().status != 201) {
    return "Error deploying pod " + std::string(kPodName) + " in namespace: " + ns + ": " +
           kube::DescribeStatus(created.value());
  }
  boost::system::error_code ec;
  const json::value pod = json::parse(created.value().body, ec);
  const json::object* meta =
      (!ec && pod.is_object()) ? ObjectAt(pod.get_object(), "metadata") : nullptr;
  const std::string name = meta ? StringAt(*meta, "name") : "";
  if (name.empty()) return "POST " + pods + ": the created pod has no name";
  auto deleted = api.Call("DELETE", pods + "/" + name, R"({"gracePeriodSeconds":0})");
  if (!deleted.ok()) return deleted.error();
  if (deleted.value().status != 200 && deleted.value().status != 202) {
    return "Error deleting pod " + name + " in namespace " + ns + ": " +
           kube::DescribeStatus(deleted.value());
  }
  return std::nullopt;
}

}  // namespace

CheckOutcome RunNamespacePodCheck(const CheckEnv& env, Duration budget) {
  auto session = KubeSession::Open(env, budget);
  if (!session.ok()) return {{session.error()}, true};
  auto namespaces = session.value()->List("/api/v1/namespaces");
  if (!namespaces.ok()) return {{namespaces.error()}};
  std::vector<std::string> errors;
  for (const json::object& n : namespaces.value()) {
    const json::object* meta = ObjectAt(n, "metadata");
    const json::object* status = ObjectAt(n, "status");
    if (meta == nullptr || (status && StringAt(*status, "phase") == "Terminating")) continue;
    if (auto e = CreateAndDelete(*session.value(), StringAt(*meta, "name"))) {
      errors.push_back(std::move(*e));
    }
  }
  return {errors};
}

}  // namespace sonde::checks_internal
