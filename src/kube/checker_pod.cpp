#include "kube/checker_pod.hpp"

#include <algorithm>
#include <array>
#include <cctype>

#include "kube/check_resource.hpp"
#include "kube/json_fields.hpp"

namespace sonde::kube {
namespace {

namespace json = boost::json;
using internal::ToObject;

constexpr size_t kMaxLabel = 63;  // DNS-1123 label; also a label value's limit
constexpr std::array<std::string_view, 4> kKhEnv = {"KH_REPORTING_URL", "KH_RUN_UUID",
                                                    "KH_CHECK_RUN_DEADLINE", "KH_POD_NAMESPACE"};

bool IsV3(const CheckSpec& spec) { return spec.kind == CheckKind::kHealthCheck; }

// Lower-case, '.' and other non-label characters to '-', cut so that `suffix` fits in a label.
std::string LabelName(std::string_view base, std::string_view suffix) {
  std::string out;
  for (char c : base) {
    const char l = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    out += std::isalnum(static_cast<unsigned char>(l)) ? l : '-';
  }
  out.resize(std::min(out.size(), kMaxLabel - std::min(kMaxLabel, suffix.size() + 1)));
  while (!out.empty() && out.back() == '-') out.pop_back();
  return out + "-" + std::string(suffix);
}

std::string NameSuffix(const CheckSpec& spec, const PodRun& run) {
  if (!IsV3(spec)) return std::to_string(UnixSeconds(run.start));
  if (!run.name_suffix.empty()) return run.name_suffix;
  return run.run_uuid.substr(0, 5);
}

json::object Labels(const CheckSpec& spec, const PodRun& run) {
  const std::string& name = spec.key.name;
  if (IsV3(spec)) {
    json::object labels = ToObject(*spec.pod_labels);
    for (const auto& [k, v] : *spec.extra_labels) labels[k] = v;
    labels["healthcheck"] = name;
    labels["kh-run-uuid"] = run.run_uuid;
    return labels;
  }
  json::object labels = ToObject(*spec.extra_labels);
  labels["kuberhealthy-run-id"] = run.run_uuid;
  labels["kuberhealthy-check-name"] = name;
  labels["app"] = "kuberhealthy-check";
  return labels;
}

json::object Annotations(const CheckSpec& spec, const PodRun& run) {
  const std::string& name = spec.key.name;
  if (IsV3(spec)) {
    json::object annotations = ToObject(*spec.pod_annotations);
    for (const auto& [k, v] : *spec.extra_annotations) annotations[k] = v;
    annotations["createdBy"] = "kuberhealthy";
    annotations["kh-run-uuid"] = run.run_uuid;
    annotations["createdTime"] = internal::FormatGoTimeString(run.start);
    annotations["kuberhealthyCheckName"] = name;
    return annotations;
  }
  json::object annotations = ToObject(*spec.extra_annotations);
  annotations["comcast.github.io/check-name"] = name;
  return annotations;
}

json::object OwnerReference(const CheckSpec& spec) {
  json::object ref{{"apiVersion", spec.kube->api_version},
                   {"kind", KindName(spec.kind)},
                   {"name", spec.key.name},
                   {"uid", spec.kube->uid}};
  if (IsV3(spec)) {  // controllerutil.SetControllerReference
    ref["controller"] = true;
    ref["blockOwnerDeletion"] = true;
  }
  return ref;
}

json::array KhEnv(const PodRun& run) {
  json::object ns_ref{{"fieldRef", json::object{{"fieldPath", "metadata.namespace"}}}};
  return json::array{
      json::object{{"name", "KH_REPORTING_URL"}, {"value", run.reporting_url}},
      json::object{{"name", "KH_RUN_UUID"}, {"value", run.run_uuid}},
      json::object{{"name", "KH_CHECK_RUN_DEADLINE"},
                   {"value", std::to_string(UnixSeconds(run.deadline))}},
      json::object{{"name", "KH_POD_NAMESPACE"}, {"valueFrom", std::move(ns_ref)}},
  };
}

bool IsKhEnv(const json::value& var) {
  const json::object* o = var.if_object();
  if (o == nullptr) return false;
  const std::string name = internal::StringAt(*o, "name");
  return std::find(kKhEnv.begin(), kKhEnv.end(), name) != kKhEnv.end();
}

// Replaces the KH_* variables of every container in `list` with this run's.
void InjectEnv(json::object& pod_spec, std::string_view list, const json::array& env) {
  json::value* containers = pod_spec.if_contains(list);
  if (containers == nullptr || !containers->is_array()) return;
  for (json::value& c : containers->get_array()) {
    if (!c.is_object()) continue;
    json::value& vars = c.get_object()["env"];
    if (!vars.is_array()) vars = json::array{};
    json::array& a = vars.get_array();
    a.erase(std::remove_if(a.begin(), a.end(), IsKhEnv), a.end());
    a.insert(a.end(), env.begin(), env.end());
  }
}

Result<json::object> PodSpecFor(const CheckSpec& spec, const PodRun& run) {
  boost::system::error_code ec;
  json::value parsed = json::parse(spec.kube->pod_spec_json, ec);
  if (ec || !parsed.is_object()) {
    return Result<json::object>::Error(ObjectRef(spec.kind, spec.key) +
                                       ": the pod spec is not a JSON object");
  }
  json::object& pod_spec = parsed.get_object();
  if (!IsV3(spec) || !pod_spec.contains("restartPolicy")) pod_spec["restartPolicy"] = "Never";
  const json::array env = KhEnv(run);
  InjectEnv(pod_spec, "containers", env);
  if (IsV3(spec)) InjectEnv(pod_spec, "initContainers", env);
  return std::move(pod_spec);
}

}  // namespace

std::string CheckerPodName(const CheckSpec& spec, const PodRun& run) {
  return LabelName(spec.key.name, NameSuffix(spec, run));
}

Result<json::object> BuildCheckerPod(const CheckSpec& spec, const PodRun& run) {
  const std::string ref = ObjectRef(spec.kind, spec.key);
  if (!spec.kube || spec.kube->pod_spec_json.empty()) {
    return Result<json::object>::Error(ref + ": has no pod spec from the Kubernetes API");
  }
  if (spec.key.name.size() > kMaxLabel) {
    return Result<json::object>::Error(
        ref + ": metadata.name: longer than 63 characters, so it cannot be the checker pod's " +
        (IsV3(spec) ? "healthcheck" : "kuberhealthy-check-name") + " label");
  }
  auto pod_spec = PodSpecFor(spec, run);
  if (!pod_spec.ok()) return pod_spec;
  json::object meta{{"name", CheckerPodName(spec, run)},
                    {"namespace", spec.key.ns},
                    {"labels", Labels(spec, run)},
                    {"annotations", Annotations(spec, run)},
                    {"ownerReferences", json::array{OwnerReference(spec)}}};
  return json::object{{"apiVersion", "v1"},
                      {"kind", "Pod"},
                      {"metadata", std::move(meta)},
                      {"spec", std::move(pod_spec).value()}};
}

std::string CheckPodsSelector(const CheckSpec& spec) {
  return (IsV3(spec) ? "healthcheck=" : "kuberhealthy-check-name=") + spec.key.name;
}

std::string RunPodSelector(const CheckSpec& spec, const std::string& run_uuid) {
  return (IsV3(spec) ? "kh-run-uuid=" : "kuberhealthy-run-id=") + run_uuid;
}

}  // namespace sonde::kube
