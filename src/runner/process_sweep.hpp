// Finding and killing a run's stray processes: descendants that left the container's process
// group (setsid, setpgid) are recognised by the KH_RUN_UUID=<uuid> entry they inherited.
//
// Thread safety: stateless functions, reentrant. Failure: processes that vanish or cannot be
// read (another user's, non-dumpable) are skipped silently; a process that exec'd with a
// scrubbed environment is not found (documented limitation).
#pragma once

#include <sys/types.h>

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <set>
#include <string>
#include <string_view>
#include <unordered_map>
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

// What a process's environment held for one variable, read once per process rather than at
// every scan: most of /proc is processes that never change (kernel threads, the machine's
// daemons), and re-reading them was about half of a process check's system calls (an open, a
// read and a close each, at every scan). A process is known by its pid and the inode number of
// its /proc entry: a recycled pid comes with a new inode, so it is read again.
// An environment is what the process exec'd with (or inherited at fork), so a process keeps what
// was read, with one exception: a fork()ed child read before its exec shows its parent's
// environment. The daemon's posix_spawn children cannot be seen before exec (the loop waits for
// the exec), and a forked container's leader is reaped before its run is swept.
// Not thread-safe: one per owner (the runner's event loop). Memory: one entry per live process.
class ProcessEnvCache {
 public:
  explicit ProcessEnvCache(std::string name) : prefix_(std::move(name) + "=") {}

  // Every Lookup between the two belongs to one scan of /proc; EndScan forgets the processes the
  // scan did not see (they are gone).
  void BeginScan() { ++scan_; }
  void EndScan();
  // The variable's value in process `pid` (whose /proc entry has inode `ino`), its first entry as
  // getenv would take it; nullptr when it has none or cannot be read (another user's, a kernel
  // thread, a zombie). Reads /proc/<pid>/environ only for a process not seen before.
  const std::string* Lookup(pid_t pid, ino_t ino);
  // "<name>=<value>", the entry a process holding `value` has.
  std::string EntryWith(std::string_view value) const { return prefix_ + std::string(value); }
  size_t reads() const { return reads_; }  // environments read so far, for tests

 private:
  struct Entry {
    ino_t ino = 0;
    uint64_t scan = 0;  // the last scan that saw it
    bool has_value = false;
    std::string value;
  };
  std::string prefix_;
  std::unordered_map<pid_t, Entry> entries_;
  uint64_t scan_ = 0;
  size_t reads_ = 0;
};

// One /proc scan on behalf of many runs (shared rather than repeated per run): SIGKILLs every
// process (other than the caller) whose initial environment holds `cache`'s variable with a value
// that is a key of `sweeps`, as KillProcessesWithEnvEntry does for each. Each kill re-reads the
// environment through a pidfd first, so the cache only decides which processes to look at.
void KillProcessesWithEnvValues(const std::map<std::string, StraySweep, std::less<>>& sweeps,
                                ProcessEnvCache& cache);

// True when every pidfd reports its process exited. Waits up to `timeout` (0: just checks).
bool AllExited(const std::vector<UniqueFd>& pidfds, std::chrono::milliseconds timeout);

}  // namespace sonde
