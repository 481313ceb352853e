#include "cli/serve_settings.hpp"

#include <gtest/gtest.h>
#include <stdlib.h>
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <optional>

namespace sonde {

void PrintTo(const MetricsOptions& m, std::ostream* os) {
  *os << "{suppress=" << m.suppress_error_label << " error_max=" << m.error_label_max_length
      << " allow=" << testing::PrintToString(m.label_allowlist)
      << " deny=" << testing::PrintToString(m.label_denylist)
      << " value_max=" << m.label_value_max_length << "}";
}

namespace {

// `sonde serve <args>` parsed and resolved exactly as main() does, with `env` set meanwhile.
Result<ServeSettings> Resolve(const std::string& args,
                              const std::vector<std::pair<std::string, std::string>>& env = {}) {
  for (const auto& [name, value] : env) setenv(name.c_str(), value.c_str(), 1);
  CLI::App app;
  ServeFlags flags;
  AddServeFlags(*app.add_subcommand("serve"), flags);
  std::string parse_error;
  try {
    app.parse("serve " + args, false);
  } catch (const CLI::ParseError& e) {
    parse_error = e.what();
  }
  for (const auto& [name, value] : env) unsetenv(name.c_str());
  if (!parse_error.empty()) return Result<ServeSettings>::Error("parse: " + parse_error);
  return ResolveServeSettings(flags);
}

// A daemon config file in a temporary directory, removed on destruction.
class ConfigFile {
 public:
  explicit ConfigFile(const std::string& yaml) {
    std::string tmpl = (std::filesystem::temp_directory_path() / "sonde-cfg-XXXXXX").string();
    const int fd = mkstemp(tmpl.data());
    if (fd >= 0) close(fd);
    path_ = tmpl;
    std::ofstream(path_) << yaml;
  }
  ~ConfigFile() { std::remove(path_.c_str()); }
  ConfigFile(const ConfigFile&) = delete;
  ConfigFile& operator=(const ConfigFile&) = delete;
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

struct MetricsCase {
  std::string name;
  std::string args;
  std::vector<std::pair<std::string, std::string>> env;
  MetricsOptions want;
};

MetricsOptions With(void (*edit)(MetricsOptions&)) {
  MetricsOptions m;
  edit(m);
  return m;
}

void PrintTo(const MetricsCase& c, std::ostream* os) { *os << c.name; }

class ServeMetricsSettingsTest : public testing::TestWithParam<MetricsCase> {};

TEST_P(ServeMetricsSettingsTest, ResolvesMetricsOptions) {
  const Result<ServeSettings> r = Resolve(GetParam().args, GetParam().env);
  ASSERT_TRUE(r.ok()) << r.error();
  EXPECT_EQ(r.value().metrics, GetParam().want);
}

INSTANTIATE_TEST_SUITE_P(
    Flags, ServeMetricsSettingsTest,
    testing::ValuesIn(std::vector<MetricsCase>{
        {"Defaults", "", {}, MetricsOptions{}},
        {"SuppressFlag", "--metrics-suppress-error-label", {}, With([](MetricsOptions& m) {
           m.suppress_error_label = true;
         })},
        {"SuppressFlagFalse", "--metrics-suppress-error-label=false", {}, MetricsOptions{}},
        {"SuppressEnv",
         "",
         {{"SONDE_METRICS_SUPPRESS_ERROR_LABEL", "true"}},
         With([](MetricsOptions& m) { m.suppress_error_label = true; })},
        {"Lengths",
         "--metrics-error-label-max-length 100 --metrics-label-value-max-length 0",
         {},
         With([](MetricsOptions& m) {
           m.error_label_max_length = 100;
           m.label_value_max_length = 0;
         })},
        {"LengthsEnv",
         "",
         {{"SONDE_METRICS_ERROR_LABEL_MAX_LENGTH", "64"},
          {"SONDE_METRICS_LABEL_VALUE_MAX_LENGTH", "32"}},
         With([](MetricsOptions& m) {
           m.error_label_max_length = 64;
           m.label_value_max_length = 32;
         })},
        {"Lists",
         "--metrics-label-allowlist severity,label_team --metrics-label-denylist run_uuid",
         {},
         With([](MetricsOptions& m) {
           m.label_allowlist = {"severity", "label_team"};
           m.label_denylist = {"run_uuid"};
         })},
        {"AllowEverything", "--metrics-label-allowlist '*'", {}, With([](MetricsOptions& m) {
           m.label_allowlist = {};
         })},
        {"ListsEnv",
         "",
         {{"SONDE_METRICS_LABEL_ALLOWLIST", "*"},
          {"SONDE_METRICS_LABEL_DENYLIST", "label_a,label_b"}},
         With([](MetricsOptions& m) {
           m.label_allowlist = {};
           m.label_denylist = {"label_a", "label_b"};
         })},
    }),
    [](const testing::TestParamInfo<MetricsCase>& param) { return param.param.name; });

struct BadFlagCase {
  std::string name;
  std::string args;
  std::string want;
};

void PrintTo(const BadFlagCase& c, std::ostream* os) { *os << c.name; }

class ServeMetricsBadFlagTest : public testing::TestWithParam<BadFlagCase> {};

TEST_P(ServeMetricsBadFlagTest, ReportsExactError) {
  const Result<ServeSettings> r = Resolve(GetParam().args);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error(), GetParam().want);
}

INSTANTIATE_TEST_SUITE_P(
    Rules, ServeMetricsBadFlagTest,
    testing::ValuesIn(std::vector<BadFlagCase>{
        {"SuppressNotBool", "--metrics-suppress-error-label=maybe",
         "--metrics-suppress-error-label: \"maybe\" is not true or false"},
        {"LengthNotNumber", "--metrics-error-label-max-length 1k",
         "--metrics-error-label-max-length: \"1k\" is not a whole number of bytes (0 = "
         "unlimited)"},
        {"ValueLengthNotNumber", "--metrics-label-value-max-length ' 5'",
         "--metrics-label-value-max-length: \" 5\" is not a whole number of bytes (0 = "
         "unlimited)"},
        {"AllowUnknownLabel", "--metrics-label-allowlist severity,team",
         "--metrics-label-allowlist: invalid label \"team\" (use severity, category, run_uuid or "
         "label_<key>)"},
        {"AllowStarNotAlone", "--metrics-label-allowlist '*,severity'",
         "--metrics-label-allowlist: invalid label \"*\" (\"*\" must be the only entry)"},
        {"DenyStar", "--metrics-label-denylist '*'",
         "--metrics-label-denylist: invalid label \"*\" (use severity, category, run_uuid or "
         "label_<key>)"},
    }),
    [](const testing::TestParamInfo<BadFlagCase>& param) { return param.param.name; });

TEST(ServeMetricsSettings, FlagsWinOverTheConfigFile) {
  const ConfigFile file(
      "metrics:\n  suppressErrorLabel: true\n  errorLabelMaxLength: 10\n  labelAllowlist: []\n"
      "  labelDenylist: [run_uuid]\n  labelValueMaxLength: 20\n");
  const Result<ServeSettings> from_file = Resolve("--config " + file.path());
  ASSERT_TRUE(from_file.ok()) << from_file.error();
  EXPECT_EQ(from_file.value().metrics, With([](MetricsOptions& m) {
              m.suppress_error_label = true;
              m.error_label_max_length = 10;
              m.label_allowlist = {};
              m.label_denylist = {"run_uuid"};
              m.label_value_max_length = 20;
            }));
  const Result<ServeSettings> flags =
      Resolve("--config " + file.path() +
              " --metrics-suppress-error-label=false --metrics-label-allowlist category");
  ASSERT_TRUE(flags.ok()) << flags.error();
  EXPECT_FALSE(flags.value().metrics.suppress_error_label);
  EXPECT_EQ(flags.value().metrics.label_allowlist, std::set<std::string>{"category"});
  EXPECT_EQ(flags.value().metrics.error_label_max_length, 10u);
}

TEST(ServeMetricsSettings, BadConfigFileValueNamesTheFileAndKey) {
  const ConfigFile file("metrics:\n  labelDenylist: [team]\n");
  const Result<ServeSettings> r = Resolve("--config " + file.path());
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error(), "invalid config file:\n  " + file.path() +
                           ":2:19: metrics.labelDenylist[0]: invalid label \"team\" (use "
                           "severity, category, run_uuid or label_<key>)");
}

// The reaper's settings: defaults, Kuberhealthy's environment variables, v2's config keys,
// flags over both.
struct ReaperCase {
  std::string name;
  std::string args;
  std::vector<std::pair<std::string, std::string>> env;
  std::string config;             // a config file's YAML, or "" for none
  std::vector<std::string> want;  // interval, pod age, completed, errors, retention, job age
};

void PrintTo(const ReaperCase& c, std::ostream* os) { *os << c.name; }

class ServeReaperSettingsTest : public testing::TestWithParam<ReaperCase> {};

TEST_P(ServeReaperSettingsTest, Resolves) {
  const ReaperCase& c = GetParam();
  std::optional<ConfigFile> file;
  std::string args = c.args;
  if (!c.config.empty()) {
    file.emplace(c.config);
    args += " --config " + file->path();
  }
  const Result<ServeSettings> r = Resolve(args, c.env);
  ASSERT_TRUE(r.ok()) << r.error();
  const KubeSettings& k = r.value().kube;
  EXPECT_EQ((std::vector<std::string>{
                FormatGoDuration(k.reaper_interval), FormatGoDuration(k.max_check_pod_age),
                std::to_string(k.max_completed_pod_count), std::to_string(k.max_error_pod_count),
                FormatGoDuration(k.error_pod_retention), FormatGoDuration(k.max_khjob_age)}),
            c.want);
}

INSTANTIATE_TEST_SUITE_P(
    Reaper, ServeReaperSettingsTest,
    testing::Values(
        ReaperCase{
            "KuberhealthyDefaults", "", {}, "", {"30s", "72h0m0s", "4", "4", "36h0m0s", "15m0s"}},
        ReaperCase{"Flags",
                   "--reaper-interval 1m --max-check-pod-age 1h --max-completed-pod-count 0 "
                   "--max-error-pod-count 2 --error-pod-retention 2h --max-khjob-age 5m",
                   {},
                   "",
                   {"1m0s", "1h0m0s", "0", "2", "2h0m0s", "5m0s"}},
        ReaperCase{"KuberhealthyEnvironment",
                   "",
                   {{"CHECK_REAPER_RUN_INTERVAL", "10s"},
                    {"KH_MAX_CHECK_POD_AGE", "48h"},
                    {"KH_MAX_COMPLETED_POD_COUNT", "1"},
                    {"KH_MAX_ERROR_POD_COUNT", "3"},
                    {"KH_ERROR_POD_RETENTION_TIME", "12h"},
                    {"KH_MAX_KHJOB_AGE", "20m"}},
                   "",
                   {"10s", "48h0m0s", "1", "3", "12h0m0s", "20m0s"}},
        ReaperCase{"KuberhealthyV2ConfigKeys",
                   "",
                   {},
                   "maxCheckPodAge: 24h\nmaxCompletedPodCount: 1\nmaxErrorPodCount: 0\n"
                   "maxKHJobAge: 1h\n",
                   {"30s", "24h0m0s", "1", "0", "36h0m0s", "1h0m0s"}},
        ReaperCase{"FlagsWinOverTheConfigFile",
                   "--max-completed-pod-count 2 --max-khjob-age 6m",
                   {},
                   "maxCompletedPodCount: 1\nmaxKHJobAge: 1h\n",
                   {"30s", "72h0m0s", "2", "4", "36h0m0s", "6m0s"}}),
    [](const auto& param_info) { return param_info.param.name; });

TEST(ServeReaperSettings, BadValuesNameTheFlag) {
  const std::vector<std::pair<std::string, std::string>> rows = {
      {"--max-completed-pod-count -1", "--max-completed-pod-count"},
      {"--max-error-pod-count lots", "--max-error-pod-count"},
      {"--max-check-pod-age 3", "--max-check-pod-age"},
      {"--reaper-interval 0s", "--reaper-interval"},
  };
  for (const auto& [args, flag] : rows) {
    const Result<ServeSettings> r = Resolve(args);
    ASSERT_FALSE(r.ok()) << args;
    EXPECT_NE(r.error().find(flag), std::string::npos) << args << ": " << r.error();
  }
}

}  // namespace
}  // namespace sonde
