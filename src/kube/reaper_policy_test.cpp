#include "kube/reaper_policy.hpp"

#include <gtest/gtest.h>

#include <boost/json.hpp>
#include <functional>

#include "kube/json_fields.hpp"

namespace sonde::kube {
namespace {

namespace json = boost::json;
using std::chrono::hours;
using std::chrono::minutes;
using std::chrono::seconds;

const TimePoint kNow = FromUnixSeconds(1'700'000'000);

std::string KubeTime(TimePoint t) { return internal::FormatKubeTime(t); }

// A checker pod in namespace "checks" with v2 labels, its container terminated `ended_ago`
// (when the phase is Succeeded or Failed), created a minute before that.
json::object Pod(const std::string& name, const std::string& check, const std::string& run,
                 const std::string& phase, Duration ended_ago) {
  json::object status{{"phase", phase}};
  if (phase == "Succeeded" || phase == "Failed") {
    status["containerStatuses"] =
        json::array{{{"name", "main"},
                     {"state", {{"terminated", {{"finishedAt", KubeTime(kNow - ended_ago)}}}}}}};
  }
  return {{"metadata",
           {{"name", name},
            {"namespace", "checks"},
            {"uid", "uid-" + name},
            {"labels", {{"kuberhealthy-run-id", run}, {"kuberhealthy-check-name", check}}},
            {"creationTimestamp", KubeTime(kNow - ended_ago - minutes(1))}}},
          {"status", status}};
}

json::object& Meta(json::object& o) { return o["metadata"].as_object(); }

// Modifiers for Pod().
json::object V3(json::object p) {
  auto& labels = Meta(p)["labels"].as_object();
  json::object v3{{"kh-run-uuid", labels["kuberhealthy-run-id"]},
                  {"healthcheck", labels["kuberhealthy-check-name"]}};
  labels = v3;
  return p;
}
json::object InNamespace(json::object p, const std::string& ns) {
  Meta(p)["namespace"] = ns;
  return p;
}
json::object CreatedAgo(json::object p, Duration ago) {
  Meta(p)["creationTimestamp"] = KubeTime(kNow - ago);
  return p;
}
json::object BeingDeleted(json::object p) {
  Meta(p)["deletionTimestamp"] = KubeTime(kNow);
  return p;
}
json::object NoContainerStatuses(json::object p) {
  p["status"].as_object().erase("containerStatuses");
  return p;
}
// The run's KH_CHECK_RUN_DEADLINE: `timeout` after the pod's creation.
json::object WithTimeout(json::object p, Duration timeout) {
  const auto created = ParseRfc3339(Meta(p)["creationTimestamp"].as_string()).value();
  json::object deadline{{"name", "KH_CHECK_RUN_DEADLINE"},
                        {"value", std::to_string(UnixSeconds(created + timeout))}};
  json::object container{{"name", "main"}, {"env", json::array{deadline}}};
  p["spec"] = json::object{{"containers", json::array{container}}};
  return p;
}

json::object Job(const std::string& name, const std::string& phase, Duration age) {
  return {{"metadata",
           {{"name", name},
            {"namespace", "checks"},
            {"uid", "uid-" + name},
            {"creationTimestamp", KubeTime(kNow - age)}}},
          {"spec", {{"phase", phase}}}};
}
json::object State(const std::string& name, const std::string& ns = "checks") {
  return {{"metadata", {{"name", name}, {"namespace", ns}, {"uid", "uid-" + name}}}};
}

// "pods/checks/a-3 completed"
std::vector<std::string> Summary(const std::vector<ReapAction>& actions) {
  std::vector<std::string> out;
  for (const auto& a : actions) {
    out.push_back(a.resource + "/" + a.ns + "/" + a.name + " " +
                  std::string(ReasonLabel(a.reason)));
  }
  return out;
}

struct Case {
  std::string name;
  std::vector<json::object> pods;
  std::set<std::string> active;
  std::function<void(ReaperOptions&)> configure;
  std::vector<std::string> want;
};

void PrintTo(const Case& c, std::ostream* os) { *os << c.name; }

class PodRules : public ::testing::TestWithParam<Case> {};

TEST_P(PodRules, DeletesExactlyThese) {
  const Case& c = GetParam();
  ReaperInput in;
  for (const auto& p : c.pods) in.pods.push_back(&p);
  in.active_runs = c.active;
  ReaperOptions options;
  if (c.configure) c.configure(options);
  EXPECT_EQ(Summary(DecideReaping(in, kNow, options)), c.want);
}

const auto kCompleted = [](size_t n) {
  return [n](ReaperOptions& o) { o.max_completed_pod_count = n; };
};
const auto kErrors = [](size_t n) { return [n](ReaperOptions& o) { o.max_error_pod_count = n; }; };

INSTANTIATE_TEST_SUITE_P(
    ReaperPolicy, PodRules,
    ::testing::Values(
        Case{"DefaultsKeepTheFourNewestSucceeded",
             {Pod("a-1", "a", "r1", "Succeeded", minutes(1)),
              Pod("a-2", "a", "r2", "Succeeded", minutes(2)),
              Pod("a-6", "a", "r6", "Succeeded", minutes(6)),
              Pod("a-3", "a", "r3", "Succeeded", minutes(3)),
              Pod("a-5", "a", "r5", "Succeeded", minutes(5)),
              Pod("a-4", "a", "r4", "Succeeded", minutes(4))},
             {},
             nullptr,
             {"pods/checks/a-5 completed", "pods/checks/a-6 completed"}},
        Case{"ZeroKeepsNoSucceededPodOnceSettled",
             {Pod("a-1", "a", "r1", "Succeeded", minutes(1)),
              Pod("a-2", "a", "r2", "Succeeded", seconds(10))},
             {},
             kCompleted(0),
             {"pods/checks/a-1 completed"}},
        Case{"PodsEndedUnder30sAgoAreNotYetSurplus",
             {Pod("a-1", "a", "r1", "Succeeded", seconds(10)),
              Pod("a-2", "a", "r2", "Succeeded", seconds(20)),
              Pod("a-3", "a", "r3", "Succeeded", seconds(30)),
              Pod("a-4", "a", "r4", "Succeeded", seconds(31))},
             {},
             kCompleted(1),
             {"pods/checks/a-4 completed"}},
        Case{"FailedPodsCountApartFromSucceededOnes",
             {Pod("a-1", "a", "r1", "Succeeded", minutes(1)),
              Pod("a-2", "a", "r2", "Failed", minutes(2)),
              Pod("a-3", "a", "r3", "Succeeded", minutes(3)),
              Pod("a-4", "a", "r4", "Failed", minutes(4)),
              Pod("a-5", "a", "r5", "Failed", minutes(5))},
             {},
             [](ReaperOptions& o) {
               o.max_completed_pod_count = 1;
               o.max_error_pod_count = 2;
             },
             {"pods/checks/a-3 completed", "pods/checks/a-5 failed"}},
        Case{"FailedPodsPastTheRetentionGoAndDoNotCount",
             {Pod("a-1", "a", "r1", "Failed", minutes(10)),
              Pod("a-2", "a", "r2", "Failed", hours(2)), Pod("a-3", "a", "r3", "Failed", hours(3))},
             {},
             [](ReaperOptions& o) {
               o.error_pod_retention = hours(1);
               o.max_error_pod_count = 1;
             },
             {"pods/checks/a-2 failed", "pods/checks/a-3 failed"}},
        Case{"DefaultRetentionIs36h",
             {Pod("a-1", "a", "r1", "Failed", hours(35)),
              Pod("a-2", "a", "r2", "Failed", hours(37))},
             {},
             nullptr,
             {"pods/checks/a-2 failed"}},
        Case{"EndedPodsOlderThanMaxCheckPodAgeExpireWhateverTheCounts",
             {Pod("a-1", "a", "r1", "Succeeded", hours(71)),
              Pod("a-2", "a", "r2", "Succeeded", hours(73)),
              Pod("b-1", "b", "s1", "Failed", hours(2))},
             {},
             [](ReaperOptions& o) { o.error_pod_retention = hours(100); },
             {"pods/checks/a-2 expired"}},
        Case{"MaxCheckPodAgeIsAtLeast30s",
             {Pod("a-1", "a", "r1", "Succeeded", seconds(20)),
              Pod("a-2", "a", "r2", "Succeeded", seconds(40))},
             {},
             [](ReaperOptions& o) { o.max_check_pod_age = seconds(1); },
             {"pods/checks/a-2 expired"}},
        Case{
            "AgeCountsFromTheLastFinishedAtNotCreation",
            {CreatedAgo(Pod("a-1", "a", "r1", "Succeeded", hours(1)), hours(100)),
             NoContainerStatuses(CreatedAgo(Pod("b-1", "b", "s1", "Failed", hours(1)), hours(80)))},
            {},
            [](ReaperOptions& o) { o.error_pod_retention = hours(100); },
            {"pods/checks/b-1 expired"}},
        Case{"NothingOfARunInFlightWhateverItsPhaseOrAge",
             {Pod("a-1", "a", "r1", "Succeeded", hours(100)),
              Pod("a-2", "a", "r2", "Running", hours(100)),
              WithTimeout(Pod("a-3", "a", "r3", "Pending", hours(1)), minutes(1)),
              Pod("a-4", "a", "r4", "Failed", hours(40)),
              Pod("a-5", "a", "r5", "Succeeded", minutes(5))},
             {"r1", "r2", "r3", "r4", "r5"},
             kCompleted(0),
             {}},
        Case{"APodOfARunInFlightIsNotCountedAsKept",
             {Pod("a-1", "a", "r1", "Succeeded", minutes(1)),
              Pod("a-2", "a", "r2", "Succeeded", minutes(2)),
              Pod("a-3", "a", "r3", "Succeeded", minutes(3))},
             {"r1"},
             kCompleted(1),
             {"pods/checks/a-3 completed"}},
        Case{"CountsArePerCheckAndNamespace",
             {Pod("a-1", "a", "r1", "Succeeded", minutes(1)),
              Pod("a-2", "a", "r2", "Succeeded", minutes(2)),
              InNamespace(Pod("a-1", "a", "x1", "Succeeded", minutes(3)), "other"),
              InNamespace(Pod("a-2", "a", "x2", "Succeeded", minutes(4)), "other"),
              Pod("b-1", "b", "s1", "Succeeded", minutes(5))},
             {},
             kCompleted(1),
             {"pods/checks/a-2 completed", "pods/other/a-2 completed"}},
        Case{"V3LabelsGroupByTheHealthCheck",
             {V3(Pod("h-1", "h", "u1", "Succeeded", minutes(1))),
              V3(Pod("h-2", "h", "u2", "Succeeded", minutes(2))),
              V3(Pod("h-3", "h", "u3", "Running", minutes(3)))},
             {"u3"},
             kCompleted(1),
             {"pods/checks/h-2 completed"}},
        Case{
            "AStuckPodGoesAfterTwiceItsTimeout",
            {WithTimeout(CreatedAgo(Pod("a-1", "a", "r1", "Running", {}), minutes(20)), minutes(5)),
             WithTimeout(CreatedAgo(Pod("b-1", "b", "s1", "Running", {}), minutes(20)),
                         minutes(15)),
             WithTimeout(CreatedAgo(Pod("c-1", "c", "t1", "Pending", {}), minutes(8)), minutes(1)),
             WithTimeout(CreatedAgo(Pod("d-1", "d", "v1", "Unknown", {}), minutes(4)), minutes(1)),
             CreatedAgo(Pod("e-1", "e", "w1", "Running", {}), hours(10))},
            {},
            nullptr,
            {"pods/checks/a-1 timeout", "pods/checks/c-1 timeout"}},
        Case{"APodThatNeverEndedExpiresByCreation",
             {CreatedAgo(Pod("a-1", "a", "r1", "Running", {}), hours(73)),
              CreatedAgo(Pod("a-2", "a", "r2", "Running", {}), hours(71))},
             {},
             nullptr,
             {"pods/checks/a-1 expired"}},
        Case{"PodsBeingDeletedAreNeitherDeletedNorKept",
             {BeingDeleted(Pod("a-1", "a", "r1", "Succeeded", minutes(1))),
              Pod("a-2", "a", "r2", "Succeeded", minutes(2)),
              Pod("a-3", "a", "r3", "Succeeded", minutes(3)),
              BeingDeleted(Pod("b-1", "b", "s1", "Succeeded", hours(100)))},
             {},
             kCompleted(1),
             {"pods/checks/a-3 completed"}},
        Case{"UnreadablePodsAreLeftAlone",
             {json::object{{"status", {{"phase", "Succeeded"}}}},
              json::object{{"metadata", {{"namespace", "checks"}}}}, NoContainerStatuses([] {
                auto p = Pod("a-1", "a", "r1", "Succeeded", hours(100));
                Meta(p).erase("creationTimestamp");
                return p;
              }())},
             {},
             kCompleted(0),
             {}},
        Case{"APodWithoutACheckLabelOnlyExpires",
             {[] {
                auto p = Pod("x-1", "", "r1", "Succeeded", minutes(5));
                Meta(p)["labels"].as_object().erase("kuberhealthy-check-name");
                return p;
              }(),
              Pod("x-2", "", "r2", "Succeeded", hours(100))},
             {},
             kCompleted(0),
             {"pods/checks/x-2 expired"}}),
    [](const auto& param_info) { return param_info.param.name; });

TEST(ReaperPolicy, SaysWhyInTheDetail) {
  std::vector<json::object> pods = {
      Pod("a-1", "a", "r1", "Succeeded", minutes(1)),
      Pod("a-2", "a", "r2", "Succeeded", minutes(2)), Pod("b-1", "b", "s1", "Failed", hours(80)),
      WithTimeout(CreatedAgo(Pod("c-1", "c", "t1", "Running", {}), minutes(30)), minutes(5))};
  ReaperInput in;
  for (const auto& p : pods) in.pods.push_back(&p);
  ReaperOptions options;
  options.max_completed_pod_count = 1;
  const auto actions = DecideReaping(in, kNow, options);
  ASSERT_EQ(actions.size(), 3u);
  EXPECT_EQ(actions[0],
            (ReapAction{"pods", "checks", "a-2", "uid-a-2", ReapReason::kCompleted,
                        "1 newer Succeeded pods of checks/a; maxCompletedPodCount is 1"}));
  EXPECT_EQ(actions[1].detail, "Failed 80h0m0s ago; maxCheckPodAge is 72h0m0s");
  EXPECT_EQ(actions[2].detail, "Running, created 30m0s ago, its run's deadline passed 25m0s ago");
}

TEST(ReaperPolicy, FinishedJobsPastTheirAgeAndOrphanedStates) {
  std::vector<json::object> jobs = {
      Job("old-done", "Completed", minutes(20)),  // deleted
      Job("new-done", "Completed", minutes(10)),  // younger than 15m
      Job("old-running", "Running", hours(5)),    // not finished
      Job("old-new", "", hours(5)),               // not started
      Job("busy-done", "Completed", hours(5)),    // a run of it in flight
      BeingDeleted(Job("going", "Completed", hours(5))),
      [] {
        auto j = Job("no-time", "Completed", hours(5));
        Meta(j).erase("creationTimestamp");
        return j;
      }()};
  std::vector<json::object> states = {State("old-done"),  State("a-check"),
                                      State("gone"),      State("a-check", "elsewhere"),
                                      State("busy-gone"), BeingDeleted(State("going-state"))};
  std::vector<json::object> pods = {Pod("busy-done-1", "busy-done", "r1", "Running", {}),
                                    Pod("busy-gone-1", "busy-gone", "r2", "Succeeded", {})};
  ReaperInput in;
  for (const auto& j : jobs) in.khjobs.push_back(&j);
  for (const auto& s : states) in.khstates.push_back(&s);
  for (const auto& p : pods) in.pods.push_back(&p);
  in.active_runs = {"r1", "r2"};
  in.checks = {"checks/old-done",  "checks/new-done", "checks/old-running", "checks/old-new",
               "checks/busy-done", "checks/going",    "checks/no-time",     "checks/a-check"};
  EXPECT_EQ(
      Summary(DecideReaping(in, kNow, ReaperOptions{})),
      (std::vector<std::string>{"khjobs/checks/old-done khjob", "khstates/checks/gone khstate",
                                "khstates/elsewhere/a-check khstate"}));

  ReaperOptions tiny;
  tiny.max_khjob_age = seconds(1);  // raised to Kuberhealthy's 5m floor
  jobs.push_back(Job("four-minutes", "Completed", minutes(4)));
  in.khjobs.clear();  // the push may have moved them
  for (const auto& j : jobs) in.khjobs.push_back(&j);
  in.khstates.clear();
  EXPECT_EQ(
      Summary(DecideReaping(in, kNow, tiny)),
      (std::vector<std::string>{"khjobs/checks/old-done khjob", "khjobs/checks/new-done khjob"}));
  const auto actions = DecideReaping(in, kNow, tiny);
  EXPECT_EQ(actions[0].detail, "Completed, created 20m0s ago; maxKHJobAge is 5m0s");
  EXPECT_EQ(actions[0].uid, "uid-old-done");
}

TEST(ReaperPolicy, StillDueOnlyForTheSameObjectInTheSameCondition) {
  const ReapAction pod{"pods", "checks", "a-1", "uid-a-1", ReapReason::kCompleted, ""};
  const ReapAction job{"khjobs", "checks", "j", "uid-j", ReapReason::kJobCompleted, ""};
  const ReapAction state{"khstates", "checks", "s", "uid-s", ReapReason::kOrphanedState, ""};
  const json::object a1 = Pod("a-1", "a", "r1", "Succeeded", minutes(5));
  const json::object renamed = [] {
    auto p = Pod("a-1", "a", "r9", "Succeeded", minutes(5));
    Meta(p)["uid"] = "uid-recreated";
    return p;
  }();
  const json::object done = Job("j", "Completed", hours(1)), rerun = Job("j", "", hours(1));
  const json::object orphan = State("s");
  struct Row {
    std::string name;
    const ReapAction& action;
    const json::object* current;
    std::set<std::string> active;
    bool check_exists;
    bool want;
  };
  const json::object a1_deleting = BeingDeleted(a1);
  const std::vector<Row> rows = {
      {"pod unchanged", pod, &a1, {}, false, true},
      {"pod gone", pod, nullptr, {}, false, false},
      {"pod re-created under its name", pod, &renamed, {}, false, false},
      {"pod already being deleted", pod, &a1_deleting, {}, false, false},
      {"pod's run now in flight (adopted)", pod, &a1, {"r1"}, false, false},
      {"job still Completed", job, &done, {}, false, true},
      {"job set to run again", job, &rerun, {}, false, false},
      {"state still orphaned", state, &orphan, {}, false, true},
      {"state's check re-created", state, &orphan, {}, true, false},
  };
  for (const Row& r : rows) {
    EXPECT_EQ(StillDue(r.action, r.current, r.active, r.check_exists), r.want) << r.name;
  }
}

TEST(ReaperPolicy, ReasonLabelsAreKuberhealthyV3s) {
  EXPECT_EQ(ReasonLabel(ReapReason::kExpired), "expired");
  EXPECT_EQ(ReasonLabel(ReapReason::kCompleted), "completed");
  EXPECT_EQ(ReasonLabel(ReapReason::kFailed), "failed");
  EXPECT_EQ(ReasonLabel(ReapReason::kTimeout), "timeout");
  EXPECT_EQ(ReasonLabel(ReapReason::kJobCompleted), "khjob");
  EXPECT_EQ(ReasonLabel(ReapReason::kOrphanedState), "khstate");
}

}  // namespace
}  // namespace sonde::kube
