// `sonde serve`: the daemon. This file and main.cpp are the only places that know the
// concrete classes (LocalProcessRunner, MemoryStore, HttpServer, SystemClock) and wire them.
#pragma once

#include <map>
#include <string>
#include <vector>

#include "core/time.hpp"
#include "metrics/exposition.hpp"

namespace sonde {

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
};

// Runs until SIGTERM/SIGINT. Returns the process exit code: 0 after a clean shutdown,
// 1 when it cannot start (e.g. the port is taken), with the reason logged.
int RunDaemon(const ServeSettings& settings);

}  // namespace sonde
