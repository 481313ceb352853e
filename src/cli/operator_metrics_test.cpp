#include "cli/operator_metrics.hpp"

#include <gtest/gtest.h>

namespace sonde {
namespace {

std::string Text(const OperatorCounters& c) {
  std::string out;
  for (const Family& f : OperatorFamilies(c)) WriteFamily(f, ExpositionFormat::kText004, out);
  return out;
}

TEST(OperatorMetricsTest, Families) {
  OperatorCounters c;
  c.api_requests = 42;
  c.informers["pods"] = {.lists = 2, .watches = 9, .gone = 1, .errors = 3};
  c.informers["khchecks"] = {.lists = 1, .watches = 4, .gone = 0, .errors = 0};
  c.events_recorded = 5;
  const std::string follower = Text(c);
  EXPECT_NE(follower.find("sonde_kube_api_requests_total 42\n"), std::string::npos) << follower;
  EXPECT_NE(follower.find("sonde_kube_informer_lists_total{resource=\"pods\"} 2\n"),
            std::string::npos);
  EXPECT_NE(follower.find("sonde_kube_informer_expired_total{resource=\"pods\"} 1\n"),
            std::string::npos);
  EXPECT_NE(follower.find("sonde_kube_informer_errors_total{resource=\"khchecks\"} 0\n"),
            std::string::npos);
  EXPECT_NE(follower.find("sonde_kube_events_total{result=\"recorded\"} 5\n"), std::string::npos);
  EXPECT_EQ(follower.find("kuberhealthy_reaper"), std::string::npos)
      << "a replica that never reaped has no reaper families";

  c.reaper_last_sweep = std::chrono::milliseconds(1500);
  c.reaper_deleted_pods["completed"] = 3;
  const std::string leader = Text(c);
  EXPECT_NE(leader.find("# HELP kuberhealthy_reaper_deleted_pods_total Shows the total pods "
                        "deleted by the reaper\n# TYPE kuberhealthy_reaper_deleted_pods_total "
                        "counter\n"
                        "kuberhealthy_reaper_deleted_pods_total{reason=\"completed\"} 3\n"
                        "kuberhealthy_reaper_deleted_pods_total{reason=\"expired\"} 0\n"
                        "kuberhealthy_reaper_deleted_pods_total{reason=\"failed\"} 0\n"
                        "kuberhealthy_reaper_deleted_pods_total{reason=\"timeout\"} 0\n"),
            std::string::npos)
      << leader;
  EXPECT_NE(leader.find("kuberhealthy_reaper_last_sweep_duration_seconds 1.5\n"),
            std::string::npos);
}

}  // namespace
}  // namespace sonde
