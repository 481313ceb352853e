// LocalProcessRunner: runs a check's pod as processes on this machine (Kuberhealthy's checker
// contract, local mode). Init containers run one after another, then all containers together;
// each process leads its own process group; nothing a run started survives its end.
//
// Ownership: owns its child processes, pipes and timers; the executor is borrowed and must
// outlive the runner. The destructor SIGKILLs and reaps whatever is still running.
// Thread safety: as Runner; everything happens on `executor` (single-threaded).
// Process-wide effects (so: at most one instance per process):
//  - reaps with waitpid(-1) on SIGCHLD: any other child of the daemon is reaped here too, so
//    nothing else in the process may fork and wait for its own children;
//  - makes the daemon a child subreaper (PR_SET_CHILD_SUBREAPER), for good;
//  - SIGCHLD is handled through asio::signal_set with SA_RESTART | SA_NOCLDSTOP added.
// Failure: checker failures become RunExit values; only resource exhaustion (bad_alloc)
// throws, and never into the event loop from a callback of this class.
#pragma once

#include <sys/types.h>

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/steady_timer.hpp>
#include <chrono>
#include <cstddef>
#include <map>
#include <memory>
#include <string>
#include <unordered_map>
#include <vector>

#include "contract/checker_env.hpp"
#include "core/time.hpp"
#include "runner/process_sweep.hpp"
#include "runner/run_log.hpp"
#include "runner/runner.hpp"
#include "runner/unique_fd.hpp"

namespace sonde {

struct LocalRunnerOptions {
  Duration kill_grace = std::chrono::seconds(5);  // SIGTERM -> SIGKILL
  size_t logs_kept = 5;                           // runs of output kept per check
  size_t log_bytes_per_run = 64 * 1024;  // keep the LAST bytes of output; truncated=true if dropped
};

class LocalProcessRunner final : public Runner {
 public:
  // `executor`: the single-threaded event loop everything runs on. Not owned.
  LocalProcessRunner(boost::asio::any_io_executor executor, LocalRunnerOptions options);
  ~LocalProcessRunner() override;

  // `done` is never called from inside Start/Terminate/KillAll: it is posted to the executor.
  // RunExit::containers lists the containers that were started or failed to start; those
  // never attempted (after a failed init container, or after Terminate) are not listed.
  void Start(const RunRequest& request, RunDone done) override;
  void Terminate(const std::string& run_uuid) override;
  // Blocks for at most ~2 s reaping; done callbacks already posted are dropped as well.
  void StopLeftovers(const std::string& run_uuid) override;
  void KillAll() override;
  std::vector<RunLogs> Logs(const CheckKey& key) const override;
  size_t ActiveRuns() const override;

 private:
  struct Run;
  struct Proc;
  struct Pipe;
  using RunPtr = std::shared_ptr<Run>;

  void WatchChildren();
  // Reaps one exited child, if any; SIGKILLs its process group first when it is one of ours.
  bool ReapOne(pid_t& pid, int& status);
  void ReapChildren();
  void OnProcessExit(const RunPtr& run, Proc& proc, int status);

  void Advance(const RunPtr& run);
  bool StartContainer(const RunPtr& run, const Container& container, bool init);
  void OpenPipe(const RunPtr& run, Pipe& pipe, UniqueFd fd, const std::string& container,
                bool is_stderr);
  void WatchPipe(const RunPtr& run, Pipe& pipe);
  void ReadPipe(Run& run, Pipe& pipe, size_t max_bytes);
  void ClosePipe(Run& run, Pipe& pipe);
  void Signal(Run& run, int sig);

  // Ending a run: kill and wait for strays, drain pipes, post `done`. By value: these may
  // erase the run from runs_.
  void BeginFinish(RunPtr run);
  void SweepStrays(RunPtr run);
  void ScanForStrays();
  void OnSweepTick(RunPtr run);
  void CompleteRun(RunPtr run);
  void PostDone(RunDone done, RunExit exit);

  boost::asio::any_io_executor executor_;
  LocalRunnerOptions options_;
  boost::asio::signal_set sigchld_;
  LogHistory logs_;
  std::map<std::string, RunPtr> runs_;                         // by run uuid; active runs only
  std::unordered_map<pid_t, std::pair<RunPtr, size_t>> pids_;  // live pid -> run, proc index
  std::vector<RunPtr> sweep_queue_;  // finished runs waiting for the next shared /proc scan
  ProcessEnvCache env_cache_{std::string(kEnvRunUuid)};  // what those scans read
  boost::asio::steady_timer sweep_scan_timer_;
  std::chrono::steady_clock::time_point last_sweep_scan_{};
  uint64_t epoch_ = 0;  // bumped by KillAll; posted done callbacks of older epochs are dropped
  // Handlers hold a weak_ptr to this: expired means the runner is gone, whatever the
  // executor still has queued.
  std::shared_ptr<char> alive_ = std::make_shared<char>();
};

}  // namespace sonde
