// The daemon's own configuration file (`sonde serve --config FILE`), in YAML with camelCase
// keys. Parsing only records what the file says; flags, environment and defaults are merged
// by the caller, which is why every field is optional.
//
// Failure: never throws. Unknown keys, wrong types and bad values come back as errors with
// file:line:column and the key; fields with errors stay unset.
// Thread safety: pure functions (apart from reading the file); safe to call concurrently.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "config/config_error.hpp"
#include "core/time.hpp"

namespace sonde {

// metrics: Kuberhealthy's exporter options (v2 promMetricsConfig, v3 KH_PROM_*).
struct DaemonMetricsConfig {
  std::optional<bool> suppress_error_label;       // suppressErrorLabel
  std::optional<int64_t> error_label_max_length;  // errorLabelMaxLength: bytes >= 0; 0 = unlimited
  // labelAllowlist: extra label names (IsMetricsExtraLabelName); [] or ["*"] allows every one.
  std::optional<std::vector<std::string>> label_allowlist;
  std::optional<std::vector<std::string>> label_denylist;  // labelDenylist: extra label names
  std::optional<int64_t> label_value_max_length;  // labelValueMaxLength: bytes >= 0; 0 = unlimited

  bool operator==(const DaemonMetricsConfig&) const = default;
};

struct DaemonConfig {
  std::optional<std::string> listen;  // listen: "HOST:PORT", e.g. ":8080", "[::1]:8080"
  // checks: files or directories. Relative paths are resolved against the config file's
  // directory, so a config works whatever the daemon's working directory is.
  std::vector<std::string> checks;
  std::optional<std::string> state_dir;       // stateDir; relative resolved like `checks`
  std::optional<std::string> instance_name;   // instanceName
  std::optional<std::string> log_format;      // logFormat: text | json
  std::optional<std::string> log_level;       // logLevel: trace | debug | info | warn | error
  std::optional<std::string> reporting_url;   // reportingURL: an http:// or https:// URL
  std::optional<int> max_concurrent_runs;     // maxConcurrentRuns: >= 1
  std::optional<Duration> kill_grace_period;  // killGracePeriod: Go duration > 0
  std::optional<Duration> reload_interval;    // reloadInterval: Go duration > 0
  std::optional<Duration> shutdown_timeout;   // shutdownTimeout: Go duration > 0
  std::optional<int64_t> max_report_bytes;    // maxReportBytes: >= 1
  std::map<std::string, std::string> state_metadata;  // stateMetadata: "Metadata" on status page
  // The operator's reaper, under Kuberhealthy v2's names (kube/reaper_policy.hpp).
  std::optional<Duration> max_check_pod_age;       // maxCheckPodAge: Go duration > 0
  std::optional<int64_t> max_completed_pod_count;  // maxCompletedPodCount: >= 0
  std::optional<int64_t> max_error_pod_count;      // maxErrorPodCount: >= 0
  std::optional<Duration> max_khjob_age;           // maxKHJobAge: Go duration > 0
  DaemonMetricsConfig metrics;                     // metrics: {...}

  bool operator==(const DaemonConfig&) const = default;
};

struct DaemonConfigResult {
  DaemonConfig config;
  std::vector<ConfigError> errors;  // in file order; empty when the file is valid
};

// Whether `name` can be an extra label of the per-check metric families: severity, category,
// run_uuid or label_<key> with <key> in [a-zA-Z0-9_]+. Allow and deny lists take these, so a
// misspelt name is an error instead of a list that silently matches nothing.
bool IsMetricsExtraLabelName(std::string_view name);
// "" when `name` may be an entry of a label allow list (`allow_list`; a lone "*" allows every
// label) or deny list of `entries` entries; otherwise the problem, e.g. `invalid label "team"
// (use severity, ...)`. The config file and the flags share it so they say the same thing.
std::string MetricsLabelListEntryProblem(std::string_view name, size_t entries, bool allow_list);

// `file` names the source in errors and anchors relative paths. An empty text is a valid,
// empty config.
DaemonConfigResult ParseDaemonConfig(std::string_view text, const std::string& file);

// Reads and parses `path`; an unreadable file is one error naming it.
DaemonConfigResult LoadDaemonConfig(const std::string& path);

}  // namespace sonde
