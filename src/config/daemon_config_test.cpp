#include "config/daemon_config.hpp"

#include <gtest/gtest.h>

#include <chrono>

namespace sonde {
namespace {

using std::chrono::milliseconds;
using std::chrono::minutes;
using std::chrono::seconds;

std::vector<std::string> ErrorStrings(const DaemonConfigResult& r) {
  std::vector<std::string> out;
  for (const ConfigError& e : r.errors) out.push_back(e.ToString());
  return out;
}

TEST(DaemonConfigTest, EveryKey) {
  const DaemonConfigResult r = ParseDaemonConfig(R"(listen: "[::1]:8080"
checks: [checks, /abs/more.yaml]
stateDir: state
instanceName: lab-1
logFormat: json
logLevel: debug
reportingURL: http://127.0.0.1:8080/externalCheckStatus
maxConcurrentRuns: 4
killGracePeriod: 10s
reloadInterval: 1m
shutdownTimeout: 1500ms
maxReportBytes: 1048576
stateMetadata: {site: paris}
maxCheckPodAge: 24h
maxCompletedPodCount: 0
maxErrorPodCount: 2
maxKHJobAge: 30m
metrics:
  suppressErrorLabel: true
  errorLabelMaxLength: 512
  labelAllowlist: [severity, label_team]
  labelDenylist: [run_uuid]
  labelValueMaxLength: 0
)",
                                                 "/etc/sonde/sonde.yaml");
  ASSERT_EQ(ErrorStrings(r), std::vector<std::string>{});
  const DaemonConfig& c = r.config;
  EXPECT_EQ(c.listen, "[::1]:8080");
  EXPECT_EQ(c.checks, (std::vector<std::string>{"/etc/sonde/checks", "/abs/more.yaml"}));
  EXPECT_EQ(c.state_dir, "/etc/sonde/state");
  EXPECT_EQ(c.instance_name, "lab-1");
  EXPECT_EQ(c.log_format, "json");
  EXPECT_EQ(c.log_level, "debug");
  EXPECT_EQ(c.reporting_url, "http://127.0.0.1:8080/externalCheckStatus");
  EXPECT_EQ(c.max_concurrent_runs, 4);
  EXPECT_EQ(c.kill_grace_period, seconds(10));
  EXPECT_EQ(c.reload_interval, minutes(1));
  EXPECT_EQ(c.shutdown_timeout, milliseconds(1500));
  EXPECT_EQ(c.max_report_bytes, 1048576);
  EXPECT_EQ(c.state_metadata, (std::map<std::string, std::string>{{"site", "paris"}}));
  EXPECT_EQ(c.max_check_pod_age, std::chrono::hours(24));
  EXPECT_EQ(c.max_completed_pod_count, 0);
  EXPECT_EQ(c.max_error_pod_count, 2);
  EXPECT_EQ(c.max_khjob_age, minutes(30));
  EXPECT_EQ(c.metrics.suppress_error_label, true);
  EXPECT_EQ(c.metrics.error_label_max_length, 512);
  EXPECT_EQ(c.metrics.label_allowlist, (std::vector<std::string>{"severity", "label_team"}));
  EXPECT_EQ(c.metrics.label_denylist, std::vector<std::string>{"run_uuid"});
  EXPECT_EQ(c.metrics.label_value_max_length, 0);
}

// An empty allowlist is a setting (allow every label), not the absence of one.
TEST(DaemonConfigTest, MetricsAllowlistCanAllowEverything) {
  for (const char* yaml :
       {"metrics: {labelAllowlist: []}\n", "metrics: {labelAllowlist: ['*']}\n"}) {
    const DaemonConfigResult r = ParseDaemonConfig(yaml, "s.yaml");
    ASSERT_EQ(ErrorStrings(r), std::vector<std::string>{}) << yaml;
    ASSERT_TRUE(r.config.metrics.label_allowlist.has_value()) << yaml;
  }
}

TEST(DaemonConfigTest, MetricsExtraLabelNames) {
  for (const char* name : {"severity", "category", "run_uuid", "label_team", "label_A_9"}) {
    EXPECT_TRUE(IsMetricsExtraLabelName(name)) << name;
  }
  for (const char* name : {"", "label_", "label_a-b", "team", "Severity", "check", "error", "*"}) {
    EXPECT_FALSE(IsMetricsExtraLabelName(name)) << name;
  }
}

TEST(DaemonConfigTest, EmptyFileLeavesEverythingUnset) {
  const DaemonConfigResult r = ParseDaemonConfig("# nothing yet\n", "sonde.yaml");
  EXPECT_EQ(ErrorStrings(r), std::vector<std::string>{});
  EXPECT_EQ(r.config, DaemonConfig{});
}

TEST(DaemonConfigTest, RelativePathsStayRelativeWithoutConfigDirectory) {
  const DaemonConfigResult r = ParseDaemonConfig("checks: [checks]\n", "sonde.yaml");
  EXPECT_EQ(r.config.checks, std::vector<std::string>{"checks"});
}

struct BadCase {
  std::string name;
  std::string yaml;
  std::vector<std::string> want;
};

class DaemonConfigBadTest : public testing::TestWithParam<BadCase> {};

TEST_P(DaemonConfigBadTest, ReportsExactError) {
  const DaemonConfigResult r = ParseDaemonConfig(GetParam().yaml, "s.yaml");
  EXPECT_EQ(ErrorStrings(r), GetParam().want);
}

INSTANTIATE_TEST_SUITE_P(
    Rules, DaemonConfigBadTest,
    testing::ValuesIn(std::vector<BadCase>{
        {"NotAMapping",
         "[a]\n",
         {"s.yaml:1:1: the config must be a mapping of settings, found a list"}},
        {"Syntax", "listen: [\n", {"s.yaml:2:1: invalid YAML: end of sequence flow not found"}},
        {"TwoDocuments",
         "listen: :1\n---\nlisten: :2\n",
         {"s.yaml:3:1: the config file must hold a single YAML document"}},
        {"UnknownKey",
         "logfomat: json\n",
         {"s.yaml:1:1: logfomat: unknown field \"logfomat\" (allowed: listen, checks, stateDir, "
          "instanceName, logFormat, logLevel, reportingURL, maxConcurrentRuns, killGracePeriod, "
          "reloadInterval, shutdownTimeout, maxReportBytes, stateMetadata, metrics, "
          "maxCheckPodAge, "
          "maxCompletedPodCount, maxErrorPodCount or maxKHJobAge)"}},
        {"UnknownKeyDidYouMean",
         "reportingUrl: http://x\n",
         {"s.yaml:1:1: reportingUrl: unknown field \"reportingUrl\" (did you mean "
          "\"reportingURL\"?)"}},
        {"ListenInvalid",
         "listen: 8080\n",
         {"s.yaml:1:9: listen: invalid value \"8080\" (use HOST:PORT, e.g. \"127.0.0.1:8080\", "
          "\":8080\" or \"[::1]:8080\")"}},
        {"ChecksNotAList",
         "checks: /etc/sonde/checks\n",
         {"s.yaml:1:9: checks: must be a list of files or directories, e.g. "
          "[\"/etc/sonde/checks\"], found \"/etc/sonde/checks\""}},
        {"LogFormatInvalid",
         "logFormat: yaml\n",
         {"s.yaml:1:12: logFormat: invalid value \"yaml\" (use text or json)"}},
        {"LogLevelInvalid",
         "logLevel: verbose\n",
         {"s.yaml:1:11: logLevel: invalid value \"verbose\" (use trace, debug, info, warn or "
          "error)"}},
        {"ReportingUrlInvalid",
         "reportingURL: localhost:8080\n",
         {"s.yaml:1:15: reportingURL: invalid value \"localhost:8080\" (use an http:// or "
          "https:// URL, e.g. \"http://127.0.0.1:8080\")"}},
        {"MaxConcurrentRunsZero",
         "maxConcurrentRuns: 0\n",
         {"s.yaml:1:20: maxConcurrentRuns: must be an integer >= 1, found \"0\""}},
        {"MaxConcurrentRunsTooLarge",
         "maxConcurrentRuns: 9999999999\n",
         {"s.yaml:1:20: maxConcurrentRuns: must be at most 2147483647"}},
        {"DurationInvalid",
         "killGracePeriod: 10\n",
         {"s.yaml:1:18: killGracePeriod: invalid duration \"10\": missing unit (use ns, us, ms, "
          "s, m or h)"}},
        {"DurationNotPositive",
         "reloadInterval: -1s\n",
         {"s.yaml:1:17: reloadInterval: must be greater than 0, found \"-1s\""}},
        {"MaxReportBytesQuoted",
         "maxReportBytes: \"1024\"\n",
         {"s.yaml:1:17: maxReportBytes: must be an integer >= 1 without quotes, found \"1024\""}},
        {"MaxCompletedPodCountNegative",
         "maxCompletedPodCount: -1\n",
         {"s.yaml:1:23: maxCompletedPodCount: must be an integer >= 0, found \"-1\""}},
        {"MaxKHJobAgeWithoutUnit",
         "maxKHJobAge: 15\n",
         {"s.yaml:1:14: maxKHJobAge: invalid duration \"15\": missing unit (use ns, us, ms, s, m "
          "or h)"}},
        {"StateMetadataNotStrings",
         "stateMetadata: {a: {b: c}}\n",
         {"s.yaml:1:20: stateMetadata.a: must be a string, found a mapping"}},
        {"MetricsNotAMapping",
         "metrics: true\n",
         {"s.yaml:1:10: metrics: must be a mapping of metrics settings, found \"true\""}},
        {"MetricsUnknownKey",
         "metrics: {suppressErrorLabels: true}\n",
         {"s.yaml:1:11: metrics.suppressErrorLabels: unknown field \"suppressErrorLabels\" "
          "(allowed: suppressErrorLabel, errorLabelMaxLength, labelAllowlist, labelDenylist or "
          "labelValueMaxLength)"}},
        {"MetricsSuppressNotBool",
         "metrics:\n  suppressErrorLabel: \"yes\"\n",
         {"s.yaml:2:23: metrics.suppressErrorLabel: must be true or false without quotes, found "
          "\"yes\""}},
        {"MetricsErrorLengthNegative",
         "metrics:\n  errorLabelMaxLength: -1\n",
         {"s.yaml:2:24: metrics.errorLabelMaxLength: must be an integer >= 0, found \"-1\""}},
        {"MetricsValueLengthNotNumber",
         "metrics:\n  labelValueMaxLength: 1KiB\n",
         {"s.yaml:2:24: metrics.labelValueMaxLength: must be an integer >= 0, found \"1KiB\""}},
        {"MetricsAllowlistNotAList",
         "metrics:\n  labelAllowlist: severity\n",
         {"s.yaml:2:19: metrics.labelAllowlist: must be a list of label names, e.g. "
          "[\"severity\", \"label_team\"], found \"severity\""}},
        {"MetricsAllowlistUnknownLabel",
         "metrics:\n  labelAllowlist: [severity, team, label_a-b]\n",
         {"s.yaml:2:30: metrics.labelAllowlist[1]: invalid label \"team\" (use severity, "
          "category, run_uuid or label_<key>)",
          "s.yaml:2:36: metrics.labelAllowlist[2]: invalid label \"label_a-b\" (use severity, "
          "category, run_uuid or label_<key>)"}},
        {"MetricsAllowlistStarNotAlone",
         "metrics:\n  labelAllowlist: ['*', severity]\n",
         {"s.yaml:2:20: metrics.labelAllowlist[0]: invalid label \"*\" (\"*\" must be the only "
          "entry)"}},
        {"MetricsDenylistNoStar",
         "metrics:\n  labelDenylist: ['*']\n",
         {"s.yaml:2:19: metrics.labelDenylist[0]: invalid label \"*\" (use severity, category, "
          "run_uuid or label_<key>)"}},
        {"SeveralAtOnce",
         "logLevel: loud\nlisten: x\nstateDir: [a]\n",
         {"s.yaml:1:11: logLevel: invalid value \"loud\" (use trace, debug, info, warn or error)",
          "s.yaml:2:9: listen: invalid value \"x\" (use HOST:PORT, e.g. \"127.0.0.1:8080\", "
          "\":8080\" or \"[::1]:8080\")",
          "s.yaml:3:11: stateDir: must be a string, found a list"}},
    }),
    [](const testing::TestParamInfo<BadCase>& param) { return param.param.name; });

TEST(DaemonConfigTest, MissingFileIsOneError) {
  const DaemonConfigResult r = LoadDaemonConfig("/nonexistent/sonde.yaml");
  EXPECT_EQ(
      ErrorStrings(r),
      std::vector<std::string>{"/nonexistent/sonde.yaml: cannot read: No such file or directory"});
}

TEST(DaemonConfigTest, DirectoryIsNotAConfigFile) {
  const DaemonConfigResult r = LoadDaemonConfig(std::string(SONDE_SOURCE_DIR) + "/src/config");
  EXPECT_EQ(ErrorStrings(r), std::vector<std::string>{std::string(SONDE_SOURCE_DIR) +
                                                      "/src/config: cannot read: Is a directory"});
}

TEST(DaemonConfigTest, LoadsFile) {
  const DaemonConfigResult r =
      LoadDaemonConfig(std::string(SONDE_SOURCE_DIR) + "/src/config/testdata/sonde.yaml");
  ASSERT_EQ(ErrorStrings(r), std::vector<std::string>{});
  EXPECT_EQ(r.config.listen, ":8080");
  EXPECT_EQ(r.config.checks,
            std::vector<std::string>{std::string(SONDE_SOURCE_DIR) + "/src/config/testdata/."});
}

}  // namespace
}  // namespace sonde
