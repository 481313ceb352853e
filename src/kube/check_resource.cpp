#include "kube/check_resource.hpp"

#include <algorithm>
#include <array>
#include <optional>
#include <span>

#include "config/check_loader.hpp"
#include "kube/json_fields.hpp"

namespace sonde::kube {
namespace {

using internal::ArrayAt;
using internal::ObjectAt;
using internal::StringAt;
namespace json = boost::json;

constexpr std::string_view kApiV1 = "comcast.github.io/v1";
constexpr std::string_view kApiV2 = "kuberhealthy.github.io/v2";

// The spec fields each kind has in Kuberhealthy's CRDs, plus Sonde's probe and heartbeat.
constexpr std::array<std::string_view, 7> kKhCheckKeys = {
    "runInterval", "timeout", "podSpec", "extraAnnotations", "extraLabels", "probe", "heartbeat"};
constexpr std::array<std::string_view, 7> kKhJobKeys = {
    "timeout", "podSpec", "extraAnnotations", "extraLabels", "phase", "probe", "heartbeat"};
constexpr std::array<std::string_view, 8> kHealthCheckKeys = {
    "singleRunOnly",    "runInterval", "timeout", "podSpec",
    "extraAnnotations", "extraLabels", "probe",   "heartbeat"};

std::optional<CheckKind> KindOf(std::string_view api, std::string_view kind) {
  if (api == kApiV1 && kind == "KuberhealthyCheck") return CheckKind::kKhCheck;
  if (api == kApiV1 && kind == "KuberhealthyJob") return CheckKind::kKhJob;
  if (api == kApiV2 && kind == "HealthCheck") return CheckKind::kHealthCheck;
  return std::nullopt;
}

std::span<const std::string_view> KnownKeys(CheckKind kind) {
  switch (kind) {
    case CheckKind::kKhCheck:
      return kKhCheckKeys;
    case CheckKind::kKhJob:
      return kKhJobKeys;
    case CheckKind::kHealthCheck:
      return kHealthCheckKeys;
  }
  return {};
}

std::string Quote(std::string_view s) { return "\"" + std::string(s) + "\""; }

// What a spec becomes before the config module reads it, and what was noticed on the way.
struct Normalized {
  json::object spec;
  std::vector<std::string> warnings;
  std::string job_phase;
};

// Drops fields Kuberhealthy's CRDs do not have; the API server would have pruned them unless
// the CRD preserves unknown fields, and Kuberhealthy ignores them either way.
void DropUnknownFields(CheckKind kind, Normalized& n) {
  const auto known = KnownKeys(kind);
  for (auto it = n.spec.begin(); it != n.spec.end();) {
    const std::string_view key = it->key();
    if (std::find(known.begin(), known.end(), key) != known.end()) {
      ++it;
      continue;
    }
    n.warnings.push_back("spec." + std::string(key) + ": ignored: " + KindName(kind) +
                         (key == "runInterval" ? " runs once" : " has no such field"));
    it = n.spec.erase(it);
  }
}

// Why `v` is not a usable duration: nullopt when it is one; "" when it is unset (or empty where
// that is normal) and the default applies without a word.
std::optional<std::string> DurationProblem(const json::value& v, bool warn_when_empty) {
  if (v.is_null()) return "";
  if (!v.is_string()) {
    return "must be a duration string such as \"10m\", found " + json::serialize(v);
  }
  if (v.get_string().empty()) return warn_when_empty ? "is empty" : "";
  auto d = ParseGoDuration(v.get_string());
  if (!d.ok()) return d.error();
  if (d.value() <= Duration{0}) return "must be greater than zero, found " + Quote(v.get_string());
  return std::nullopt;
}

// Kuberhealthy replaces an empty or unparsable duration with a default instead of refusing the
// check; the config reader refuses, so such values are removed before it sees them. `instead`
// ends the warning: "using 10m as Kuberhealthy does".
void DefaultDuration(std::string_view key, const std::string& instead, bool warn_when_empty,
                     Normalized& n) {
  const json::value* v = n.spec.if_contains(key);
  if (v == nullptr) return;
  const std::optional<std::string> problem = DurationProblem(*v, warn_when_empty);
  if (!problem) return;
  if (!problem->empty())
    n.warnings.push_back("spec." + std::string(key) + ": " + *problem + "; " + instead);
  n.spec.erase(key);
}

Normalized NormalizeSpec(CheckKind kind, const json::object& spec) {
  Normalized n{spec, {}, {}};
  DropUnknownFields(kind, n);
  if (kind == CheckKind::kKhJob) {
    n.job_phase = StringAt(n.spec, "phase");
    n.spec.erase("phase");  // runtime state written by the operator, not part of the check
  }
  const bool v3 = kind == CheckKind::kHealthCheck;
  if (kind != CheckKind::kKhJob) {
    DefaultDuration("runInterval", "using 10m as Kuberhealthy does", !v3, n);
  }
  // Kuberhealthy v2 runs with a timeout of 0 after a parse error; the default is more useful.
  const bool probe = n.spec.contains("probe");
  const std::string timeout = probe ? "10s" : v3 ? "30s" : "5m";
  DefaultDuration("timeout", "using the default " + timeout, false, n);
  return n;
}

// Kuberhealthy's check before it creates a pod: every container names an image.
void RequireImages(const json::object& pod_spec, const std::string& path,
                   std::vector<std::string>& errors) {
  for (std::string_view list : {"initContainers", "containers"}) {
    const json::array* containers = ArrayAt(pod_spec, list);
    if (containers == nullptr) continue;
    for (size_t i = 0; i < containers->size(); ++i) {
      const json::object* c = (*containers)[i].if_object();
      if (c != nullptr && !StringAt(*c, "image").empty()) continue;
      errors.push_back(path + "." + std::string(list) + "[" + std::to_string(i) +
                       "].image: missing");
    }
  }
}

// The PodSpec a checker pod is built from: v2 spec.podSpec, v3 spec.podSpec.spec.
const json::object* PodSpecOf(CheckKind kind, const json::object& spec) {
  const json::object* pod = ObjectAt(spec, "podSpec");
  if (pod == nullptr || kind != CheckKind::kHealthCheck) return pod;
  return ObjectAt(*pod, "spec");
}

std::string JoinErrors(const std::string& ref, const std::vector<std::string>& errors) {
  std::string out = ref + ": ";
  for (size_t i = 0; i < errors.size(); ++i) out += (i > 0 ? "; " : "") + errors[i];
  return out;
}

// Runs the config module's reader over the normalized object.
Result<CheckSpec> ReadWithConfig(const json::object& normalized, const std::string& ref,
                                 const CheckResourceOptions& opts) {
  LoadOptions load;
  load.local_mode = false;
  load.probes = opts.probes;
  LoadResult loaded = ParseChecks(json::serialize(normalized), ref, load);
  std::vector<std::string> errors;
  for (const ConfigError& e : loaded.errors) {
    errors.push_back(e.field.empty() ? e.message : e.field + ": " + e.message);
  }
  if (!errors.empty() || loaded.checks.size() != 1) {
    if (errors.empty()) errors.push_back("not a check");
    return Result<CheckSpec>::Error(JoinErrors(ref, errors));
  }
  return std::move(loaded.checks.front());
}

}  // namespace

std::string ObjectRef(CheckKind kind, const CheckKey& key) {
  const char* plural = kind == CheckKind::kKhCheck ? "khchecks"
                       : kind == CheckKind::kKhJob ? "khjobs"
                                                   : "healthchecks";
  return std::string(plural) + "/" + key.ns + "/" + key.name;
}

Result<CheckResource> ReadCheckResource(const json::object& object,
                                        const CheckResourceOptions& opts) {
  const json::object* meta = ObjectAt(object, "metadata");
  const CheckKey key{meta ? StringAt(*meta, "namespace") : "", meta ? StringAt(*meta, "name") : ""};
  const std::string api = StringAt(object, "apiVersion");
  const std::string kind_name = StringAt(object, "kind");
  const std::optional<CheckKind> kind = KindOf(api, kind_name);
  if (!kind) {
    return Result<CheckResource>::Error(
        key.str() + ": unsupported apiVersion " + Quote(api) + " with kind " + Quote(kind_name) +
        "; accepted: comcast.github.io/v1 KuberhealthyCheck or KuberhealthyJob, "
        "kuberhealthy.github.io/v2 HealthCheck");
  }
  const std::string ref = ObjectRef(*kind, key);
  const json::object* spec = ObjectAt(object, "spec");
  Normalized n = NormalizeSpec(*kind, spec ? *spec : json::object{});
  json::object normalized{{"apiVersion", api}, {"kind", kind_name}};
  normalized["metadata"] = json::object{{"name", key.name}, {"namespace", key.ns}};
  if (spec != nullptr) normalized["spec"] = n.spec;

  Result<CheckSpec> read = ReadWithConfig(normalized, ref, opts);
  if (!read.ok()) return Result<CheckResource>::Error(read.error());
  CheckResource out{std::move(read).value(), std::move(n.warnings), std::move(n.job_phase)};
  CheckSpec& s = out.spec;
  s.source_file = ref;
  s.source_line = 0;
  s.base_dir.clear();
  s.kube = KubeSource{api, meta ? StringAt(*meta, "uid") : "", ""};
  if (!s.probe && !s.IsHeartbeat()) {
    const json::object* pod = PodSpecOf(*kind, *spec);  // the reader made sure it exists
    std::vector<std::string> errors;
    RequireImages(*pod, *kind == CheckKind::kHealthCheck ? "spec.podSpec.spec" : "spec.podSpec",
                  errors);
    if (!errors.empty()) return Result<CheckResource>::Error(JoinErrors(ref, errors));
    s.kube->pod_spec_json = json::serialize(*pod);
  }
  return out;
}

}  // namespace sonde::kube
