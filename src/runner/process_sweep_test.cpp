// ProcessEnvCache against real processes: each environment is read once per process, a pid
// with a new /proc inode is read again, and a scan forgets the processes it did not see.
#include "runner/process_sweep.hpp"

#include <gtest/gtest.h>
#include <spawn.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include <csignal>
#include <optional>
#include <string>
#include <vector>

namespace sonde {
namespace {

// A `sleep` with exactly `env` as its environment; killed and reaped when destroyed.
class Sleeper {
 public:
  explicit Sleeper(std::vector<std::string> env) {
    std::vector<char*> envp;
    envp.reserve(env.size() + 1);
    for (std::string& e : env) envp.push_back(e.data());
    envp.push_back(nullptr);
    char arg0[] = "sleep";
    char arg1[] = "30";
    char* argv[] = {arg0, arg1, nullptr};
    if (::posix_spawn(&pid_, "/bin/sleep", nullptr, nullptr, argv, envp.data()) != 0) pid_ = 0;
  }
  ~Sleeper() {
    if (pid_ <= 0) return;
    ::kill(pid_, SIGKILL);
    ::waitpid(pid_, nullptr, 0);
  }
  Sleeper(const Sleeper&) = delete;
  Sleeper& operator=(const Sleeper&) = delete;

  pid_t pid() const { return pid_; }
  // The inode number of its /proc entry, as a scan of /proc sees it.
  ino_t ino() const {
    struct stat st {};
    return ::stat(("/proc/" + std::to_string(pid_)).c_str(), &st) == 0 ? st.st_ino : 0;
  }

 private:
  pid_t pid_ = 0;
};

std::optional<std::string> Look(ProcessEnvCache& cache, pid_t pid, ino_t ino) {
  const std::string* v = cache.Lookup(pid, ino);
  return v ? std::optional<std::string>(*v) : std::nullopt;
}

TEST(ProcessEnvCache, ReadsEachProcessOnceAndAgainUnderANewInode) {
  // The first entry decides, as getenv would; another variable's value does not count.
  Sleeper tagged({"A=1", "KH_RUN_UUID=run-1", "KH_RUN_UUID=run-2"});
  Sleeper other({"KH_RUN_UUID_X=run-3", "B=2"});
  ASSERT_GT(tagged.pid(), 0);
  ASSERT_GT(other.pid(), 0);
  // The environment is in place once the exec is done; /proc shows it from then on.
  for (int i = 0; i < 200; ++i) {
    ProcessEnvCache probe("KH_RUN_UUID");
    probe.BeginScan();
    if (probe.Lookup(tagged.pid(), tagged.ino()) != nullptr) break;
    ::usleep(5000);
  }
  ProcessEnvCache cache("KH_RUN_UUID");
  EXPECT_EQ(cache.EntryWith("run-1"), "KH_RUN_UUID=run-1");

  cache.BeginScan();
  EXPECT_EQ(Look(cache, tagged.pid(), tagged.ino()), "run-1");
  EXPECT_EQ(Look(cache, other.pid(), other.ino()), std::nullopt);
  cache.EndScan();
  EXPECT_EQ(cache.reads(), 2u);

  // Each step is one scan; `other` is looked up only where `with_other` says so.
  const struct {
    const char* name;
    ino_t tagged_ino;
    bool with_other;
    size_t reads_after;
  } scans[] = {
      {"both again: from the cache", tagged.ino(), true, 2},
      // What a recycled pid looks like: the same number under a new inode.
      {"a new inode: read again", tagged.ino() + 1, true, 3},
      {"and kept under it", tagged.ino() + 1, true, 3},
      {"a scan without `other` forgets it", tagged.ino() + 1, false, 3},
      {"so it is read again", tagged.ino() + 1, true, 4},
  };
  for (const auto& scan : scans) {
    SCOPED_TRACE(scan.name);
    cache.BeginScan();
    EXPECT_EQ(Look(cache, tagged.pid(), scan.tagged_ino), "run-1");
    if (scan.with_other) {
      EXPECT_EQ(Look(cache, other.pid(), other.ino()), std::nullopt);
    }
    cache.EndScan();
    EXPECT_EQ(cache.reads(), scan.reads_after);
  }
}

TEST(ProcessEnvCache, UnreadableProcessesHaveNoValue) {
  ProcessEnvCache cache("KH_RUN_UUID");
  cache.BeginScan();
  // Pid 2 is kthreadd: a kernel thread has no environment to read.
  struct stat st {};
  ASSERT_EQ(::stat("/proc/2", &st), 0);
  EXPECT_EQ(Look(cache, 2, st.st_ino), std::nullopt);
  // A pid no process has: nothing to read.
  EXPECT_EQ(Look(cache, 0x3ffffff, 1), std::nullopt);
  cache.EndScan();
}

}  // namespace
}  // namespace sonde
