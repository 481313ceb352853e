// The runner seam: starts a check's checker for one run and tells when it has ended.
// LocalProcessRunner (processes on this machine) implements it now; a Kubernetes pod runner
// will implement it later. The engine owns deadlines and decides outcomes; the runner only
// starts, observes and stops processes.
//
// Thread safety: every method must be called from the runner's executor (the daemon's
// single event-loop thread); callbacks are invoked on that executor too.
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "core/check.hpp"
#include "core/time.hpp"

namespace sonde {

// Everything the runner needs to start one run.
struct RunRequest {
  std::shared_ptr<const CheckSpec> spec;
  std::string run_uuid;       // KH_RUN_UUID; also identifies the run to Terminate()
  std::string reporting_url;  // KH_REPORTING_URL, complete (carries the run token)
  TimePoint deadline;         // KH_CHECK_RUN_DEADLINE is UnixSeconds(deadline)
};

// How one container's process ended.
struct ContainerExit {
  std::string container;    // container name
  bool init = false;        // an initContainer
  bool started = false;     // false: it could not be started (see spawn_error)
  std::string spawn_error;  // why, e.g. `cannot start "/x/run.sh": No such file or directory`
  bool signaled = false;    // true: killed by `signal`; false: exited with `exit_code`
  int exit_code = 0;
  int signal = 0;
};

// The end of a run's processes, passed to the RunDone callback exactly once per Start().
struct RunExit {
  std::vector<ContainerExit> containers;  // in start order
  bool terminated = false;                // Terminate() was called before everything exited
  std::string stderr_tail;  // last bytes (<= 2 KiB) of stderr of the first failed container
};

using RunDone = std::function<void(const RunExit&)>;

// Captured output of one run. Bounded: see LocalRunnerOptions.
struct RunLogs {
  std::string run_uuid;
  TimePoint started;
  std::string output;  // stdout and stderr interleaved as read, each line prefixed "[container] "
  bool truncated = false;  // older output was dropped to stay within the bound
};

class Runner {
 public:
  virtual ~Runner() = default;
  Runner() = default;
  Runner(const Runner&) = delete;
  Runner& operator=(const Runner&) = delete;

  // Starts the run. Never throws for failures of the checker itself (missing binary, bad
  // working directory, bad user): those end the run at once through `done` with
  // ContainerExit::started=false. `done` is called exactly once, after every process of the
  // run has exited and been reaped.
  virtual void Start(const RunRequest& request, RunDone done) = 0;

  // Stops a run: SIGTERM to its processes, SIGKILL to what is left after the kill grace.
  // No-op for an unknown or finished run. `done` still fires (with terminated=true).
  virtual void Terminate(const std::string& run_uuid) = 0;

  // Kills what is left of a run this runner is not tracking — a run of an earlier daemon
  // that died — found by its run id. Synchronous and bounded (a couple of seconds at most).
  virtual void StopLeftovers(const std::string& run_uuid) = 0;

  // Kills every process of every run at once (SIGKILL) and reaps them; for shutdown.
  // `done` callbacks of runs still active are not called afterwards.
  virtual void KillAll() = 0;

  // The captured output of the last runs of a check (at most LocalRunnerOptions::logs_kept),
  // oldest first, the active run included. Empty when the check never ran.
  virtual std::vector<RunLogs> Logs(const CheckKey& key) const = 0;

  // Number of runs whose processes have not all exited yet.
  virtual size_t ActiveRuns() const = 0;

  // Operator mode, on taking over: follows a run a former leader started, as if Start() had
  // started it (`done` is called once, never before Adopt returns). False when nothing of the
  // run is left to follow.
  virtual bool Adopt(const RunRequest& /*request*/, RunDone /*done*/) { return false; }
  // Operator mode, on losing the lead: stops following a run without stopping it (the next
  // leader adopts it); its `done` is not called. Runners that cannot hand runs over stop it.
  virtual void Release(const std::string& run_uuid) { Terminate(run_uuid); }

  // What a run had got to when its deadline passed, for the timeout's error message (a pod
  // runner: "failed to see pod running within timeout"); "" when there is nothing to add.
  virtual std::string DeadlineDetail(const std::string& /*run_uuid*/) const { return ""; }
};

}  // namespace sonde
