// `sonde serve` options: each settable by flag, by environment variable (SONDE_*), or in the
// YAML file given by --config; a flag or variable wins over the file, the file over defaults.
#pragma once

#include <CLI/App.hpp>
#include <string>
#include <vector>

#include "cli/serve.hpp"
#include "core/result.hpp"

namespace sonde {

// Raw flag values; empty means "not given".
struct ServeFlags {
  std::string config, listen, state_dir, instance_name, log_format, log_level, reporting_url;
  std::string max_concurrent_runs, kill_grace_period, reload_interval, shutdown_timeout;
  std::string max_report_bytes, ready_file;
  std::vector<std::string> checks;
  // /metrics labelling (MetricsOptions). The bool is a string so that "not given" can leave
  // the config file's value in place.
  std::string metrics_suppress_error_label, metrics_error_label_max_length;
  std::string metrics_label_value_max_length;
  std::vector<std::string> metrics_label_allowlist, metrics_label_denylist;  // "*" = every label
  // Operator mode (KubeSettings).
  bool kube = false;
  std::string kubeconfig, kube_context, lease_name, lease_namespace, lease_duration;
  std::string renew_deadline, retry_period, kube_qps, kube_burst, identity, advertise_url;
  std::string reaper_interval, max_check_pod_age, max_completed_pod_count, max_error_pod_count;
  std::string error_pod_retention, max_khjob_age;
  std::vector<std::string> namespaces;
};

void AddServeFlags(CLI::App& serve, ServeFlags& flags);

// Merges flags, the config file and defaults. Errors name the option and the problem, and
// list every problem of the config file with file:line:column.
Result<ServeSettings> ResolveServeSettings(const ServeFlags& flags);

}  // namespace sonde
