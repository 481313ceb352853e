// Helpers shared by the two ways SpawnProcess starts a child (see spawn.hpp): posix_spawn
// (spawn.cpp) and fork + exec for a uid/gid change (spawn_fork.cpp). Private to the runner.
//
// Ownership: Pipe owns both of its ends. Failure: functions returning bool leave errno set.
#pragma once

#include <string>
#include <vector>

#include "core/result.hpp"
#include "runner/spawn.hpp"
#include "runner/unique_fd.hpp"

namespace sonde::spawn_detail {

// A close-on-exec pipe whose write end is above fd 2, so that dup2() onto 0..2 in the child
// cannot clobber it.
struct Pipe {
  UniqueFd read, write;
};
bool MakePipe(Pipe& p);
// Moves `fd` above 2 (close-on-exec) if it is a standard stream's number; false on error.
bool MoveAbove2(UniqueFd& fd);

// NULL-terminated pointers into `v`, for execve(); valid while `v` is unchanged.
std::vector<char*> CStrings(const std::vector<std::string>& v);

// `cannot start "<exec_path>": <what>: <strerror(errno)>`.
Result<SpawnedProcess> SystemError(const SpawnPlan& plan, const char* what);
// `working directory "<dir>": <strerror(error)>`.
std::string WorkingDirError(const SpawnPlan& plan, int error);

// fork + exec with setgroups/setgid/setuid and PR_SET_PDEATHSIG in the child. `out`/`err`:
// the pipes for the child's stdout/stderr; their write ends are consumed.
Result<SpawnedProcess> ForkSpawn(const SpawnPlan& plan, Pipe out, Pipe err);

}  // namespace sonde::spawn_detail
