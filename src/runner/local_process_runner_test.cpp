// LocalProcessRunner with real processes: the checker contract (environment, working
// directory, exit status, spawn failures, init containers, concurrency).
#include "runner/local_process_runner.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <csignal>

#include "runner/runner_test_support.hpp"

namespace sonde {
namespace {

using ::sonde::testing::Harness;
using ::sonde::testing::MakeContainer;
using ::sonde::testing::MakeRequest;
using ::sonde::testing::MakeSpec;
using ::sonde::testing::ReadFile;
using ::sonde::testing::TempDir;
using ::testing::HasSubstr;

TEST(LocalProcessRunnerTest, SetsContractAndContainerEnvironment) {
  TempDir dir;
  Container c = MakeContainer("main", {dir.Script("env.sh", "env > \"$OUT\"")});
  c.env = {{"OUT", dir.Sub("env.txt")}, {"FOO", "bar"}, {"KH_RUN_UUID", "overridden"}};
  Harness h;
  const RunRequest req = MakeRequest(MakeSpec({c}));
  auto exit = h.Run(req);
  ASSERT_TRUE(exit);
  ASSERT_EQ(exit->containers.size(), 1u);
  EXPECT_TRUE(exit->containers[0].started) << exit->containers[0].spawn_error;
  EXPECT_EQ(exit->containers[0].exit_code, 0);
  const std::string env = ReadFile(dir.Sub("env.txt"));
  EXPECT_THAT(env, HasSubstr("\nKH_REPORTING_URL=http://127.0.0.1:1/check?token=t0k\n"));
  EXPECT_THAT(env, HasSubstr("\nKH_RUN_UUID=" + req.run_uuid + "\n"));
  EXPECT_THAT(env, HasSubstr("\nKH_CHECK_RUN_DEADLINE=1700000123\n"));
  EXPECT_THAT(env, HasSubstr("\nKH_POD_NAMESPACE=testns\n"));
  EXPECT_THAT(env, HasSubstr("\nFOO=bar\n"));
  EXPECT_THAT(env, HasSubstr("\nPATH="));  // the daemon's own environment comes first
  EXPECT_THAT(env, ::testing::Not(HasSubstr("overridden")));
}

TEST(LocalProcessRunnerTest, InitContainersGetContractEnvironment) {
  TempDir dir;
  Container init = MakeContainer("init", {"/bin/sh", "-c", "echo \"$KH_RUN_UUID\" > \"$OUT\""});
  init.env = {{"OUT", dir.Sub("uuid.txt")}};
  Harness h;
  const RunRequest req = MakeRequest(MakeSpec({MakeContainer("main", {"true"})}, {init}));
  ASSERT_TRUE(h.Run(req));
  EXPECT_EQ(ReadFile(dir.Sub("uuid.txt")), req.run_uuid + "\n");
}

TEST(LocalProcessRunnerTest, WorkingDirRelativeToBaseDirAndArgs) {
  TempDir dir;
  dir.Script("sub/run.sh", "pwd > \"$OUT\"; printf '%s\\n' \"$@\" >> \"$OUT\"");
  Container c = MakeContainer("main", {"./run.sh", "a b"});
  c.args = {"c"};
  c.working_dir = "sub";
  c.env = {{"OUT", dir.Sub("out.txt")}};
  Harness h;
  auto exit = h.Run(MakeRequest(MakeSpec({c}, {}, dir.path())));
  ASSERT_TRUE(exit);
  EXPECT_TRUE(exit->containers[0].started) << exit->containers[0].spawn_error;
  EXPECT_EQ(ReadFile(dir.Sub("out.txt")), dir.Sub("sub") + "\na b\nc\n");
}

TEST(LocalProcessRunnerTest, EmptyWorkingDirIsBaseDir) {
  TempDir dir;
  Container c = MakeContainer("main", {"sh", "-c", "pwd > out.txt"});
  Harness h;
  ASSERT_TRUE(h.Run(MakeRequest(MakeSpec({c}, {}, dir.path()))));
  EXPECT_EQ(ReadFile(dir.Sub("out.txt")), dir.path() + "\n");
}

TEST(LocalProcessRunnerTest, ExitCodeAndStderrTail) {
  TempDir dir;
  const std::string script = dir.Script("fail.sh",
                                        "echo to-stdout\n"
                                        "i=0; while [ $i -lt 300 ]; do echo filler-$i >&2; "
                                        "i=$((i+1)); done\n"
                                        "echo last-words >&2\n"
                                        "exit 3");
  Harness h;
  auto exit = h.Run(MakeRequest(MakeSpec({MakeContainer("main", {script})})));
  ASSERT_TRUE(exit);
  EXPECT_FALSE(exit->containers[0].signaled);
  EXPECT_EQ(exit->containers[0].exit_code, 3);
  EXPECT_FALSE(exit->terminated);
  EXPECT_LE(exit->stderr_tail.size(), 2048u);
  EXPECT_GT(exit->stderr_tail.size(), 1024u);
  EXPECT_THAT(exit->stderr_tail, ::testing::EndsWith("filler-299\nlast-words\n"));
  EXPECT_THAT(exit->stderr_tail, ::testing::Not(HasSubstr("to-stdout")));
}

TEST(LocalProcessRunnerTest, StderrTailComesFromFirstFailedContainer) {
  Harness h;
  auto exit = h.Run(MakeRequest(MakeSpec({
      MakeContainer("ok", {"sh", "-c", "echo fine >&2"}),
      MakeContainer("bad", {"sh", "-c", "echo broken >&2; exit 1"}),
  })));
  ASSERT_TRUE(exit);
  EXPECT_EQ(exit->stderr_tail, "broken\n");
}

TEST(LocalProcessRunnerTest, KilledBySignal) {
  Harness h;
  auto exit = h.Run(MakeRequest(MakeSpec({MakeContainer("main", {"sh", "-c", "kill -KILL $$"})})));
  ASSERT_TRUE(exit);
  EXPECT_TRUE(exit->containers[0].signaled);
  EXPECT_EQ(exit->containers[0].signal, SIGKILL);
}

TEST(LocalProcessRunnerTest, MissingBinaryIsSpawnError) {
  Harness h;
  auto exit = h.Run(MakeRequest(MakeSpec({MakeContainer("main", {"/nonexistent/run.sh"})})));
  ASSERT_TRUE(exit);
  ASSERT_EQ(exit->containers.size(), 1u);
  EXPECT_FALSE(exit->containers[0].started);
  EXPECT_EQ(exit->containers[0].spawn_error,
            "cannot start \"/nonexistent/run.sh\": No such file or directory");
  EXPECT_EQ(h.runner().ActiveRuns(), 0u);
}

TEST(LocalProcessRunnerTest, CommandNotInPathIsSpawnError) {
  Harness h;
  auto exit = h.Run(MakeRequest(MakeSpec({MakeContainer("main", {"no-such-command-x7"})})));
  ASSERT_TRUE(exit);
  EXPECT_EQ(exit->containers[0].spawn_error,
            "cannot start \"no-such-command-x7\": executable file not found in $PATH");
}

TEST(LocalProcessRunnerTest, NotExecutableIsSpawnError) {
  TempDir dir;
  const std::string script = dir.Script("noexec.sh", "exit 0");
  ::chmod(script.c_str(), 0644);
  Harness h;
  auto exit = h.Run(MakeRequest(MakeSpec({MakeContainer("main", {script})})));
  ASSERT_TRUE(exit);
  // Root too: execve() needs at least one execute bit.
  EXPECT_EQ(exit->containers[0].spawn_error, "cannot start \"" + script + "\": Permission denied");
}

TEST(LocalProcessRunnerTest, BadWorkingDirIsSpawnError) {
  Container c = MakeContainer("main", {"true"});
  c.working_dir = "/nope";
  Harness h;
  auto exit = h.Run(MakeRequest(MakeSpec({c})));
  ASSERT_TRUE(exit);
  EXPECT_FALSE(exit->containers[0].started);
  EXPECT_EQ(exit->containers[0].spawn_error,
            "working directory \"/nope\": No such file or directory");
}

TEST(LocalProcessRunnerTest, InitContainersRunInOrderBeforeContainers) {
  TempDir dir;
  auto append = [&](const std::string& name) {
    return MakeContainer(name, {"sh", "-c", "sleep 0.05; echo " + name + " >> order.txt"});
  };
  Harness h;
  auto exit = h.Run(
      MakeRequest(MakeSpec({append("main")}, {append("init1"), append("init2")}, dir.path())));
  ASSERT_TRUE(exit);
  EXPECT_EQ(ReadFile(dir.Sub("order.txt")), "init1\ninit2\nmain\n");
  ASSERT_EQ(exit->containers.size(), 3u);
  EXPECT_TRUE(exit->containers[0].init);
  EXPECT_EQ(exit->containers[1].container, "init2");
  EXPECT_FALSE(exit->containers[2].init);
}

TEST(LocalProcessRunnerTest, FailingInitContainerStopsTheRun) {
  TempDir dir;
  Harness h;
  auto exit = h.Run(MakeRequest(MakeSpec(
      {MakeContainer("main", {"touch", "main"})},
      {MakeContainer("init1", {"sh", "-c", "exit 4"}), MakeContainer("init2", {"touch", "init2"})},
      dir.path())));
  ASSERT_TRUE(exit);
  ASSERT_EQ(exit->containers.size(), 1u);
  EXPECT_EQ(exit->containers[0].exit_code, 4);
  EXPECT_FALSE(::sonde::testing::Exists(dir.Sub("init2")));
  EXPECT_FALSE(::sonde::testing::Exists(dir.Sub("main")));
}

TEST(LocalProcessRunnerTest, ContainersRunConcurrently) {
  TempDir dir;
  // Each one only succeeds if it sees the other one started: both must run at once.
  auto waiter = [&](const std::string& me, const std::string& other) {
    return MakeContainer(me, {"sh", "-c",
                              "touch " + me + "; i=0; while [ ! -f " + other +
                                  " ]; do i=$((i+1)); [ $i -gt 200 ] && exit 1; sleep 0.02; "
                                  "done"});
  };
  Harness h;
  auto exit = h.Run(MakeRequest(MakeSpec({waiter("a", "b"), waiter("b", "a")}, {}, dir.path())));
  ASSERT_TRUE(exit);
  ASSERT_EQ(exit->containers.size(), 2u);
  EXPECT_EQ(exit->containers[0].exit_code, 0);
  EXPECT_EQ(exit->containers[1].exit_code, 0);
}

TEST(LocalProcessRunnerTest, SpawnFailureDoesNotStopOtherContainers) {
  Harness h;
  auto exit = h.Run(MakeRequest(MakeSpec(
      {MakeContainer("bad", {"/nonexistent"}), MakeContainer("good", {"sh", "-c", "exit 0"})})));
  ASSERT_TRUE(exit);
  ASSERT_EQ(exit->containers.size(), 2u);
  EXPECT_FALSE(exit->containers[0].started);
  EXPECT_TRUE(exit->containers[1].started);
  EXPECT_EQ(exit->stderr_tail, "");
}

TEST(LocalProcessRunnerTest, RunAsUserWhenRoot) {
  if (::geteuid() != 0) GTEST_SKIP() << "needs root";
  TempDir dir;
  ::chmod(dir.path().c_str(), 0777);
  Container c = MakeContainer("main", {"sh", "-c", "echo $(id -u) $(id -g) $(id -G) > out.txt"});
  c.run_as_user = 65534;
  c.run_as_group = 65533;
  Harness h;
  auto exit = h.Run(MakeRequest(MakeSpec({c}, {}, dir.path())));
  ASSERT_TRUE(exit);
  EXPECT_TRUE(exit->containers[0].started) << exit->containers[0].spawn_error;
  EXPECT_EQ(ReadFile(dir.Sub("out.txt")), "65534 65533 65533\n");
}

TEST(LocalProcessRunnerTest, ChildGetsDevNullStdinDefaultSignalsAndEmptyMask) {
  // The daemon ignores SIGPIPE and its event-loop thread may block signals; checkers must not
  // inherit either.
  struct sigaction ignore {
  }, old_action{};
  ignore.sa_handler = SIG_IGN;
  ::sigaction(SIGPIPE, &ignore, &old_action);
  sigset_t usr1, old_mask;
  ::sigemptyset(&usr1);
  ::sigaddset(&usr1, SIGUSR1);
  ::pthread_sigmask(SIG_BLOCK, &usr1, &old_mask);
  Harness h;
  const auto spec =
      MakeSpec({MakeContainer("c", {"grep", "-E", "^Sig(Ign|Blk)", "/proc/self/status"}),
                MakeContainer("stdin", {"sh", "-c", "cat; echo eof"})});
  auto exit = h.Run(MakeRequest(spec));
  ::pthread_sigmask(SIG_SETMASK, &old_mask, nullptr);
  ::sigaction(SIGPIPE, &old_action, nullptr);
  ASSERT_TRUE(exit);
  const std::string out = h.runner().Logs(spec->key).at(0).output;
  EXPECT_THAT(out, HasSubstr("[c] SigBlk:\t0000000000000000\n"));
  // Only the standard signals (1-31): glibc reserves 32 and 33 and refuses to reset them, so
  // they keep whatever disposition the test's own environment gave them.
  const size_t ign = out.find("[c] SigIgn:\t");
  ASSERT_NE(ign, std::string::npos) << out;
  const uint64_t ignored = std::stoull(out.substr(ign + 12, 16), nullptr, 16);
  EXPECT_EQ(ignored & 0x7FFFFFFFull, 0u) << out;
  EXPECT_THAT(out, HasSubstr("[stdin] eof\n"));
}

TEST(LocalProcessRunnerTest, DuplicateRunUuidIsRejected) {
  Harness h;
  const RunRequest req = MakeRequest(MakeSpec({MakeContainer("main", {"sleep", "0.2"})}));
  auto first = h.Start(req);
  auto second = h.Start(req);
  ASSERT_TRUE(h.RunUntil([&] { return first->has_value() && second->has_value(); }));
  EXPECT_TRUE((*first)->containers[0].started);
  EXPECT_FALSE((*second)->containers[0].started);
  EXPECT_THAT((*second)->containers[0].spawn_error, HasSubstr("already active"));
}

}  // namespace
}  // namespace sonde
