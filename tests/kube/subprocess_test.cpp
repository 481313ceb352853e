#include "kube/subprocess.hpp"

#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdio>
#include <fstream>

namespace sonde::kube {
namespace {

using std::chrono::milliseconds;

TEST(RunCommand, CapturesOutputStatusAndStdin) {
  struct Case {
    std::vector<std::string> argv;
    std::string input, want_out, want_err;
    int want_exit;
  };
  const std::vector<Case> cases = {
      {{"/bin/sh", "-c", "echo out; echo err >&2; exit 3"}, "", "out\n", "err\n", 3},
      {{"cat"}, "from stdin", "from stdin", "", 0},
      {{"/bin/sh", "-c", "exit 0"}, std::string(1 << 20, 'x'), "", "", 0},  // input unread
  };
  for (const Case& c : cases) {
    auto r = RunCommand(c.argv, c.input, milliseconds(10'000));
    ASSERT_TRUE(r.ok()) << c.argv.back() << ": " << r.error();
    EXPECT_EQ(r.value().out, c.want_out) << c.argv.back();
    EXPECT_EQ(r.value().err, c.want_err) << c.argv.back();
    EXPECT_EQ(r.value().exit_code, c.want_exit) << c.argv.back();
    EXPECT_FALSE(r.value().timed_out);
  }
}

TEST(RunCommand, KillsAtTheDeadlineAndKeepsTheOutputSoFar) {
  auto r = RunCommand({"/bin/sh", "-c", "echo started; exec sleep 30"}, "", milliseconds(300));
  ASSERT_TRUE(r.ok()) << r.error();
  EXPECT_TRUE(r.value().timed_out);
  EXPECT_EQ(r.value().exit_code, -1);
  EXPECT_EQ(r.value().out, "started\n");
}

TEST(RunCommand, FailsForAMissingProgramAndUnboundedOutput) {
  auto missing = RunCommand({"/nonexistent/program"}, "", milliseconds(5000));
  ASSERT_FALSE(missing.ok());
  EXPECT_NE(missing.error().find("cannot run /nonexistent/program"), std::string::npos)
      << missing.error();
  auto big =
      RunCommand({"/bin/sh", "-c", "head -c 100000 /dev/zero"}, "", milliseconds(5000), 1000);
  ASSERT_FALSE(big.ok());
  EXPECT_NE(big.error().find("output exceeds 1000 bytes"), std::string::npos) << big.error();
}

TEST(ServerProcess, LogsToItsFileAndStopsOnTerm) {
  char dir[] = "/tmp/sonde-subprocess-XXXXXX";
  ASSERT_NE(mkdtemp(dir), nullptr);
  const std::string log = std::string(dir) + "/server.log";
  auto p = ServerProcess::Start("server", {"/bin/sh", "-c", "echo up; exec sleep 30"}, log);
  ASSERT_TRUE(p.ok()) << p.error();
  ServerProcess& server = *p.value();
  EXPECT_FALSE(server.Exited());
  for (int i = 0; i < 100 && TailOfFile(log, 5).empty(); ++i) usleep(20'000);
  EXPECT_EQ(TailOfFile(log, 5), "up\n");
  server.Stop(milliseconds(2000));
  std::string how;
  EXPECT_TRUE(server.Exited(&how));
  EXPECT_EQ(how, "killed by signal Terminated");
  std::remove(log.c_str());
  rmdir(dir);
}

TEST(TailOfFile, KeepsTheLastLines) {
  char path[] = "/tmp/sonde-tail-XXXXXX";
  const int fd = mkstemp(path);
  ASSERT_GE(fd, 0);
  close(fd);
  struct Case {
    std::string content, want;
    int lines;
  };
  const std::vector<Case> cases = {
      {"a\nb\nc\n", "b\nc\n", 2}, {"a\nb\nc", "b\nc", 2},  {"a\nb\n", "a\nb\n", 5}, {"", "", 3},
      {"\nx\n", "\nx\n", 2},      {"only\n", "only\n", 1},
  };
  for (const Case& c : cases) {
    std::ofstream(path) << c.content;
    EXPECT_EQ(TailOfFile(path, c.lines), c.want) << "content '" << c.content << "'";
  }
  std::remove(path);
  EXPECT_EQ(TailOfFile(path, 3), "") << "missing file";
}

}  // namespace
}  // namespace sonde::kube
