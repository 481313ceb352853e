// Validates rendered expositions with the real promtool (Debian's `prometheus` package):
// `promtool check metrics` for text 0.0.4 and Prometheus's OpenMetrics parser (through
// `promtool tsdb create-blocks-from openmetrics`) for OpenMetrics. A missing promtool fails.
#include <gtest/gtest.h>

#include <filesystem>
#include <sstream>

#include "metrics/exposition.hpp"
#include "metrics/metrics_test_support.hpp"

namespace sonde {
namespace {

using metrics_test::Promtool;
using metrics_test::RunCommand;

void ExpectPromtoolAcceptsText(const std::string& text, const std::string& what) {
  const auto r = RunCommand({Promtool(), "check", "metrics"}, text);
  EXPECT_EQ(r.exit_code, 0) << what << ": promtool check metrics said:\n"
                            << r.output.substr(0, 4000)
                            << (r.exit_code == 127 ? "\n(promtool missing: apt-get install "
                                                     "prometheus)"
                                                   : "");
}

// Backfilling needs a timestamp on every sample; the parser is the one Prometheus scrapes with.
void ExpectOpenMetricsParses(const std::string& om, const std::string& what) {
  std::istringstream in(om);
  std::string line;
  std::string stamped;
  while (std::getline(in, line)) {
    stamped += line;
    if (!line.empty() && line[0] != '#') stamped += " 1614578889";
    stamped += '\n';
  }
  namespace fs = std::filesystem;
  std::string dir = (fs::temp_directory_path() / "sonde-om-XXXXXX").string();
  ASSERT_NE(mkdtemp(dir.data()), nullptr);
  const std::string input = dir + "/input.om";
  {
    FILE* f = fopen(input.c_str(), "wb");
    ASSERT_NE(f, nullptr);
    fwrite(stamped.data(), 1, stamped.size(), f);
    fclose(f);
  }
  const auto r =
      RunCommand({Promtool(), "tsdb", "create-blocks-from", "openmetrics", input, dir + "/blocks"});
  EXPECT_EQ(r.exit_code, 0) << what << ": Prometheus's OpenMetrics parser said:\n"
                            << r.output.substr(0, 4000);
  fs::remove_all(dir);
}

// A failing check whose errors and labels are `hostile`.
StatusSnapshot Hostile(const std::string& hostile) {
  StatusSnapshot snap = metrics_test::SampleSnapshot();
  CheckView& bad = snap.checks[1];
  bad.state.errors = {hostile, "second " + hostile};
  auto spec = std::make_shared<CheckSpec>(*bad.spec);
  spec->extra_labels = {{"kuberhealthy.io/severity", hostile}, {"team", hostile}};
  bad.spec = spec;
  snap.instance = hostile;
  return snap;
}

constexpr char kControl[] = "nul\0 tab\t bell\a del\x7f esc\x1b";

std::string AllBytes() {
  std::string s;
  for (int i = 0; i < 256; ++i) s += static_cast<char>(i);
  return s;
}

// The validators must be able to say no, or the tests below prove nothing.
TEST(Promtool, RejectsBrokenExpositions) {
  EXPECT_NE(RunCommand({Promtool(), "check", "metrics"}, "x{a=\"b} 1\n").exit_code, 0);
  EXPECT_NE(RunCommand({Promtool(), "check", "metrics"}, "x{a=\"\\q\"} 1\n").exit_code, 0);
  EXPECT_NE(RunCommand({Promtool(), "check", "metrics"}, "x{a=\"\xff\"} 1\n").exit_code, 0);
  const std::string om = "# TYPE x gauge\nx{a=\"b\"} 1 1614578889\n";
  namespace fs = std::filesystem;
  std::string dir = (fs::temp_directory_path() / "sonde-om-XXXXXX").string();
  ASSERT_NE(mkdtemp(dir.data()), nullptr);
  FILE* f = fopen((dir + "/in").c_str(), "wb");
  ASSERT_NE(f, nullptr);
  fwrite(om.data(), 1, om.size(), f);  // no "# EOF"
  fclose(f);
  EXPECT_NE(RunCommand({Promtool(), "tsdb", "create-blocks-from", "openmetrics", dir + "/in",
                        dir + "/out"})
                .exit_code,
            0);
  fs::remove_all(dir);
}

TEST(Promtool, AcceptsTheSample) {
  ExpectPromtoolAcceptsText(metrics_test::RenderSample(ExpositionFormat::kText004), "sample");
  ExpectOpenMetricsParses(metrics_test::RenderSample(ExpositionFormat::kOpenMetrics100), "sample");
}

TEST(Promtool, AcceptsHostileErrorStrings) {
  struct Case {
    const char* name;
    std::string value;
  };
  std::string megabyte;
  for (int i = 0; megabyte.size() < (1 << 20); ++i) megabyte += "\"\\\n\xFF\xC3 x" + AllBytes();
  const Case cases[] = {
      {"quotes", "he said \"no\" and \"\"\""},
      {"backslashes", "C:\\dir\\ \\\\ \\n \\\" trailing\\"},
      {"newlines", "line1\nline2\r\nline3\n\n"},
      {"injection", "x\"} 1\n# HELP kuberhealthy_check fake\n# EOF\nfake{a=\"b\"} 2\n"},
      {"control bytes", std::string(kControl, sizeof kControl - 1)},
      {"invalid utf-8", "\xFF\xFE \xC0\xAF \xED\xA0\x80 \xF4\x90\x80\x80 \xE2\x9C"},
      {"every byte", AllBytes()},
      {"empty", ""},
      {"one megabyte", megabyte},
  };
  MetricsOptions all_labels;
  all_labels.label_allowlist = {};
  all_labels.label_value_max_length = 0;
  for (const Case& c : cases) {
    const StatusSnapshot snap = Hostile(c.value);
    for (const MetricsOptions& opts : {MetricsOptions{}, all_labels}) {
      const SondeMetrics own("v\"1\n" + c.value);
      ExpectPromtoolAcceptsText(
          RenderMetrics(snap, own, opts, ExpositionFormat::kText004, metrics_test::SampleNow()),
          c.name);
      ExpectOpenMetricsParses(RenderMetrics(snap, own, opts, ExpositionFormat::kOpenMetrics100,
                                            metrics_test::SampleNow()),
                              c.name);
    }
  }
}

}  // namespace
}  // namespace sonde
