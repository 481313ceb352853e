#include "kube/reaper_policy.hpp"

#include <gtest/gtest.h>

#include <boost/json.hpp>

#include "kube/json_fields.hpp"

namespace sonde::kube {
namespace {

namespace json = boost::json;
using std::chrono::hours;
using std::chrono::minutes;

const TimePoint kNow = FromUnixSeconds(1'700'000'000);

json::object Pod(const std::string& name, const std::string& check, const std::string& run,
                 const std::string& phase, Duration ended_ago, bool v3 = false) {
  const std::string ended = internal::FormatKubeTime(kNow - ended_ago);
  json::object labels;
  labels[v3 ? "kh-run-uuid" : "kuberhealthy-run-id"] = run;
  labels[v3 ? "healthcheck" : "kuberhealthy-check-name"] = check;
  return {
      {"metadata",
       {{"name", name},
        {"namespace", "checks"},
        {"labels", labels},
        {"creationTimestamp", internal::FormatKubeTime(kNow - ended_ago - minutes(1))}}},
      {"status",
       {{"phase", phase},
        {"containerStatuses",
         json::array{{{"name", "main"}, {"state", {{"terminated", {{"finishedAt", ended}}}}}}}}}}};
}

std::vector<std::string> Names(const std::vector<ReapAction>& actions) {
  std::vector<std::string> out;
  for (const auto& a : actions) out.push_back(a.resource + "/" + a.name);
  return out;
}

TEST(ReaperPolicy, KeepsTheNewestPodsPerCheckAndNeverTouchesARunInFlight) {
  std::vector<json::object> pods = {
      Pod("a-1", "a", "r1", "Succeeded", minutes(1)),
      Pod("a-2", "a", "r2", "Succeeded", minutes(2)),
      Pod("a-3", "a", "r3", "Succeeded", minutes(3)),  // over the limit of 2
      Pod("a-4", "a", "r4", "Running", hours(100)),    // not ended: never
      Pod("a-5", "a", "r5", "Succeeded", hours(100)),  // ended, but its run is active: never
      Pod("b-1", "b", "s1", "Failed", minutes(1)),
      Pod("b-2", "b", "s2", "Failed", minutes(2)),    // over the limit of 1
      Pod("b-3", "b", "s3", "Failed", hours(40)),     // past the 36h retention
      Pod("c-1", "c", "t1", "Succeeded", hours(80)),  // past maxCheckPodAge
      Pod("h-1", "h", "u1", "Succeeded", minutes(1), true),
      Pod("h-2", "h", "u2", "Succeeded", minutes(5), true),  // v3 labels, over the limit
      Pod("h-3", "h", "u3", "Succeeded", minutes(6), true),
  };
  ReaperInput in;
  for (const auto& p : pods) in.pods.push_back(&p);
  in.active_runs = {"r5"};
  ReaperOptions options;
  options.max_completed_pod_count = 2;
  options.max_error_pod_count = 1;
  const auto actions = DecideReaping(in, kNow, options);
  EXPECT_EQ(Names(actions),
            (std::vector<std::string>{"pods/c-1", "pods/a-3", "pods/b-2", "pods/b-3", "pods/h-3"}));
  EXPECT_EQ(actions[0].reason, "older than maxCheckPodAge");
  EXPECT_EQ(actions[1].reason, "more than maxCompletedPodCount succeeded pods");
  EXPECT_EQ(actions[2].reason, "more than maxErrorPodCount failed pods");
  EXPECT_EQ(actions[3].reason, "failed longer ago than the error pod retention");
}

TEST(ReaperPolicy, RemovesOldFinishedJobsAndOrphanedStates) {
  auto job = [](const std::string& name, const std::string& phase, Duration age) {
    return json::object{{"metadata",
                         {{"name", name},
                          {"namespace", "checks"},
                          {"creationTimestamp", internal::FormatKubeTime(kNow - age)}}},
                        {"spec", {{"phase", phase}}}};
  };
  auto state = [](const std::string& name) {
    return json::object{{"metadata", {{"name", name}, {"namespace", "checks"}}}};
  };
  std::vector<json::object> jobs = {job("old-done", "Completed", minutes(20)),
                                    job("new-done", "Completed", minutes(10)),
                                    job("old-running", "Running", hours(5))};
  std::vector<json::object> states = {state("old-done"), state("gone"), state("a-check")};
  ReaperInput in;
  for (const auto& j : jobs) in.khjobs.push_back(&j);
  for (const auto& s : states) in.khstates.push_back(&s);
  in.checks = {"checks/old-done", "checks/new-done", "checks/old-running", "checks/a-check"};
  const auto actions = DecideReaping(in, kNow, ReaperOptions{});
  EXPECT_EQ(Names(actions), (std::vector<std::string>{"khjobs/old-done", "khstates/gone"}));

  ReaperOptions tiny;
  tiny.max_khjob_age = std::chrono::seconds(1);  // raised to Kuberhealthy's 5m floor
  EXPECT_EQ(Names(DecideReaping(in, kNow, tiny)),
            (std::vector<std::string>{"khjobs/old-done", "khjobs/new-done", "khstates/gone"}));
}

}  // namespace
}  // namespace sonde::kube
