// Finding and killing a run's stray processes: descendants that left the container's process
// group (setsid, setpgid) are recognised by the KH_RUN_UUID=<uuid> entry they inherited.
//
// Thread safety: stateless functions, reentrant. Failure: processes that vanish or cannot be
// read (another user's, non-dumpable) are skipped silently; a process that exec'd with a
// scrubbed environment is not found (documented limitation).
#pragma once

#include <sys/types.h>

#include <chrono>
#include <functional>
#include <map>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "runner/unique_fd.hpp"

namespace sonde {

// Pids of the processes (other than the caller) whose initial environment holds exactly
// `entry`. Zombies have no environment and are never listed.
std::vector<pid_t> FindProcessesWithEnvEntry(std::string_view entry);

// SIGKILLs every process (other than the caller) whose initial environment holds exactly
// `entry` (e.g. "KH_RUN_UUID=..."), skipping pids already in `seen` and adding the killed
// ones to it. Returns pidfds of the killed processes, readable once each has exited: the
// pidfd pins the identity, so a recycled pid is never signalled.
std::vector<UniqueFd> KillProcessesWithEnvEntry(std::string_view entry, std::set<pid_t>& seen);

// One run's part of a shared sweep. Both pointers are borrowed and must stay valid for the call.
struct StraySweep {
  std::set<pid_t>* seen;          // pids already killed: skipped; newly killed ones are added
  std::vector<UniqueFd>* killed;  // pidfds of the processes this call killed, appended
};

// One /proc scan on behalf of many runs (each scan reads every process's environment, so it is
// shared rather than repeated per run): SIGKILLs every process (other than the caller) whose
// initial environment holds `name`=<value> with <value> a key of `sweeps`, as
// KillProcessesWithEnvEntry does for each.
void KillProcessesWithEnvValues(std::string_view name,
                                const std::map<std::string, StraySweep, std::less<>>& sweeps);

// True when every pidfd reports its process exited. Waits up to `timeout` (0: just checks).
bool AllExited(const std::vector<UniqueFd>& pidfds, std::chrono::milliseconds timeout);

}  // namespace sonde
