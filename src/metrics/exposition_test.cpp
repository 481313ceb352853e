#include "metrics/exposition.hpp"

#include <gtest/gtest.h>

#include "metrics/kuberhealthy_families.hpp"
#include "metrics/metrics_test_support.hpp"

namespace sonde {
namespace {

using metrics_test::RenderSample;
using metrics_test::SampleNow;
using metrics_test::SampleOwnMetrics;
using metrics_test::SampleSnapshot;
using metrics_test::SampleUptime;

std::string Render(const StatusSnapshot& snap, const MetricsOptions& opts = {}) {
  return RenderMetrics(snap, SampleOwnMetrics(), opts, ExpositionFormat::kText004, SampleNow(),
                       SampleUptime());
}

bool Has(const std::string& text, const std::string& needle) {
  return text.find(needle) != std::string::npos;
}

TEST(RenderMetrics, TextMatchesGolden) {
  metrics_test::ExpectGolden("metrics.golden", RenderSample(ExpositionFormat::kText004));
}

TEST(RenderMetrics, OpenMetricsMatchesGolden) {
  metrics_test::ExpectGolden("openmetrics.golden", RenderSample(ExpositionFormat::kOpenMetrics100));
}

TEST(RenderMetrics, IsDeterministic) {
  EXPECT_EQ(RenderSample(ExpositionFormat::kText004), RenderSample(ExpositionFormat::kText004));
}

TEST(ChooseFormat, NegotiatesOpenMetricsOnlyWhenAsked) {
  struct Case {
    const char* accept;
    ExpositionFormat want;
  };
  const auto om = ExpositionFormat::kOpenMetrics100;
  const auto text = ExpositionFormat::kText004;
  const Case cases[] = {
      {"", text},
      {"*/*", text},
      {"text/plain; version=0.0.4", text},
      // Prometheus 2.x's scrape header.
      {"application/openmetrics-text;version=1.0.0,application/openmetrics-text;version=0.0.1;"
       "q=0.75,text/plain;version=0.0.4;q=0.5,*/*;q=0.1",
       om},
      {"application/openmetrics-text", om},
      {"Application/OpenMetrics-Text; Version=1.0.0; charset=utf-8", om},
      {"application/openmetrics-text; version=0.0.1", om},
      {"application/openmetrics-text; version=2.0.0", text},
      {"application/openmetrics-text;q=0", text},
      {"text/plain;q=1, application/openmetrics-text;q=0.3", text},
      {"application/json", text},
  };
  for (const Case& c : cases) EXPECT_EQ(ChooseFormat(c.accept), c.want) << c.accept;
}

TEST(RenderMetrics, DeletedCheckSeriesDisappear) {
  StatusSnapshot snap = SampleSnapshot();
  const std::string before = Render(snap);
  ASSERT_TRUE(Has(before, "check=\"default/db-replica\""));
  std::erase_if(snap.checks, [](const CheckView& c) { return c.spec->key.name == "db-replica"; });
  const std::string after = Render(snap);
  EXPECT_FALSE(Has(after, "db-replica")) << after;
  EXPECT_FALSE(Has(after, "deleted-check")) << "series the instruments still hold are hidden";
  EXPECT_TRUE(Has(after, "check=\"kuberhealthy/dns-status-internal\""));
  EXPECT_TRUE(Has(after, "kuberhealthy_cluster_state 1\n"));
}

TEST(RenderMetrics, ClusterState) {
  struct Case {
    const char* name;
    bool all_ok;
    bool load_error;
    const char* want;
  };
  const Case cases[] = {{"failing check", false, false, "kuberhealthy_cluster_state 0\n"},
                        {"all ok", true, false, "kuberhealthy_cluster_state 1\n"},
                        {"load error", true, true, "kuberhealthy_cluster_state 0\n"}};
  for (const Case& c : cases) {
    StatusSnapshot snap = SampleSnapshot();
    if (c.all_ok) {
      for (CheckView& v : snap.checks) v.state.ok = true;  // the never-run one stays hidden
    }
    if (c.load_error) snap.load_errors = {"checks/x.yaml:1:1: kind: unknown"};
    EXPECT_TRUE(Has(Render(snap), c.want)) << c.name;
  }
}

TEST(RenderMetrics, KuberhealthyV2Shapes) {
  const std::string m = Render(SampleSnapshot());
  EXPECT_TRUE(Has(m, "kuberhealthy_running{current_master=\"sonde-host\"} 1\n"));
  EXPECT_TRUE(Has(m,
                  "kuberhealthy_job{check=\"default/migrate-once\",namespace=\"default\","
                  "status=\"1\",error=\"\"} 1\n"));
  EXPECT_FALSE(Has(m, "kuberhealthy_check{check=\"default/migrate-once\""));
  EXPECT_TRUE(Has(m,
                  "kuberhealthy_job_duration_seconds{check=\"default/migrate-once\","
                  "namespace=\"default\"} 68.486351\n"));
  EXPECT_TRUE(Has(m,
                  "kuberhealthy_check{check=\"default/db-replica\",namespace=\"default\","
                  "status=\"0\",error=\"lookup 'db': no such host|C:\\\\path\\nsecond line\"} "
                  "0\n"))
      << m;
  for (const std::string line :
       {"kuberhealthy_check{check=\"default/new-check\"",
        "kuberhealthy_check_success_total{check=\"default/new-check\"",
        "sonde_check_last_result_timestamp_seconds{check=\"default/new-check\""}) {
    EXPECT_FALSE(Has(m, line)) << "checks without a result have no result series: " << line;
  }
  EXPECT_TRUE(Has(m,
                  "sonde_check_run_interval_seconds{check=\"default/new-check\","
                  "namespace=\"default\"} 600\n"));
}

TEST(RenderMetrics, SecondsSinceSuccessIsMinusOneWhenNeverOk) {
  StatusSnapshot snap = SampleSnapshot();
  snap.checks[1].state.last_ok.reset();
  EXPECT_TRUE(Has(Render(snap),
                  "kuberhealthy_check_seconds_since_success{check=\"default/"
                  "db-replica\",namespace=\"default\"} -1\n"));
}

TEST(RenderMetrics, ErrorLabelOptions) {
  MetricsOptions suppress;
  suppress.suppress_error_label = true;
  const std::string m = Render(SampleSnapshot(), suppress);
  EXPECT_FALSE(Has(m, "error=")) << m;
  EXPECT_TRUE(Has(m,
                  "kuberhealthy_check{check=\"default/db-replica\",namespace=\"default\","
                  "status=\"0\"} 0\n"));

  MetricsOptions cap;
  cap.error_label_max_length = 6;
  EXPECT_TRUE(Has(Render(SampleSnapshot(), cap), "error=\"lookup\"}"));
  EXPECT_EQ(ErrorLabelValue({"\xE2\x9C\x93\xE2\x9C\x93"}, cap), "\xE2\x9C\x93\xE2\x9C\x93");
  cap.error_label_max_length = 5;
  EXPECT_EQ(ErrorLabelValue({"\xE2\x9C\x93\xE2\x9C\x93"}, cap), "\xE2\x9C\x93");
  EXPECT_EQ(ErrorLabelValue({"a\"b", "c"}, {}), "a'b|c");
  EXPECT_EQ(ErrorLabelValue({}, {}), "");
}

TEST(ExtraLabels, AllowAndDenyLists) {
  const CheckView ok = SampleSnapshot().checks[0];
  struct Case {
    const char* name;
    std::set<std::string> allow, deny;
    std::vector<std::string> want;  // label names, sorted
  };
  const Case cases[] = {
      {"default", {"severity", "category"}, {}, {"category", "severity"}},
      {"deny wins", {"severity", "category"}, {"category"}, {"severity"}},
      {"empty allows all", {}, {}, {"category", "label_team", "run_uuid", "severity"}},
      {"generic label", {"label_team"}, {}, {"label_team"}},
      {"none", {"nothing"}, {}, {}},
  };
  for (const Case& c : cases) {
    MetricsOptions opts;
    opts.label_allowlist = c.allow;
    opts.label_denylist = c.deny;
    std::vector<std::string> got;
    for (const Label& l : ExtraLabels(ok, opts)) got.push_back(l.name);
    EXPECT_EQ(got, c.want) << c.name;
  }
}

TEST(ExtraLabels, ValuesAreSanitisedAndCut) {
  EXPECT_EQ(SanitizeExtraLabelValue("dns\"core\nnet\r!", 0), "dns'core net !");
  EXPECT_EQ(SanitizeExtraLabelValue(std::string(300, 'x'), 256), std::string(256, 'x'));
  EXPECT_EQ(SanitizeExtraLabelValue("\xFF", 0), "\xEF\xBF\xBD");
  const std::string m = Render(SampleSnapshot());
  EXPECT_TRUE(Has(m,
                  "kuberhealthy_check{check=\"kuberhealthy/dns-status-internal\","
                  "namespace=\"kuberhealthy\",status=\"1\",error=\"\",category=\"dns'core "
                  "net\",severity=\"critical\"} 1\n"))
      << m;
}

}  // namespace
}  // namespace sonde
