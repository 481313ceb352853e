#include "cli/serve_settings.hpp"

#include <CLI/CLI.hpp>
#include <charconv>
#include <set>

#include "config/daemon_config.hpp"

namespace sonde {
namespace {

Status ParseCount(const std::string& name, const std::string& text, size_t& out) {
  size_t v = 0;
  auto [p, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
  if (ec != std::errc() || p != text.data() + text.size() || v == 0) {
    return Status::Error(name + ": \"" + text + "\" is not a positive whole number");
  }
  out = v;
  return Status::Ok();
}

Status ParseDurationFlag(const std::string& name, const std::string& text, Duration& out) {
  auto d = ParseGoDuration(text);
  if (!d.ok()) return Status::Error(name + ": " + d.error());
  if (d.value().count() <= 0) return Status::Error(name + ": must be greater than 0");
  out = d.value();
  return Status::Ok();
}

// A byte length where 0 means unlimited.
Status ParseLength(const std::string& name, const std::string& text, size_t& out) {
  size_t v = 0;
  auto [p, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
  if (ec != std::errc() || p != text.data() + text.size()) {
    return Status::Error(name + ": \"" + text +
                         "\" is not a whole number of bytes (0 = unlimited)");
  }
  out = v;
  return Status::Ok();
}

Status ParseBoolFlag(const std::string& name, const std::string& text, bool& out) {
  if (text == "true" || text == "1") {
    out = true;
  } else if (text == "false" || text == "0") {
    out = false;
  } else {
    return Status::Error(name + ": \"" + text + "\" is not true or false");
  }
  return Status::Ok();
}

// A valid allow or deny list as MetricsOptions holds it: a lone "*" (every label) is the
// empty allowlist.
std::set<std::string> LabelSet(const std::vector<std::string>& names) {
  if (names == std::vector<std::string>{"*"}) return {};
  return {names.begin(), names.end()};
}

Status ParseLabelList(const std::string& name, const std::vector<std::string>& names,
                      bool allow_list, std::set<std::string>& out) {
  for (const std::string& label : names) {
    const std::string problem = MetricsLabelListEntryProblem(label, names.size(), allow_list);
    if (!problem.empty()) return Status::Error(name + ": " + problem);
  }
  out = LabelSet(names);
  return Status::Ok();
}

// The file's metrics section was validated when it was parsed.
void ApplyFileMetrics(const DaemonMetricsConfig& c, MetricsOptions& m) {
  if (c.suppress_error_label) m.suppress_error_label = *c.suppress_error_label;
  if (c.error_label_max_length) m.error_label_max_length = *c.error_label_max_length;
  if (c.label_value_max_length) m.label_value_max_length = *c.label_value_max_length;
  if (c.label_allowlist) m.label_allowlist = LabelSet(*c.label_allowlist);
  if (c.label_denylist) m.label_denylist = LabelSet(*c.label_denylist);
}

// Copies the file's values into `s` (the file sits between defaults and flags).
void ApplyFile(const DaemonConfig& c, ServeSettings& s) {
  if (c.listen) s.listen = *c.listen;
  if (!c.checks.empty()) s.checks = c.checks;
  if (c.state_dir) s.state_dir = *c.state_dir;
  if (c.instance_name) s.instance_name = *c.instance_name;
  if (c.log_format) s.log_format = *c.log_format;
  if (c.log_level) s.log_level = *c.log_level;
  if (c.reporting_url) s.reporting_url = *c.reporting_url;
  if (c.max_concurrent_runs) s.max_concurrent_runs = static_cast<size_t>(*c.max_concurrent_runs);
  if (c.kill_grace_period) s.kill_grace_period = *c.kill_grace_period;
  if (c.reload_interval) s.reload_interval = *c.reload_interval;
  if (c.shutdown_timeout) s.shutdown_timeout = *c.shutdown_timeout;
  if (c.max_report_bytes) s.max_report_bytes = static_cast<size_t>(*c.max_report_bytes);
  s.state_metadata = c.state_metadata;
  if (c.max_check_pod_age) s.kube.max_check_pod_age = *c.max_check_pod_age;
  if (c.max_khjob_age) s.kube.max_khjob_age = *c.max_khjob_age;
  if (c.max_completed_pod_count) {
    s.kube.max_completed_pod_count = static_cast<size_t>(*c.max_completed_pod_count);
  }
  if (c.max_error_pod_count)
    s.kube.max_error_pod_count = static_cast<size_t>(*c.max_error_pod_count);
  ApplyFileMetrics(c.metrics, s.metrics);
}

// Errors come back in flag order, first one only, as for the other flags.
Status ApplyMetricsFlags(const ServeFlags& f, MetricsOptions& m) {
  Status st = Status::Ok();
  const auto chain = [&st](Status next) {
    if (st.ok()) st = std::move(next);
  };
  if (!f.metrics_suppress_error_label.empty()) {
    chain(ParseBoolFlag("--metrics-suppress-error-label", f.metrics_suppress_error_label,
                        m.suppress_error_label));
  }
  if (!f.metrics_error_label_max_length.empty()) {
    chain(ParseLength("--metrics-error-label-max-length", f.metrics_error_label_max_length,
                      m.error_label_max_length));
  }
  if (!f.metrics_label_allowlist.empty()) {
    chain(ParseLabelList("--metrics-label-allowlist", f.metrics_label_allowlist,
                         /*allow_list=*/true, m.label_allowlist));
  }
  if (!f.metrics_label_denylist.empty()) {
    chain(ParseLabelList("--metrics-label-denylist", f.metrics_label_denylist,
                         /*allow_list=*/false, m.label_denylist));
  }
  if (!f.metrics_label_value_max_length.empty()) {
    chain(ParseLength("--metrics-label-value-max-length", f.metrics_label_value_max_length,
                      m.label_value_max_length));
  }
  return st;
}

Status ApplyKubeFlags(const ServeFlags& f, KubeSettings& k) {
  k.enabled = f.kube;
  const auto set = [](const std::string& v, std::string& to) {
    if (!v.empty()) to = v;
  };
  set(f.kubeconfig, k.kubeconfig);
  set(f.kube_context, k.context);
  set(f.lease_name, k.lease_name);
  set(f.lease_namespace, k.lease_namespace);
  set(f.identity, k.identity);
  set(f.advertise_url, k.advertise_url);
  if (!f.namespaces.empty()) k.namespaces = f.namespaces;
  Status st = Status::Ok();
  const auto chain = [&st](Status next) {
    if (st.ok()) st = std::move(next);
  };
  if (!f.lease_duration.empty()) {
    chain(ParseDurationFlag("--lease-duration", f.lease_duration, k.lease_duration));
  }
  if (!f.renew_deadline.empty()) {
    chain(ParseDurationFlag("--renew-deadline", f.renew_deadline, k.renew_deadline));
  }
  if (!f.retry_period.empty()) {
    chain(ParseDurationFlag("--retry-period", f.retry_period, k.retry_period));
  }
  if (!f.kube_burst.empty()) chain(ParseCount("--kube-burst", f.kube_burst, k.burst));
  const std::pair<const std::string*, std::pair<const char*, Duration*>> durations[] = {
      {&f.reaper_interval, {"--reaper-interval", &k.reaper_interval}},
      {&f.max_check_pod_age, {"--max-check-pod-age", &k.max_check_pod_age}},
      {&f.error_pod_retention, {"--error-pod-retention", &k.error_pod_retention}},
      {&f.max_khjob_age, {"--max-khjob-age", &k.max_khjob_age}}};
  for (const auto& [text, target] : durations) {
    if (!text->empty()) chain(ParseDurationFlag(target.first, *text, *target.second));
  }
  // 0 is a valid count: keep no pods of that kind.
  if (!f.max_completed_pod_count.empty()) {
    chain(ParseLength("--max-completed-pod-count", f.max_completed_pod_count,
                      k.max_completed_pod_count));
  }
  if (!f.max_error_pod_count.empty()) {
    chain(ParseLength("--max-error-pod-count", f.max_error_pod_count, k.max_error_pod_count));
  }
  if (!f.kube_qps.empty()) {
    size_t qps = 0;
    chain(ParseCount("--kube-qps", f.kube_qps, qps));
    k.qps = static_cast<double>(qps);
  }
  return st;
}

Status ApplyFlags(const ServeFlags& f, ServeSettings& s) {
  const auto set = [](const std::string& v, std::string& to) {
    if (!v.empty()) to = v;
  };
  set(f.listen, s.listen);
  set(f.state_dir, s.state_dir);
  set(f.instance_name, s.instance_name);
  set(f.log_format, s.log_format);
  set(f.log_level, s.log_level);
  set(f.reporting_url, s.reporting_url);
  set(f.ready_file, s.ready_file);
  if (!f.checks.empty()) s.checks = f.checks;
  Status st = Status::Ok();
  const auto chain = [&st](Status next) {
    if (st.ok()) st = std::move(next);
  };
  if (!f.max_concurrent_runs.empty()) {
    chain(ParseCount("--max-concurrent-runs", f.max_concurrent_runs, s.max_concurrent_runs));
  }
  if (!f.max_report_bytes.empty()) {
    chain(ParseCount("--max-report-bytes", f.max_report_bytes, s.max_report_bytes));
  }
  if (!f.kill_grace_period.empty()) {
    chain(ParseDurationFlag("--kill-grace-period", f.kill_grace_period, s.kill_grace_period));
  }
  if (!f.reload_interval.empty()) {
    chain(ParseDurationFlag("--reload-interval", f.reload_interval, s.reload_interval));
  }
  if (!f.shutdown_timeout.empty()) {
    chain(ParseDurationFlag("--shutdown-timeout", f.shutdown_timeout, s.shutdown_timeout));
  }
  chain(ApplyMetricsFlags(f, s.metrics));
  chain(ApplyKubeFlags(f, s.kube));
  return st;
}

}  // namespace

void AddKubeFlags(CLI::App& serve, ServeFlags& f) {
  const char* group = "Operator mode";
  serve.add_flag("--kube", f.kube, "Run as a Kubernetes operator (checks are custom resources)")
      ->envname("SONDE_KUBE")
      ->group(group);
  serve.add_option("--kubeconfig", f.kubeconfig, "kubeconfig [$KUBECONFIG, in-cluster]")
      ->group(group);
  serve.add_option("--kube-context", f.kube_context, "kubeconfig context [current]")->group(group);
  serve.add_option("--namespaces", f.namespaces, "Namespaces to watch [all]")
      ->envname("SONDE_NAMESPACES")
      ->delimiter(',')
      ->group(group);
  serve.add_option("--lease-name", f.lease_name, "Leader-election Lease [kuberhealthy-controller]")
      ->envname("SONDE_LEASE_NAME")
      ->group(group);
  serve.add_option("--lease-namespace", f.lease_namespace, "Lease namespace [$POD_NAMESPACE]")
      ->envname("SONDE_LEASE_NAMESPACE")
      ->group(group);
  serve.add_option("--lease-duration", f.lease_duration, "Lease duration [15s]")
      ->envname("SONDE_LEASE_DURATION")
      ->group(group);
  serve.add_option("--renew-deadline", f.renew_deadline, "Leader gives up after [10s]")
      ->envname("SONDE_RENEW_DEADLINE")
      ->group(group);
  serve.add_option("--retry-period", f.retry_period, "Between lease tries [2s]")
      ->envname("SONDE_RETRY_PERIOD")
      ->group(group);
  serve.add_option("--kube-qps", f.kube_qps, "API requests per second [50]")
      ->envname("SONDE_KUBE_QPS")
      ->group(group);
  serve.add_option("--kube-burst", f.kube_burst, "API request burst [100]")
      ->envname("SONDE_KUBE_BURST")
      ->group(group);
  serve.add_option("--identity", f.identity, "This replica in the Lease [$POD_NAME]")
      ->envname("POD_NAME")
      ->group(group);
  serve.add_option("--reaper-interval", f.reaper_interval, "Between reaper sweeps [30s]")
      ->envname("CHECK_REAPER_RUN_INTERVAL")
      ->group(group);
  serve.add_option("--max-check-pod-age", f.max_check_pod_age, "Ended checker pods kept [72h]")
      ->envname("KH_MAX_CHECK_POD_AGE")
      ->group(group);
  serve
      .add_option("--max-completed-pod-count", f.max_completed_pod_count,
                  "Succeeded pods kept per check [4]")
      ->envname("KH_MAX_COMPLETED_POD_COUNT")
      ->group(group);
  serve
      .add_option("--max-error-pod-count", f.max_error_pod_count, "Failed pods kept per check [4]")
      ->envname("KH_MAX_ERROR_POD_COUNT")
      ->group(group);
  serve
      .add_option("--error-pod-retention", f.error_pod_retention, "Failed pods kept at most [36h]")
      ->envname("KH_ERROR_POD_RETENTION_TIME")
      ->group(group);
  serve.add_option("--max-khjob-age", f.max_khjob_age, "Completed khjobs kept [15m, at least 5m]")
      ->envname("KH_MAX_KHJOB_AGE")
      ->group(group);
  serve
      .add_option("--advertise-url", f.advertise_url,
                  "Where followers forward reports to this replica [http://$POD_IP:port]")
      ->envname("SONDE_ADVERTISE_URL")
      ->group(group);
}

void AddServeFlags(CLI::App& serve, ServeFlags& f) {
  serve.add_option("--config", f.config, "Daemon config file (YAML)")->envname("SONDE_CONFIG");
  serve.add_option("--listen", f.listen, "HOST:PORT to serve on [127.0.0.1:8080]")
      ->envname("SONDE_LISTEN");
  serve.add_option("--checks", f.checks, "Check file or directory (repeatable)")
      ->envname("SONDE_CHECKS")
      ->delimiter(',');
  serve.add_option("--state-dir", f.state_dir, "State directory [.sonde-state]")
      ->envname("SONDE_STATE_DIR");
  serve.add_option("--instance-name", f.instance_name, "This instance's name [host name]")
      ->envname("SONDE_INSTANCE_NAME");
  serve.add_option("--log-format", f.log_format, "text or json [text]")
      ->envname("SONDE_LOG_FORMAT");
  serve.add_option("--log-level", f.log_level, "trace, debug, info, warn, error [info]")
      ->envname("SONDE_LOG_LEVEL");
  serve
      .add_option("--reporting-url", f.reporting_url,
                  "Base URL checkers report to [derived from --listen]")
      ->envname("SONDE_REPORTING_URL");
  serve.add_option("--max-concurrent-runs", f.max_concurrent_runs, "Runs at a time [32]")
      ->envname("SONDE_MAX_CONCURRENT_RUNS");
  serve.add_option("--kill-grace-period", f.kill_grace_period, "SIGTERM to SIGKILL [5s]")
      ->envname("SONDE_KILL_GRACE_PERIOD");
  serve.add_option("--reload-interval", f.reload_interval, "Check-file poll interval [2s]")
      ->envname("SONDE_RELOAD_INTERVAL");
  serve.add_option("--shutdown-timeout", f.shutdown_timeout, "Wait for runs on SIGTERM [10s]")
      ->envname("SONDE_SHUTDOWN_TIMEOUT");
  serve.add_option("--max-report-bytes", f.max_report_bytes, "Largest request body [1048576]")
      ->envname("SONDE_MAX_REPORT_BYTES");
  serve.add_option("--ready-file", f.ready_file, "Write the base URL here once serving")
      ->envname("SONDE_READY_FILE");
  serve
      .add_flag("--metrics-suppress-error-label", f.metrics_suppress_error_label,
                "Leave the error label off kuberhealthy_check and kuberhealthy_job [false]")
      ->envname("SONDE_METRICS_SUPPRESS_ERROR_LABEL");
  serve
      .add_option("--metrics-error-label-max-length", f.metrics_error_label_max_length,
                  "Cut error labels to this many bytes; 0 = unlimited [0]")
      ->envname("SONDE_METRICS_ERROR_LABEL_MAX_LENGTH");
  serve
      .add_option("--metrics-label-allowlist", f.metrics_label_allowlist,
                  "Extra labels exposed on kuberhealthy_* series; * = all [severity,category]")
      ->envname("SONDE_METRICS_LABEL_ALLOWLIST")
      ->delimiter(',');
  serve
      .add_option("--metrics-label-denylist", f.metrics_label_denylist,
                  "Extra labels never exposed; wins over the allowlist []")
      ->envname("SONDE_METRICS_LABEL_DENYLIST")
      ->delimiter(',');
  serve
      .add_option("--metrics-label-value-max-length", f.metrics_label_value_max_length,
                  "Cut extra label values to this many bytes; 0 = unlimited [256]")
      ->envname("SONDE_METRICS_LABEL_VALUE_MAX_LENGTH");
  AddKubeFlags(serve, f);
}

Result<ServeSettings> ResolveServeSettings(const ServeFlags& flags) {
  ServeSettings s;
  if (!flags.config.empty()) {
    const DaemonConfigResult file = LoadDaemonConfig(flags.config);
    if (!file.errors.empty()) {
      std::string all = "invalid config file:";
      for (const auto& e : file.errors) all += "\n  " + e.ToString();
      return Result<ServeSettings>::Error(all);
    }
    ApplyFile(file.config, s);
  }
  if (Status st = ApplyFlags(flags, s); !st.ok()) return Result<ServeSettings>::Error(st.message());
  return s;
}

}  // namespace sonde
