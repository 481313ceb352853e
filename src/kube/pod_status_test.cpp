#include "kube/pod_status.hpp"

#include <gtest/gtest.h>

#include "kube/kube_test_support.hpp"

namespace sonde::kube {
namespace {

using testing::Obj;

// A pod named "p" with the run label and `status` (a JSON object's text).
std::string Pod(std::string_view status) {
  return R"({"metadata":{"name":"p","labels":{"kh-run-uuid":"u1"}},)"
         R"("spec":{"nodeName":"node-1"},"status":)" +
         std::string(status) + "}";
}

std::string Terminated(std::string_view name, int code, std::string_view extra = "") {
  return R"({"name":")" + std::string(name) + R"(","restartCount":0,"state":{"terminated":)" +
         R"({"exitCode":)" + std::to_string(code) + std::string(extra) + "}}}";
}

std::string Waiting(std::string_view name, std::string_view reason, std::string_view message) {
  return R"({"name":")" + std::string(name) + R"(","state":{"waiting":{"reason":")" +
         std::string(reason) + R"(","message":")" + std::string(message) + R"("}}})";
}

struct Case {
  std::string name;
  std::string pod;
  PodPhase phase;
  std::optional<std::string> start_error;
  RunExit exit;
  std::string deadline_message;  // DeadlineMessage(pod, reported = false)
};

void PrintTo(const Case& c, std::ostream* os) { *os << c.name; }

class PodStatusTest : public ::testing::TestWithParam<Case> {};

bool operator==(const ContainerExit& a, const ContainerExit& b) {
  return a.container == b.container && a.init == b.init && a.started == b.started &&
         a.spawn_error == b.spawn_error && a.signaled == b.signaled && a.exit_code == b.exit_code &&
         a.signal == b.signal;
}

TEST_P(PodStatusTest, BecomesARunEnd) {
  const Case& c = GetParam();
  const auto pod = ReadPodStatus(Obj(c.pod));
  ASSERT_TRUE(pod.ok()) << pod.error();
  EXPECT_EQ(pod.value().phase, c.phase);
  EXPECT_EQ(StartError(pod.value()), c.start_error);
  const RunExit got = ToRunExit(pod.value());
  EXPECT_EQ(got.stderr_tail, c.exit.stderr_tail);
  ASSERT_EQ(got.containers.size(), c.exit.containers.size());
  for (size_t i = 0; i < got.containers.size(); ++i) {
    EXPECT_TRUE(got.containers[i] == c.exit.containers[i]) << "container " << i;
  }
  EXPECT_EQ(DeadlineMessage(pod.value(), false), c.deadline_message);
}

ContainerExit Exited(std::string name, int code, bool init = false) {
  return {.container = std::move(name), .init = init, .started = true, .exit_code = code};
}

