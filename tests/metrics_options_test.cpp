// MetricsOptions reach /metrics from the command line, the environment and the config file:
// a real `sonde serve` with a failing check, its /metrics read back.
#include <gtest/gtest.h>

#include <sstream>

#include "support/checks.hpp"

namespace sonde::testing {
namespace {

using std::chrono::seconds;

// The failing check's kuberhealthy_check sample line, or "" when /metrics has none yet.
std::string FailingStatusLine(const DaemonProcess& d) {
  std::istringstream in(d.Get("/metrics").body);
  std::string line;
  while (std::getline(in, line)) {
    if (line.starts_with("kuberhealthy_check{check=\"default/failing\"")) return line;
  }
  return "";
}

struct OptionsCase {
  std::string name;
  std::vector<std::string> args;  // extra `sonde serve` arguments
  std::string config;             // when not empty, a config file passed with --config
  std::vector<std::string> want;  // substrings of the status line
  std::vector<std::string> not_want;
};

void PrintTo(const OptionsCase& c, std::ostream* os) { *os << c.name; }

class MetricsOptionsTest : public ::testing::TestWithParam<OptionsCase> {};

TEST_P(MetricsOptionsTest, ShapeTheStatusSeries) {
  TempDir checks;
  checks.Write("errors.sh", kReportErrors, true);
  checks.Write("bad.yaml", CheckYaml({.name = "failing", .script = "errors.sh"}) +
                               "  extraLabels:\n    team: sre\n");
  std::vector<std::string> args = GetParam().args;
  TempDir config;
  if (!GetParam().config.empty()) {
    config.Write("sonde.yaml", GetParam().config);
    args.insert(args.end(), {"--config", config.path() + "/sonde.yaml"});
  }
  DaemonProcess d(checks.path(), args);
  std::string line;
  ASSERT_TRUE(Eventually([&] { return !(line = FailingStatusLine(d)).empty(); }, seconds(20)))
      << d.Get("/metrics").body << "\n"
      << d.log();
  for (const std::string& w : GetParam().want) EXPECT_NE(line.find(w), std::string::npos) << w;
  for (const std::string& w : GetParam().not_want) {
    EXPECT_EQ(line.find(w), std::string::npos) << w << " in " << line;
  }
}

INSTANTIATE_TEST_SUITE_P(
    Options, MetricsOptionsTest,
    ::testing::ValuesIn(std::vector<OptionsCase>{
        {"Defaults",
         {},
         "",
         {"status=\"0\",error=\"disk /data is full|db replica lag 30s\"}"},
         {"label_team"}},
        {"SuppressErrorLabelFlag",
         {"--metrics-suppress-error-label"},
         "",
         {"kuberhealthy_check{check=\"default/failing\",namespace=\"default\",status=\"0\"} 0"},
         {"error="}},
        {"ConfigFile",
         {},
         "metrics:\n  errorLabelMaxLength: 9\n  labelAllowlist: ['*']\n",
         {"error=\"disk /dat\"", "label_team=\"sre\""},
         {"replica"}},
        {"FlagWinsOverConfigFile",
         {"--metrics-label-denylist", "label_team"},
         "metrics:\n  suppressErrorLabel: true\n  labelAllowlist: ['*']\n",
         {"status=\"0\""},
         {"error=", "label_team"}},
    }),
    [](const ::testing::TestParamInfo<OptionsCase>& param) { return param.param.name; });

}  // namespace
}  // namespace sonde::testing
