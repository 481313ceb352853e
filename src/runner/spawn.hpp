// Starting one container's process: PlanSpawn computes everything in the parent (paths, argv,
// environment, credentials); SpawnProcess starts it with posix_spawn, or, for a container that
// needs a uid/gid change, with fork + exec whose child makes only async-signal-safe calls.
//
// Ownership: SpawnProcess returns the pid (the caller must reap it) and the read ends of the
// child's stdout/stderr pipes. Thread safety: both functions are reentrant; the fork path must
// not race with another thread changing the signal mask of the calling thread. Neither may
// race with another thread reaping with waitpid(-1): a child that failed to exec is reaped
// inside SpawnProcess.
// Failure: errors are returned as the user-facing spawn_error text; nothing throws for a bad
// checker (std::bad_alloc aside).
#pragma once

#include <sys/types.h>

#include <optional>
#include <string>
#include <vector>

#include "core/check.hpp"
#include "core/result.hpp"
#include "runner/runner.hpp"
#include "runner/unique_fd.hpp"

namespace sonde {

// The daemon process as PlanSpawn sees it; injected so tests can vary it.
struct SpawnHost {
  const char* const* environ = nullptr;  // the daemon's environment (NULL-terminated)
  std::string cwd;                       // the daemon's working directory, absolute
  uid_t euid = 0;
  gid_t egid = 0;

  static SpawnHost Current();
};

// Everything the child needs, prepared before fork.
struct SpawnPlan {
  std::string exec_path;          // what execve() gets: absolute, or a PATH hit
  std::vector<std::string> argv;  // command + args; argv[0] as written in the check
  std::vector<std::string> env;   // "NAME=value"
  std::string working_dir;        // absolute
  std::optional<uid_t> uid;       // set only when the daemon is root
  std::optional<gid_t> gid;       // set only when the daemon is root
};

// Resolves the working directory (absolute; else relative to spec->base_dir; else to the
// daemon's cwd), command[0] (PATH lookup with the container's final PATH when it has no '/';
// relative to the working directory when it has one) and the environment (daemon's, then the
// container's, then the KH_* contract variables). Fails for a command not found in PATH or
// for runAsUser/runAsGroup the daemon cannot honour.
Result<SpawnPlan> PlanSpawn(const Container& container, const RunRequest& request,
                            const SpawnHost& host);

struct SpawnedProcess {
  pid_t pid = -1;  // leads its own process group (pgid == pid)
  UniqueFd out;    // read end of the child's stdout
  UniqueFd err;    // read end of the child's stderr
};

// Starts the process: posix_spawn (glibc: clone(CLONE_VM | CLONE_VFORK), no copy of the
// daemon's page tables), or fork + exec when plan.uid/plan.gid is set. Returns once the child
// has exec'd, or failed to: then the child is already reaped and the error names the working
// directory (`working directory "/x": No such file or directory`, checked before spawning) or
// the executable (`cannot start "/x": Permission denied`); the fork path also names the
// setuid/setgid/setgroups step. The child leads its own process group and gets stdin from
// /dev/null, default signal dispositions, an empty signal mask and no inherited daemon fds.
// Only the fork path sets PR_SET_PDEATHSIG (SIGKILL when the daemon thread dies); a checker
// started by posix_spawn outlives a daemon crash until it ends or the next daemon's
// Runner::StopLeftovers (run for every run the crash interrupted) kills it.
Result<SpawnedProcess> SpawnProcess(const SpawnPlan& plan);

}  // namespace sonde
