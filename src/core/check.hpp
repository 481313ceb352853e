// The check model shared by every module: what a check is, independent of the YAML it came
// from and of the runner that executes it. Plain values; thread-safe to share as
// std::shared_ptr<const CheckSpec>.
#pragma once

#include <compare>
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "core/boxed.hpp"
#include "core/time.hpp"

namespace sonde {

// The three Kuberhealthy resource kinds Sonde accepts.
enum class CheckKind {
  kKhCheck,      // apiVersion comcast.github.io/v1, kind KuberhealthyCheck (v2)
  kKhJob,        // apiVersion comcast.github.io/v1, kind KuberhealthyJob (v2)
  kHealthCheck,  // apiVersion kuberhealthy.github.io/v2, kind HealthCheck (v3)
};

// "KuberhealthyCheck", "KuberhealthyJob" or "HealthCheck".
const char* KindName(CheckKind kind);

// Identifies a check: namespace and name. Rendered "namespace/name" everywhere.
struct CheckKey {
  std::string ns;
  std::string name;

  std::string str() const { return ns + "/" + name; }
  auto operator<=>(const CheckKey&) const = default;
  bool operator==(const CheckKey&) const = default;
};

using KeyValues = std::map<std::string, std::string>;  // labels, annotations

struct EnvVar {
  std::string name;
  std::string value;
  bool operator==(const EnvVar&) const = default;
};

struct Container {
  std::string name;
  std::string image;                    // informational in local mode
  std::vector<std::string> command;     // argv[0..]; never empty after validation
  std::vector<std::string> args;        // appended to command
  std::string working_dir;              // empty: the check file's directory
  std::vector<EnvVar> env;              // plain values only (valueFrom is rejected at load)
  std::optional<int64_t> run_as_user;   // container securityContext, else the pod's
  std::optional<int64_t> run_as_group;  // container securityContext, else the pod's
  bool operator==(const Container&) const = default;
};

struct PodSpec {
  std::vector<Container> init_containers;  // run one after another, before `containers`
  std::vector<Container> containers;       // run together; never empty after validation
  bool operator==(const PodSpec&) const = default;
};

struct ProbeDefinition;  // probe/probe.hpp; opaque to the rest of the core

// A check's in-process probe (spec.probe), parsed once at load. Compared by the YAML it came
// from, so that reloading an unchanged file leaves the check undisturbed.
struct ProbeRef {
  std::shared_ptr<const ProbeDefinition> definition;  // null: the check runs a checker pod
  std::string source;                                 // spec.probe as canonical YAML
  explicit operator bool() const { return definition != nullptr; }
  bool operator==(const ProbeRef& other) const { return source == other.source; }
};

// A heartbeat check (Sonde extension, `spec.heartbeat`): nothing is started; the job reports
// to the check's own URL at least every run_interval (or at each `schedule` instant) plus grace.
struct HeartbeatSpec {
  Duration grace{};                 // default 5m
  std::string schedule;             // 5-field cron expression; empty: every run_interval
  std::string timezone;             // IANA zone of `schedule`; empty: UTC
  int64_t reports_per_minute = 60;  // per-check rate limit (token bucket of this size)
  Duration min_record_interval{};   // repeats of a result within it are counted only; default 1s
  bool operator==(const HeartbeatSpec&) const = default;
};

// Where a check read from the Kubernetes API came from (operator mode); absent for checks
// loaded from files. The pod spec is kept as the API server sent it, because a checker pod
// needs every PodSpec field (volumes, resources, ...) while `CheckSpec::pod` holds only what a
// local process uses. The object's resourceVersion is left out on purpose: a status or khstate
// write bumps it, and that must not look like a change of the check.
struct KubeSource {
  std::string api_version;    // "comcast.github.io/v1" or "kuberhealthy.github.io/v2"
  std::string uid;            // metadata.uid, for the checker pod's ownerReference
  std::string pod_spec_json;  // v2 spec.podSpec or v3 spec.podSpec.spec, serialized once
  bool operator==(const KubeSource&) const = default;
};

struct CheckSpec {
  CheckKey key;
  CheckKind kind = CheckKind::kKhCheck;
  Duration run_interval{};  // default 10m
  Duration timeout{};       // default 5m for v2 kinds, 30s for HealthCheck
  bool single_run = false;  // KuberhealthyJob, or HealthCheck spec.singleRunOnly
  // The parts most checks lack are boxed (one pointer while absent; see core/boxed.hpp): a
  // heartbeat or probe check has no pod, few checks have labels, and only operator mode has
  // `kube`. Read them with -> or *; writing through a non-const spec allocates.
  Boxed<KeyValues> extra_labels;
  Boxed<KeyValues> extra_annotations;
  Boxed<KeyValues> pod_labels;             // v3 spec.podSpec.metadata.labels
  Boxed<KeyValues> pod_annotations;        // v3 spec.podSpec.metadata.annotations
  Boxed<PodSpec> pod;                      // empty when `probe` or `heartbeat` is set
  ProbeRef probe;                          // a Sonde extension: run in-process instead of a checker
  BoxedOptional<HeartbeatSpec> heartbeat;  // set: a heartbeat check, and `pod` is empty
  BoxedOptional<KubeSource> kube;          // set: read from the Kubernetes API (operator mode)

  // Shared by every check of one file (the loader makes one copy per file).
  SharedString source_file;  // where it was defined, for messages
  int source_line = 0;
  SharedString base_dir;  // directory of source_file; relative workingDir resolves here

  // Runs once (a job) rather than every run_interval.
  bool IsJob() const { return kind == CheckKind::kKhJob || single_run; }
  bool IsHeartbeat() const { return heartbeat.has_value(); }
  bool operator==(const CheckSpec&) const = default;
};

}  // namespace sonde
