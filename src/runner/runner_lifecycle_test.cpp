// LocalProcessRunner lifecycle with real processes: Terminate, leftovers, logs, fds, load,
// KillAll and destruction.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <csignal>

#include "runner/local_process_runner.hpp"
#include "runner/runner_test_support.hpp"

namespace sonde {
namespace {

using ::sonde::testing::CountOpenFds;
using ::sonde::testing::CountProcesses;
using ::sonde::testing::Harness;
using ::sonde::testing::MakeContainer;
using ::sonde::testing::MakeRequest;
using ::sonde::testing::MakeSpec;
using std::chrono::milliseconds;

bool AllDone(const std::vector<std::shared_ptr<std::optional<RunExit>>>& slots) {
  return std::all_of(slots.begin(), slots.end(), [](const auto& s) { return s->has_value(); });
}
using ::testing::HasSubstr;

LocalRunnerOptions ShortGrace() {
  LocalRunnerOptions o;
  o.kill_grace = milliseconds(200);
  return o;
}

// Runs until the run's log shows `text` (the checker reached that point).
bool WaitForLog(Harness& h, const CheckKey& key, const std::string& text) {
  return h.RunUntil([&] {
    auto logs = h.runner().Logs(key);
    return !logs.empty() && logs.back().output.find(text) != std::string::npos;
  });
}

TEST(RunnerLifecycleTest, TerminateKillsAfterGraceWhenSigtermIsIgnored) {
  Harness h(ShortGrace());
  const RunRequest req = MakeRequest(
      MakeSpec({MakeContainer("stubborn", {"sh", "-c", "trap '' TERM; echo ready; sleep 30"})}));
  auto slot = h.Start(req);
  ASSERT_TRUE(WaitForLog(h, req.spec->key, "[stubborn] ready"));
  const auto t0 = std::chrono::steady_clock::now();
  h.runner().Terminate(req.run_uuid);
  ASSERT_TRUE(h.RunUntil([&] { return slot->has_value(); }));
  const auto elapsed = std::chrono::steady_clock::now() - t0;
  const RunExit& exit = **slot;
  EXPECT_TRUE(exit.terminated);
  EXPECT_TRUE(exit.containers[0].signaled);
  EXPECT_EQ(exit.containers[0].signal, SIGKILL);
  EXPECT_GE(elapsed, milliseconds(190));
  EXPECT_LT(elapsed, milliseconds(3000));
  EXPECT_EQ(CountProcesses(req.run_uuid), 0u);
}

TEST(RunnerLifecycleTest, TerminateEndsPromptlyOnSigtermAndSkipsPendingInits) {
  Harness h;  // 5 s grace: SIGTERM alone must end it
  const RunRequest req =
      MakeRequest(MakeSpec({MakeContainer("main", {"true"})},
                           {MakeContainer("init1", {"sh", "-c", "echo ready; exec sleep 30"}),
                            MakeContainer("init2", {"true"})}));
  auto slot = h.Start(req);
  ASSERT_TRUE(WaitForLog(h, req.spec->key, "[init1] ready"));
  h.runner().Terminate(req.run_uuid);
  h.runner().Terminate(req.run_uuid);  // twice is harmless
  ASSERT_TRUE(h.RunUntil([&] { return slot->has_value(); }, milliseconds(3000)));
  ASSERT_EQ((*slot)->containers.size(), 1u);
  EXPECT_TRUE((*slot)->terminated);
  EXPECT_EQ((*slot)->containers[0].signal, SIGTERM);
  h.runner().Terminate(req.run_uuid);  // finished: no-op
  h.runner().Terminate("unknown");
}

TEST(RunnerLifecycleTest, BackgroundChildrenAreKilled) {
  Harness h;
  for (const char* script : {"sleep 300 & echo started", "setsid sleep 300 & sleep 0.1",
                             "(setsid sh -c 'sleep 300 & sleep 300') & sleep 0.1"}) {
    SCOPED_TRACE(script);
    const RunRequest req = MakeRequest(MakeSpec({MakeContainer("main", {"sh", "-c", script})}));
    const auto t0 = std::chrono::steady_clock::now();
    auto exit = h.Run(req);
    ASSERT_TRUE(exit);
    EXPECT_EQ(exit->containers[0].exit_code, 0);
    EXPECT_LT(std::chrono::steady_clock::now() - t0, milliseconds(3000));
    EXPECT_EQ(CountProcesses(req.run_uuid), 0u);
    EXPECT_EQ(h.runner().ActiveRuns(), 0u);
  }
}

// Runs ending together share one /proc scan: each must still get exactly its own strays
// killed, and its `done` only once they are gone; a run without strays is not held back.
TEST(RunnerLifecycleTest, RunsEndingTogetherShareASweepAndEachLosesItsStrays) {
  Harness h;
  constexpr int kRuns = 8;
  std::vector<RunRequest> requests;
  std::vector<std::shared_ptr<std::optional<RunExit>>> slots;
  for (int i = 0; i < kRuns; ++i) {
    // Odd runs leave a stray that left the process group; even runs leave nothing.
    const char* script = i % 2 == 1 ? "setsid sleep 300 & sleep 0.2" : "sleep 0.2";
    auto spec = MakeSpec({MakeContainer("c", {"sh", "-c", script})});
    spec->key.name = "check" + std::to_string(i);
    requests.push_back(MakeRequest(spec));
    slots.push_back(h.Start(requests.back()));
  }
  ASSERT_TRUE(h.RunUntil([&] { return AllDone(slots); }, std::chrono::seconds(10)));
  for (int i = 0; i < kRuns; ++i) {
    SCOPED_TRACE(i);
    EXPECT_EQ((*slots[i])->containers.at(0).exit_code, 0);
    EXPECT_EQ(CountProcesses(requests[i].run_uuid), 0u);
  }
  EXPECT_EQ(h.runner().ActiveRuns(), 0u);
}

TEST(RunnerLifecycleTest, LogsArePrefixedBoundedAndKept) {
  LocalRunnerOptions o;
  o.logs_kept = 2;
  o.log_bytes_per_run = 1024;
  Harness h(o);
  const auto spec = MakeSpec({MakeContainer("out", {"sh", "-c", "echo one; echo two >&2"}),
                              MakeContainer("big", {"sh", "-c", "seq 1 1000"})});
  std::vector<std::string> uuids;
  for (int i = 0; i < 3; ++i) {
    const RunRequest req = MakeRequest(spec);
    uuids.push_back(req.run_uuid);
    ASSERT_TRUE(h.Run(req));
  }
  const std::vector<RunLogs> logs = h.runner().Logs(spec->key);
  ASSERT_EQ(logs.size(), 2u);
  EXPECT_EQ(logs[0].run_uuid, uuids[1]);
  EXPECT_EQ(logs[1].run_uuid, uuids[2]);
  const RunLogs& last = logs[1];
  EXPECT_TRUE(last.truncated);
  EXPECT_LE(last.output.size(), 1024u);
  EXPECT_THAT(last.output, HasSubstr("[big] 1000\n"));
  EXPECT_EQ(last.output.rfind("[", 0), 0u);  // starts on a whole line
  EXPECT_TRUE(h.runner().Logs(CheckKey{"other", "check"}).empty());
}

TEST(RunnerLifecycleTest, LogsHoldBothStreamsOfAllContainers) {
  Harness h;
  const auto spec = MakeSpec({MakeContainer("a", {"sh", "-c", "echo one; echo two >&2"})},
                             {MakeContainer("i", {"sh", "-c", "printf 'no newline'"})});
  ASSERT_TRUE(h.Run(MakeRequest(spec)));
  const std::string out = h.runner().Logs(spec->key).at(0).output;
  EXPECT_THAT(out, HasSubstr("[a] one\n"));
  EXPECT_THAT(out, HasSubstr("[a] two\n"));
  EXPECT_THAT(out, HasSubstr("[i] no newline\n"));
  EXPECT_FALSE(h.runner().Logs(spec->key).at(0).truncated);
}

TEST(RunnerLifecycleTest, NoFileDescriptorLeaks) {
  Harness h(ShortGrace());
  auto run = [&](const std::vector<std::string>& cmd) {
    return h.Run(MakeRequest(MakeSpec({MakeContainer("c", cmd)})));
  };
  ASSERT_TRUE(run({"true"}));  // warm-up: asio creates its signal pipe lazily
  const size_t before = CountOpenFds();
  ASSERT_TRUE(run({"sh", "-c", "echo out; echo err >&2; exit 2"}));
  ASSERT_TRUE(run({"/nonexistent"}));
  ASSERT_TRUE(run({"sh", "-c", "setsid sleep 300 &"}));
  const RunRequest req = MakeRequest(MakeSpec({MakeContainer("c", {"sleep", "30"})}));
  auto slot = h.Start(req);
  h.runner().Terminate(req.run_uuid);
  ASSERT_TRUE(h.RunUntil([&] { return slot->has_value(); }));
  EXPECT_EQ(CountOpenFds(), before);
}

TEST(RunnerLifecycleTest, ChildInheritsNoDaemonFds) {
  Harness h;
  const auto spec = MakeSpec({MakeContainer("c", {"sh", "-c", "ls /proc/self/fd | wc -l"})});
  ASSERT_TRUE(h.Run(MakeRequest(spec)));
  // 0, 1, 2 and the fd `ls` opens for the directory.
  EXPECT_THAT(h.runner().Logs(spec->key).at(0).output, HasSubstr("[c] 4\n"));
}

TEST(RunnerLifecycleTest, ManyConcurrentRunsComplete) {
  Harness h;
  constexpr int kRuns = 50;
  std::vector<std::shared_ptr<std::optional<RunExit>>> slots;
  for (int i = 0; i < kRuns; ++i) {
    auto spec = MakeSpec({MakeContainer("c", {"sh", "-c", "echo hi; sleep 0.2; exit 7"})});
    spec->key.name = "check" + std::to_string(i);
    slots.push_back(h.Start(MakeRequest(spec)));
  }
  EXPECT_EQ(h.runner().ActiveRuns(), static_cast<size_t>(kRuns));
  ASSERT_TRUE(h.RunUntil([&] { return AllDone(slots); }, std::chrono::seconds(15)));
  for (auto& s : slots) EXPECT_EQ((*s)->containers.at(0).exit_code, 7);
  EXPECT_EQ(h.runner().ActiveRuns(), 0u);
}

TEST(RunnerLifecycleTest, KillAllKillsEverythingAndDropsCallbacks) {
  Harness h;
  const RunRequest req = MakeRequest(
      MakeSpec({MakeContainer("c", {"sh", "-c", "setsid sleep 300 & trap '' TERM; sleep 300"})}));
  auto slot = h.Start(req);
  h.RunUntil([] { return false; }, milliseconds(200));
  EXPECT_GE(CountProcesses(req.run_uuid), 2u);
  h.runner().KillAll();
  EXPECT_EQ(h.runner().ActiveRuns(), 0u);
  EXPECT_EQ(CountProcesses(req.run_uuid), 0u);
  h.RunUntil([] { return false; }, milliseconds(100));
  EXPECT_FALSE(slot->has_value());
}

TEST(RunnerLifecycleTest, DestructorLeavesNoProcess) {
  Harness h;
  const RunRequest req = MakeRequest(MakeSpec({MakeContainer("c", {"sleep", "300"})}));
  auto slot = h.Start(req);
  // Start returns once the child is past execve's point of no return, which can be just before
  // the kernel has put the new image's environment (what CountProcesses reads) in place.
  EXPECT_TRUE(h.RunUntil([&] { return CountProcesses(req.run_uuid) == 1; }, milliseconds(1000)));
  h.DestroyRunner();
  EXPECT_EQ(CountProcesses(req.run_uuid), 0u);
  h.RunUntil([] { return false; }, milliseconds(50));  // queued handlers must not crash
  EXPECT_FALSE(slot->has_value());
}

}  // namespace
}  // namespace sonde
