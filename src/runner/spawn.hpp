// Starting one container's process: PlanSpawn computes everything in the parent (paths, argv,
// environment, credentials) so that SpawnProcess's child, between fork and exec, makes only
// async-signal-safe system calls.
//
// Ownership: SpawnProcess returns the pid (the caller must reap it) and the read ends of the
// child's stdout/stderr pipes. Thread safety: both functions are reentrant, but SpawnProcess
// must not race with another thread changing the signal mask of the calling thread.
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

// fork + exec. Returns once the child has exec'd (or failed to: then the child is already
// reaped and the error says which step failed, e.g. `working directory "/x": No such file or
// directory`). The child gets stdin from /dev/null, default signal dispositions, an empty
// signal mask, no inherited daemon fds, and SIGKILL should the daemon thread die.
Result<SpawnedProcess> SpawnProcess(const SpawnPlan& plan);

}  // namespace sonde
