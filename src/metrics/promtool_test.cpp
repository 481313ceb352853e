// Validates rendered expositions with the real promtool (Debian's `prometheus` package):
// `promtool check metrics` for text 0.0.4 and Prometheus's OpenMetrics parser (through
// `promtool tsdb create-blocks-from openmetrics`) for OpenMetrics. A missing promtool fails.
#include <gtest/gtest.h>

#include <filesystem>
#include <memory>
#include <sstream>

#include "metrics/exposition.hpp"
#include "metrics/kuberhealthy_families.hpp"
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

// Error texts a checker may report, each a way to break an exposition that is not escaped,
// repaired or encoded right.
struct ErrorKind {
  const char* name;
  std::string text;
};

const std::vector<ErrorKind>& ErrorKinds() {
  static const std::vector<ErrorKind> kinds = {
      {"Quotes", "lookup \"db\": said \"no\" \"\""},
      {"Newlines", "line1\nline2\r\nline3\n"},
      {"Backslashes", "C:\\dir\\ \\n \\\" trailing\\"},
      {"InvalidUtf8", "\xFF\xFE \xC0\xAF \xED\xA0\x80 \xE2\x9C"},
      {"Chinese", "数据库连接失败：超时 30 秒"},
      {"Emoji", "disk full 💾🔥, retry ✅ later 👍🏽"},
      {"Everything", "\"数\\据\"\n😀\xFF é\r\t\\"},
  };
  return kinds;
}

// `n` checks: even ones fail with errors[i % size] (when there are errors), every fifth is a
// job, and each carries the error text in its extra labels too. Instruments and uptime have
// a series for every check, so every per-check family is as large as it gets.
struct ManyChecks {
  StatusSnapshot snap;
  SondeMetrics own{"0.0.0-many"};
  UptimeByCheck uptime;
};

std::unique_ptr<ManyChecks> MakeChecks(size_t n, const std::vector<std::string>& errors) {
  auto out = std::make_unique<ManyChecks>();
  const TimePoint now = metrics_test::SampleNow();
  out->snap.instance = "sonde-host";
  for (size_t i = 0; i < n; ++i) {
    auto spec = std::make_shared<CheckSpec>();
    spec->key = {"ns-" + std::to_string(i % 7), "check-" + std::to_string(i)};
    spec->kind = i % 5 == 4 ? CheckKind::kKhJob : CheckKind::kKhCheck;
    spec->run_interval = std::chrono::minutes(1);
    spec->timeout = std::chrono::seconds(30);
    const std::string error = errors.empty() ? "" : errors[i % errors.size()];
    spec->extra_labels = {{"kuberhealthy.io/severity", error}, {"team", error}};
    CheckView c{spec, {}, {}};
    c.state.ok = errors.empty() || i % 2 == 1;
    if (!c.state.ok) c.state.errors = {error, "then: " + error};
    c.state.last_run = now - std::chrono::seconds(i);
    c.state.run_duration = std::chrono::milliseconds(i * 37);
    out->snap.checks.push_back(c);
    out->own.RunFinished(spec->key, c.state.ok ? RunOutcome::kOk : RunOutcome::kFailed,
                         c.state.run_duration);
    out->uptime[spec->key] = {{{"1h", c.state.ok ? 1.0 : 0.5}}, !c.state.ok};
  }
  return out;
}

// Lines of kuberhealthy_check and kuberhealthy_job samples. A label value that leaked a raw
// newline would split its sample over two lines and change the count.
size_t StatusSeries(const std::string& text) {
  size_t n = 0;
  std::istringstream in(text);
  std::string line;
  while (std::getline(in, line)) {
    n += line.starts_with("kuberhealthy_check{") || line.starts_with("kuberhealthy_job{");
  }
  return n;
}

struct CountCase {
  std::string name;
  size_t checks;
  std::vector<std::string> errors;
};

std::vector<CountCase> CountCases() {
  std::vector<CountCase> cases = {{"NoChecks", 0, {}}};
  std::vector<std::string> all;
  for (const ErrorKind& k : ErrorKinds()) {
    cases.push_back({std::string("OneCheck") + k.name, 1, {k.text}});
    all.push_back(k.text);
  }
  cases.push_back({"ThousandChecks", 1000, all});
  return cases;
}

void PrintTo(const CountCase& c, std::ostream* os) { *os << c.name; }

class PromtoolChecks : public testing::TestWithParam<CountCase> {};

// /metrics as a daemon with 0, 1 or 1000 checks serves it, in both formats, with the default
// options and with every extra label exposed at full length.
TEST_P(PromtoolChecks, AcceptsEveryFormatAndOptionSet) {
  const auto many = MakeChecks(GetParam().checks, GetParam().errors);
  MetricsOptions all_labels;
  all_labels.label_allowlist = {};
  all_labels.label_value_max_length = 0;
  for (const MetricsOptions& opts : {MetricsOptions{}, all_labels}) {
    const auto render = [&](ExpositionFormat f) {
      return RenderMetrics(many->snap, many->own, opts, f, metrics_test::SampleNow(), many->uptime);
    };
    const std::string text = render(ExpositionFormat::kText004);
    EXPECT_EQ(StatusSeries(text), GetParam().checks) << "one status series per check";
    if (!GetParam().errors.empty()) {
      // Check 0 fails: its error text must arrive whole (only escaped), not just parse.
      std::string label = "error=\"";
      AppendEscapedLabelValue(label, ErrorLabelValue(many->snap.checks[0].state.errors, opts));
      EXPECT_NE(text.find(label + "\""), std::string::npos) << label;
    }
    ExpectPromtoolAcceptsText(text, GetParam().name);
    ExpectOpenMetricsParses(render(ExpositionFormat::kOpenMetrics100), GetParam().name);
  }
}

INSTANTIATE_TEST_SUITE_P(Counts, PromtoolChecks, testing::ValuesIn(CountCases()),
                         [](const testing::TestParamInfo<CountCase>& param) {
                           return param.param.name;
                         });

}  // namespace
}  // namespace sonde
