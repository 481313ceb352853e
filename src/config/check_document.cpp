#include "config/check_document.hpp"

#include <chrono>
#include <string>
#include <utility>

#include "config/heartbeat_reader.hpp"
#include "config/pod_spec_reader.hpp"
#include "config/probe_reader.hpp"

namespace sonde::config_internal {
namespace {

using std::chrono::minutes;
using std::chrono::seconds;

constexpr std::string_view kApiV1 = "comcast.github.io/v1";
constexpr std::string_view kApiV2 = "kuberhealthy.github.io/v2";
constexpr std::string_view kAccepted =
    "accepted: apiVersion comcast.github.io/v1 with kind KuberhealthyCheck or KuberhealthyJob, "
    "or apiVersion kuberhealthy.github.io/v2 with kind HealthCheck";

constexpr std::string_view kTopLevelKeys[] = {"apiVersion", "kind", "metadata", "spec", "status"};
constexpr std::string_view kKhCheckKeys[] = {
    "runInterval", "timeout", "podSpec", "extraAnnotations", "extraLabels", "probe", "heartbeat"};
// runInterval is listed so that it gets its own message instead of "unknown field".
constexpr std::string_view kKhJobKeys[] = {"timeout",     "podSpec",  "extraAnnotations",
                                           "extraLabels", "phase",    "runInterval",
                                           "probe",       "heartbeat"};
constexpr std::string_view kHealthCheckKeys[] = {"singleRunOnly", "runInterval",      "timeout",
                                                 "podSpec",       "extraAnnotations", "extraLabels",
                                                 "probe",         "heartbeat"};

bool IsLowerAlnum(char c) { return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9'); }

// RFC 1123 label, as Kubernetes checks it: [a-z0-9]([-a-z0-9]*[a-z0-9])?
bool IsDnsLabel(std::string_view s, size_t max_len) {
  if (s.empty() || s.size() > max_len) return false;
  if (!IsLowerAlnum(s.front()) || !IsLowerAlnum(s.back())) return false;
  for (char c : s) {
    if (!IsLowerAlnum(c) && c != '-') return false;
  }
  return true;
}

// RFC 1123 subdomain: dot-separated labels, at most 253 characters in total.
bool IsDnsSubdomain(std::string_view s) {
  if (s.empty() || s.size() > 253) return false;
  for (size_t start = 0;;) {
    const size_t dot = s.find('.', start);
    if (!IsDnsLabel(s.substr(start, dot - start), 253)) return false;
    if (dot == std::string_view::npos) return true;
    start = dot + 1;
  }
}

std::optional<CheckKind> KindFor(std::string_view api, std::string_view kind) {
  if (api == kApiV1 && kind == "KuberhealthyCheck") return CheckKind::kKhCheck;
  if (api == kApiV1 && kind == "KuberhealthyJob") return CheckKind::kKhJob;
  if (api == kApiV2 && kind == "HealthCheck") return CheckKind::kHealthCheck;
  return std::nullopt;
}

std::optional<std::string> ReadRequiredString(const MapView& m, std::string_view key,
                                              std::string_view missing_message) {
  const YAML::Node* node = m.Get(key);
  if (node == nullptr) {
    m.sink().Add(m.node(), m.Path(key), std::string(missing_message));
    return std::nullopt;
  }
  return ReadString(*node, m.Path(key), m.sink());
}

std::optional<CheckKind> ReadKind(const MapView& root) {
  const std::string missing = "is required; " + std::string(kAccepted);
  auto api = ReadRequiredString(root, "apiVersion", missing);
  auto kind = ReadRequiredString(root, "kind", missing);
  if (api && *api != kApiV1 && *api != kApiV2) {
    root.sink().Add(*root.Get("apiVersion"), "apiVersion",
                    "unsupported apiVersion " + Quote(*api) + "; " + std::string(kAccepted));
    return std::nullopt;
  }
  if (!api || !kind) return std::nullopt;
  if (auto k = KindFor(*api, *kind)) return k;
  root.sink().Add(*root.Get("kind"), "kind",
                  "unsupported kind " + Quote(*kind) + " for apiVersion " + *api + "; " +
                      std::string(kAccepted));
  return std::nullopt;
}

void ReadMetadata(const MapView& root, DocumentCheck& out) {
  const YAML::Node* node = root.Get("metadata");
  if (node == nullptr) {
    root.sink().Add(root.node(), "metadata.name", "is required");
    return;
  }
  if (!node->IsMap()) {
    root.sink().Add(*node, "metadata",
                    "must be a mapping with name and namespace, found " + Describe(*node));
    return;
  }
  MapView meta(*node, "metadata", root.sink());
  if (auto name = ReadRequiredString(meta, "name", "is required")) {
    out.name_mark = meta.Get("name")->Mark();
    out.spec.key.name = *name;
    if (!IsDnsSubdomain(*name)) {
      meta.sink().Add(*meta.Get("name"), "metadata.name",
                      "invalid name " + Quote(*name) +
                          ": use lower-case letters, digits, '-' and '.', starting and ending "
                          "with a letter or digit, at most 253 characters (a DNS-1123 subdomain)");
    }
  }
  out.spec.key.ns = "default";
  if (const YAML::Node* ns_node = meta.Get("namespace")) {
    auto ns = ReadString(*ns_node, "metadata.namespace", meta.sink());
    if (ns) out.spec.key.ns = *ns;
    if (ns && !IsDnsLabel(*ns, 63)) {
      meta.sink().Add(*ns_node, "metadata.namespace",
                      "invalid namespace " + Quote(*ns) +
                          ": use lower-case letters, digits and '-', starting and ending with a "
                          "letter or digit, at most 63 characters (a DNS-1123 label)");
    }
  }
}

void RejectUnknownSpecKeys(const MapView& spec, CheckKind kind) {
  switch (kind) {
    case CheckKind::kKhCheck:
      return spec.RejectUnknown(kKhCheckKeys);
    case CheckKind::kKhJob:
      if (const YAML::Node* interval = spec.Get("runInterval")) {
        spec.sink().Add(*interval, "spec.runInterval",
                        "is not allowed in a KuberhealthyJob: a job runs once (use a "
                        "KuberhealthyCheck to run on an interval)");
      }
      return spec.RejectUnknown(kKhJobKeys);
    case CheckKind::kHealthCheck:
      return spec.RejectUnknown(kHealthCheckKeys);
  }
}

void ReadMap(const MapView& m, std::string_view key, Boxed<KeyValues>& out) {
  if (const YAML::Node* node = m.Get(key)) {
    out = ReadStringMap(*node, m.Path(key), m.sink()).value_or(*std::as_const(out));
  }
}

// Into a local first: a boxed pod spec stays unallocated when the check has no containers.
void ReadPodSpec(const MapView& pod_spec, const LoadOptions& opts, Boxed<PodSpec>& out) {
  PodSpec pod = *std::as_const(out);
  config_internal::ReadPodSpec(pod_spec, opts, pod);
  out = std::move(pod);
}

// v1 kinds (KuberhealthyCheck, KuberhealthyJob): spec.podSpec is the core/v1 PodSpec itself.
void ReadV1PodSpec(const MapView& pod, const LoadOptions& opts, CheckSpec& out) {
  const YAML::Node* nested = pod.Get("spec");
  if (nested != nullptr) {
    pod.sink().Add(*nested, pod.Path("spec"),
                   "is the HealthCheck (kuberhealthy.github.io/v2) layout; for "
                   "comcast.github.io/v1 put the pod fields (containers, ...) directly under "
                   "spec.podSpec");
  }
  if (const YAML::Node* meta = pod.Get("metadata")) {
    pod.sink().Add(*meta, pod.Path("metadata"),
                   "is the HealthCheck (kuberhealthy.github.io/v2) layout; for "
                   "comcast.github.io/v1 set pod labels and annotations with spec.extraLabels "
                   "and spec.extraAnnotations");
  }
  // Containers under the misplaced `spec` were already reported; don't also call them missing.
  if (nested != nullptr && pod.Get("containers") == nullptr) return;
  ReadPodSpec(pod, opts, out.pod);
}

// HealthCheck: spec.podSpec is a pod template, {metadata: {labels, annotations}, spec: PodSpec}.
void ReadPodTemplate(const MapView& tmpl, const LoadOptions& opts, CheckSpec& out) {
  bool misplaced = false;
  tmpl.ForEach([&](const std::string& key, const YAML::Node& key_node, const YAML::Node&) {
    if (key == "metadata" || key == "spec") return;
    misplaced = true;
    tmpl.sink().Add(key_node, tmpl.Path(key),
                    "must be at spec.podSpec.spec." + key +
                        " for apiVersion kuberhealthy.github.io/v2 (HealthCheck); spec.podSpec "
                        "holds only metadata and spec");
  });
  if (const YAML::Node* meta = tmpl.Get("metadata")) {
    if (meta->IsMap()) {
      MapView m(*meta, tmpl.Path("metadata"), tmpl.sink());
      ReadMap(m, "labels", out.pod_labels);
      ReadMap(m, "annotations", out.pod_annotations);
    } else {
      tmpl.sink().Add(*meta, tmpl.Path("metadata"),
                      "must be a mapping with labels and annotations, found " + Describe(*meta));
    }
  }
  const YAML::Node* spec = tmpl.Get("spec");
  if (spec == nullptr) {
    if (!misplaced) tmpl.sink().Add(tmpl.node(), tmpl.Path("spec"), "is required");
  } else if (!spec->IsMap()) {
    tmpl.sink().Add(*spec, tmpl.Path("spec"),
                    "must be a PodSpec mapping, found " + Describe(*spec));
  } else {
    ReadPodSpec(MapView(*spec, tmpl.Path("spec"), tmpl.sink()), opts, out.pod);
  }
}

void ReadPodSection(const MapView& spec, CheckKind kind, const LoadOptions& opts, CheckSpec& out) {
  const YAML::Node* node = spec.Get("podSpec");
  if (spec.Get("probe") != nullptr) {
    if (node != nullptr) {
      spec.sink().Add(*node, "spec.podSpec",
                      "a check has either spec.podSpec (a checker) or spec.probe, not both");
    }
    return;
  }
  if (node == nullptr) {
    spec.sink().Add(spec.node(), "spec.podSpec", "is required");
    return;
  }
  if (!node->IsMap()) {
    spec.sink().Add(*node, "spec.podSpec", "must be a mapping, found " + Describe(*node));
    return;
  }
  MapView pod(*node, "spec.podSpec", spec.sink());
  if (kind == CheckKind::kHealthCheck) {
    ReadPodTemplate(pod, opts, out);
  } else {
    ReadV1PodSpec(pod, opts, out);
  }
}

void ReadSpec(const MapView& root, CheckKind kind, const LoadOptions& opts, CheckSpec& out) {
  out.kind = kind;
  out.run_interval = minutes(10);
  out.timeout = kind == CheckKind::kHealthCheck ? Duration(seconds(30)) : Duration(minutes(5));
  out.single_run = kind == CheckKind::kKhJob;
  const YAML::Node* node = root.Get("spec");
  if (node == nullptr) {
    root.sink().Add(root.node(), "spec", "is required");
    return;
  }
  if (!node->IsMap()) {
    root.sink().Add(*node, "spec", "must be a mapping, found " + Describe(*node));
    return;
  }
  MapView spec(*node, "spec", root.sink());
  RejectUnknownSpecKeys(spec, kind);
  if (const YAML::Node* v = spec.Get("runInterval"); v && kind != CheckKind::kKhJob) {
    out.run_interval =
        ReadPositiveDuration(*v, "spec.runInterval", spec.sink()).value_or(Duration{});
  }
  if (const YAML::Node* v = spec.Get("timeout")) {
    out.timeout = ReadPositiveDuration(*v, "spec.timeout", spec.sink()).value_or(Duration{});
  }
  if (const YAML::Node* v = spec.Get("singleRunOnly"); v && kind == CheckKind::kHealthCheck) {
    out.single_run = ReadBool(*v, "spec.singleRunOnly", spec.sink()).value_or(false);
  }
  if (const YAML::Node* v = spec.Get("phase"); v && kind == CheckKind::kKhJob) {
    ReadString(*v, "spec.phase", spec.sink());  // runtime state in Kubernetes; unused here
  }
  ReadMap(spec, "extraLabels", out.extra_labels);
  ReadMap(spec, "extraAnnotations", out.extra_annotations);
  // Sonde's extensions: a heartbeat check has no pod (the job reports to the check's URL);
  // a probe check runs in-process.
  if (const YAML::Node* hb = spec.Get("heartbeat")) {
    if (const YAML::Node* probe = spec.Get("probe")) {
      spec.sink().Add(*probe, "spec.probe",
                      "a check has either spec.heartbeat or spec.probe, not both");
    }
    return ReadHeartbeat(spec, *hb, out);
  }
  ReadPodSection(spec, kind, opts, out);
  if (spec.Get("probe") != nullptr) {
    // Probes answer in seconds; Kuberhealthy's 5m default is for pods that must be scheduled.
    if (spec.Get("timeout") == nullptr) out.timeout = seconds(10);
    ReadProbe(spec, opts, out);
  }
}

}  // namespace

std::optional<DocumentCheck> ReadCheckDocument(const YAML::Node& doc, const LoadOptions& opts,
                                               ErrorSink& sink) {
  if (!doc.IsMap()) {
    sink.Add(doc, "",
             "a check must be a mapping with apiVersion, kind, metadata and spec, found " +
                 Describe(doc));
    return std::nullopt;
  }
  const size_t errors_before = sink.count();
  MapView root(doc, "", sink);
  root.RejectUnknown(kTopLevelKeys);
  DocumentCheck out;
  const std::optional<CheckKind> kind = ReadKind(root);
  ReadMetadata(root, out);
  if (kind) ReadSpec(root, *kind, opts, out.spec);
  if (sink.count() != errors_before) return std::nullopt;
  return out;
}

}  // namespace sonde::config_internal