INSTANTIATE_TEST_SUITE_P(
    Cases, PodStatusTest,
    ::testing::Values(
        Case{"NotYetScheduled",
             R"({"metadata":{"name":"p"}})",
             PodPhase::kPending,
             std::nullopt,
             {},
             "failed to see pod running within timeout"},
        Case{"Succeeded",
             Pod(R"({"phase":"Succeeded","initContainerStatuses":[)" + Terminated("init", 0) +
                 R"(],"containerStatuses":[)" + Terminated("main", 0) + "]}"),
             PodPhase::kSucceeded,
             std::nullopt,
             {.containers = {Exited("init", 0, true), Exited("main", 0)}},
             "timed out waiting for checker pod to report in"},
        Case{"FailedWithTerminationMessage",
             Pod(R"({"phase":"Failed","containerStatuses":[)" +
                 Terminated("main", 2, R"(,"reason":"Error","message":"cannot reach gear\n")") +
                 "]}"),
             PodPhase::kFailed,
             std::nullopt,
             {.containers = {Exited("main", 2)}, .stderr_tail = "cannot reach gear\n"},
             "timed out waiting for checker pod to report in"},
        Case{"OomKilled",
             Pod(R"({"phase":"Failed","containerStatuses":[)" +
                 Terminated("main", 137, R"(,"reason":"OOMKilled")") + "]}"),
             PodPhase::kFailed,
             std::nullopt,
             {.containers = {Exited("main", 137)}, .stderr_tail = "OOMKilled"},
             "timed out waiting for checker pod to report in"},
        Case{
            "KilledBySignal",
            Pod(R"({"phase":"Failed","containerStatuses":[)" +
                Terminated("main", 0, R"(,"signal":9)") + "]}"),
            PodPhase::kFailed,
            std::nullopt,
            {.containers = {{.container = "main", .started = true, .signaled = true, .signal = 9}}},
            "timed out waiting for checker pod to report in"},
        Case{"ImagePull",
             Pod(R"({"phase":"Pending","containerStatuses":[)" +
                 Waiting("main", "ErrImagePull", "manifest unknown") + "]}"),
             PodPhase::kPending,
             "error when waiting for pod to start: ErrImagePull (container \"main\": manifest "
             "unknown)",
             {.containers = {{.container = "main",
                              .spawn_error = "ErrImagePull: manifest unknown"}}},
             "failed to see pod running within timeout"},
        Case{"InitImagePullBackOff",
             Pod(R"({"phase":"Pending","initContainerStatuses":[)" +
                 Waiting("init", "ImagePullBackOff", "") + R"(],"containerStatuses":[)" +
                 Waiting("main", "PodInitializing", "") + "]}"),
             PodPhase::kPending,
             "error when waiting for pod to start: ImagePullBackOff (init container \"init\")",
             {.containers =
                  {{.container = "init", .init = true, .spawn_error = "ImagePullBackOff"}}},
             "failed to see pod running within timeout"},
        Case{"InvalidImageName",
             Pod(R"({"phase":"Pending","containerStatuses":[)" +
                 Waiting("main", "InvalidImageName", "bad ref") + "]}"),
             PodPhase::kPending,
             "error when waiting for pod to start: InvalidImageName (container \"main\": bad ref)",
             {.containers = {{.container = "main", .spawn_error = "InvalidImageName: bad ref"}}},
             "failed to see pod running within timeout"},
        Case{"ContainerCreatingIsNotAnError",
             Pod(R"({"phase":"Pending","containerStatuses":[)" +
                 Waiting("main", "ContainerCreating", "") + "]}"),
             PodPhase::kPending,
             std::nullopt,
             {},
             "failed to see pod running within timeout"},
        Case{"InitFailedMainNeverRan",
             Pod(R"({"phase":"Failed","initContainerStatuses":[)" + Terminated("init", 1) +
                 R"(],"containerStatuses":[)" + Waiting("main", "PodInitializing", "") + "]}"),
             PodPhase::kFailed,
             std::nullopt,
             {.containers = {Exited("init", 1, true)}},
             "timed out waiting for checker pod to report in"},
        Case{"EvictedBeforeStart",
             Pod(R"({"phase":"Failed","reason":"Evicted","message":"low on memory"})"),
             PodPhase::kFailed,
             std::nullopt,
             {.containers = {{.container = "p",
                              .spawn_error = "pod Evicted: low on memory before its containers "
                                             "ran"}}},
             "timed out waiting for checker pod to report in"},
        Case{"RunningAtDeadline",
             Pod(R"({"phase":"Running","containerStatuses":[{"name":"main",)"
                 R"("state":{"running":{"startedAt":"2024-01-02T03:04:05Z"}}}]})"),
             PodPhase::kRunning,
             std::nullopt,
             {},
             "timed out waiting for checker pod to report in"}),
    [](const auto& param_info) { return param_info.param.name; });

TEST(ReadPodStatus, Fields) {
  const auto pod = ReadPodStatus(
      Obj(R"({"metadata":{"name":"gear-1","deletionTimestamp":"2024-01-02T03:04:05Z",)"
          R"("labels":{"kuberhealthy-run-id":"u2"}},"spec":{"nodeName":"n9"},)"
          R"("status":{"phase":"Running","containerStatuses":[{"name":"main","restartCount":3,)"
          R"("state":{"running":{}}}]}})"));
  ASSERT_TRUE(pod.ok()) << pod.error();
  EXPECT_EQ(pod.value().name, "gear-1");
  EXPECT_EQ(pod.value().run_uuid, "u2");
  EXPECT_EQ(pod.value().node, "n9");
  EXPECT_TRUE(pod.value().deleting);
  EXPECT_FALSE(pod.value().Finished());
  ASSERT_EQ(pod.value().containers.size(), 1u);
  EXPECT_EQ(pod.value().containers[0].state, ContainerStatus::State::kRunning);
  EXPECT_EQ(pod.value().containers[0].restart_count, 3);
}

TEST(ReadPodStatus, Errors) {
  EXPECT_EQ(ReadPodStatus(Obj(R"({"metadata":{}})")).error(), "pod: metadata.name: missing");
  EXPECT_EQ(
      ReadPodStatus(Obj(R"({"metadata":{"name":"p"},"status":{"phase":"Exploded"}})")).error(),
      "pod p: status.phase: unknown phase \"Exploded\"");
}

TEST(DeadlineMessage, AfterAReport) {
  const auto pod = ReadPodStatus(Obj(Pod(R"({"phase":"Running"})")));
  ASSERT_TRUE(pod.ok());
  EXPECT_EQ(DeadlineMessage(pod.value(), true), "timed out waiting for pod to exit");
  EXPECT_EQ(ExecutionError({"ns", "gear"}, DeadlineMessage(pod.value(), false)),
            "Check execution error: ns/gear: timed out waiting for checker pod to report in");
}

TEST(PhaseName, All) {
  EXPECT_STREQ(PhaseName(PodPhase::kPending), "Pending");
  EXPECT_STREQ(PhaseName(PodPhase::kRunning), "Running");
  EXPECT_STREQ(PhaseName(PodPhase::kSucceeded), "Succeeded");
  EXPECT_STREQ(PhaseName(PodPhase::kFailed), "Failed");
  EXPECT_STREQ(PhaseName(PodPhase::kUnknown), "Unknown");
}

}  // namespace
}  // namespace sonde::kube
