// `sonde serve`: the daemon. This file and main.cpp are the only places that know the
// concrete classes (LocalProcessRunner, MemoryStore, HttpServer, SystemClock) and wire them.
#pragma once

#include <map>
#include <string>
#include <vector>

#include "core/time.hpp"
#include "metrics/exposition.hpp"

namespace sonde {

// Operator mode (`--kube`): checks are custom resources, runs are pods, state is in the cluster.
struct KubeSettings {
  bool enabled = false;
  std::string kubeconfig;               // "": $KUBECONFIG, in-cluster, ~/.kube/config
  std::string context;                  // "": the kubeconfig's current context
  std::vector<std::string> namespaces;  // watched for checks and pods; empty: all
  std::string lease_name = "kuberhealthy-controller";
  std::string lease_namespace;  // "": $POD_NAMESPACE, else the configuration's namespace
  Duration lease_duration = std::chrono::seconds(15);
  Duration renew_deadline = std::chrono::seconds(10);
  Duration retry_period = std::chrono::seconds(2);
  double qps = 50;     // client-side API rate limit (Kuberhealthy #1534)
  size_t burst = 100;
  std::string identity;       // "": $POD_NAME, else the instance name
  std::string advertise_url;  // where followers forward reports to this replica; "": derived
  // The reaper (Kuberhealthy's settings and defaults; kube/reaper_policy.hpp).
  Duration reaper_interval = std::chrono::seconds(30);
  Duration max_check_pod_age = std::chrono::hours(72);
  size_t max_completed_pod_count = 4;
  size_t max_error_pod_count = 4;
  Duration error_pod_retention = std::chrono::hours(36);
  Duration max_khjob_age = std::chrono::minutes(15);
};

// Effective daemon settings after merging flags, environment, config file and defaults.
struct ServeSettings {
  std::string listen = "127.0.0.1:8080";
  std::vector<std::string> checks;  // files or directories
  std::string state_dir = ".sonde-state";
  std::string instance_name;        // default: the host name
  std::string log_format = "text";  // text | json
  std::string log_level = "info";
  std::string reporting_url;        // base URL checkers report to; default from --listen
  size_t max_concurrent_runs = 32;
  Duration kill_grace_period = std::chrono::seconds(5);
  Duration reload_interval = std::chrono::seconds(2);
  Duration shutdown_timeout = std::chrono::seconds(10);
  size_t max_report_bytes = 1024 * 1024;
  std::map<std::string, std::string> state_metadata;
  MetricsOptions metrics;  // how /metrics labels its series (Kuberhealthy's exporter options)
  std::string ready_file;  // written with the base URL once serving (for scripts and tests)
  KubeSettings kube;
};

// Runs until SIGTERM/SIGINT. Returns the process exit code: 0 after a clean shutdown,
// 1 when it cannot start (e.g. the port is taken), with the reason logged.
int RunDaemon(const ServeSettings& settings);

}  // namespace sonde
