// LocalProcessRunner: public methods, reaping and the run's progress through its containers.
// Output pipes and the end of a run are in run_finish.cpp.
#include "runner/local_process_runner.hpp"

#include <spdlog/spdlog.h>
#include <sys/prctl.h>
#include <sys/wait.h>

#include <boost/asio/post.hpp>
#include <cerrno>
#include <csignal>
#include <system_error>
#include <thread>

#include "contract/checker_env.hpp"
#include "core/clock.hpp"
#include "runner/local_process_runner_internal.hpp"
#include "runner/process_sweep.hpp"
#include "runner/spawn.hpp"

namespace sonde {
namespace {

namespace asio = boost::asio;
using std::chrono::milliseconds;

constexpr auto kKillAllWait = std::chrono::seconds(2);
constexpr auto kKillAllPoll = milliseconds(5);

// asio installs its SIGCHLD handler without SA_RESTART: every child exit would then make
// blocking calls in other daemon threads fail with EINTR. Keep asio's handler, add the flags.
void AddRestartFlags() {
  struct sigaction sa {};
  if (::sigaction(SIGCHLD, nullptr, &sa) != 0) return;
  sa.sa_flags |= SA_RESTART | SA_NOCLDSTOP;
  ::sigaction(SIGCHLD, &sa, nullptr);
}

std::string EnvEntry(const std::string& run_uuid) {
  return std::string(kEnvRunUuid) + "=" + run_uuid;
}

}  // namespace

LocalProcessRunner::LocalProcessRunner(asio::any_io_executor executor, LocalRunnerOptions options)
    : executor_(std::move(executor)),
      options_(options),
      sigchld_(executor_),
      logs_(options.logs_kept, options.log_bytes_per_run),
      sweep_scan_timer_(executor_) {
  // Orphaned grandchildren then become our children, so the reaper below collects them.
  if (::prctl(PR_SET_CHILD_SUBREAPER, 1) != 0) {
    spdlog::warn("runner: PR_SET_CHILD_SUBREAPER failed ({}); orphans go to init",
                 std::system_category().message(errno));
  }
  boost::system::error_code ec;
  sigchld_.add(SIGCHLD, ec);
  if (ec) throw std::system_error(ec, "runner: watching SIGCHLD");
  AddRestartFlags();
  WatchChildren();
  ReapChildren();  // children that exited before the handler existed sent no signal to us
}

LocalProcessRunner::~LocalProcessRunner() { KillAll(); }

void LocalProcessRunner::Start(const RunRequest& request, RunDone done) {
  if (!request.spec || runs_.count(request.run_uuid) > 0) {
    // Caller bugs, reported like a checker that could not start rather than thrown.
    RunExit exit;
    exit.containers.emplace_back().spawn_error =
        request.spec ? "run " + request.run_uuid + " is already active"
                     : "run request without a check spec";
    PostDone(std::move(done), std::move(exit));
    return;
  }
  auto run = std::make_shared<Run>(executor_);
  run->request = request;
  run->done = std::move(done);
  run->log = logs_.Begin(request.spec->key, request.run_uuid, SystemClock().Now());
  runs_.emplace(request.run_uuid, run);
  Advance(run);
}

void LocalProcessRunner::Terminate(const std::string& run_uuid) {
  auto it = runs_.find(run_uuid);
  if (it == runs_.end()) return;
  RunPtr run = it->second;
  if (run->finishing || run->exit.terminated) return;
  run->exit.terminated = true;
  run->halted = true;
  Signal(*run, SIGTERM);
  run->kill_timer.expires_after(options_.kill_grace);
  run->kill_timer.async_wait([this, alive = std::weak_ptr<char>(alive_),
                              weak = std::weak_ptr<Run>(run)](const boost::system::error_code& ec) {
    if (alive.expired() || ec) return;
    if (RunPtr r = weak.lock(); r && !r->finishing) Signal(*r, SIGKILL);
  });
}

void LocalProcessRunner::StopLeftovers(const std::string& run_uuid) {
  if (run_uuid.empty() || runs_.count(run_uuid) > 0) return;
  std::set<pid_t> seen;
  const auto killed = KillProcessesWithEnvEntry(EnvEntry(run_uuid), seen);
  if (killed.empty()) return;
  spdlog::info("run {}: killed {} process(es) left by an earlier daemon", run_uuid, killed.size());
  AllExited(killed, std::chrono::seconds(2));
}

void LocalProcessRunner::KillAll() {
  ++epoch_;              // drops done callbacks already posted
  sweep_queue_.clear();  // swept below, with every other run
  std::vector<UniqueFd> strays;
  std::map<std::string, StraySweep, std::less<>> sweeps;
  for (auto& [uuid, run] : runs_) {
    run->halted = true;
    Signal(*run, SIGKILL);
    for (UniqueFd& fd : run->strays) strays.push_back(std::move(fd));  // a sweep in progress
    if (!uuid.empty()) sweeps.emplace(uuid, StraySweep{&run->swept, &strays});
  }
  // A fresh read of every process, not env_cache_: shutdown is rare, and this sweep also covers
  // the runs' live leaders, which a forked one could have been cached before its exec.
  ProcessEnvCache fresh{std::string(kEnvRunUuid)};
  KillProcessesWithEnvValues(sweeps, fresh);
  // Synchronous on purpose: this is for shutdown, when the event loop may not run again.
  const auto deadline = std::chrono::steady_clock::now() + kKillAllWait;
  pid_t pid;
  int status;
  for (;;) {
    while (ReapOne(pid, status)) pids_.erase(pid);
    if (pids_.empty() || std::chrono::steady_clock::now() >= deadline) break;
    std::this_thread::sleep_for(kKillAllPoll);
  }
  const auto left = deadline - std::chrono::steady_clock::now();
  AllExited(strays, std::max(milliseconds(0), std::chrono::duration_cast<milliseconds>(left)));
  while (ReapOne(pid, status)) pids_.erase(pid);  // strays re-parented to us
  if (!pids_.empty()) spdlog::warn("runner: {} processes did not die on SIGKILL", pids_.size());
  for (auto& [uuid, run] : runs_) {
    for (auto& proc : run->procs) {
      ClosePipe(*run, proc->out);
      ClosePipe(*run, proc->err);
    }
  }
  runs_.clear();
  pids_.clear();
}

std::vector<RunLogs> LocalProcessRunner::Logs(const CheckKey& key) const { return logs_.Get(key); }

size_t LocalProcessRunner::ActiveRuns() const { return runs_.size(); }

void LocalProcessRunner::WatchChildren() {
  sigchld_.async_wait([this, alive = std::weak_ptr<char>(alive_)](
                          const boost::system::error_code& ec, int /*signal*/) {
    if (alive.expired() || ec) return;
    ReapChildren();
    WatchChildren();
  });
}

bool LocalProcessRunner::ReapOne(pid_t& pid, int& status) {
  for (;;) {
    siginfo_t info{};
    // WNOWAIT: look first. While our leader is an unreaped zombie its pgid cannot be recycled,
    // so killing the group reaches only what the container left behind (as Kubernetes kills a
    // container's processes when its main process exits).
    if (::waitid(P_ALL, 0, &info, WEXITED | WNOHANG | WNOWAIT) != 0 || info.si_pid == 0) {
      return false;
    }
    pid = info.si_pid;
    if (pids_.count(pid) > 0) ::kill(-pid, SIGKILL);
    if (::waitpid(pid, &status, WNOHANG) == pid) return true;
  }
}

void LocalProcessRunner::ReapChildren() {
  pid_t pid;
  int status;
  // SIGCHLD coalesces: one signal may stand for many exits, so reap until none is left.
  while (ReapOne(pid, status)) {
    auto it = pids_.find(pid);
    if (it == pids_.end()) continue;  // a re-parented orphan: reaping it is all we owe it
    auto [run, index] = std::move(it->second);
    pids_.erase(it);
    OnProcessExit(run, *run->procs[index], status);
  }
}

void LocalProcessRunner::OnProcessExit(const RunPtr& run, Proc& proc, int status) {
  proc.running = false;
  --run->live;
  ContainerExit& e = run->exit.containers[proc.index];
  if (WIFSIGNALED(status)) {
    e.signaled = true;
    e.signal = WTERMSIG(status);
  } else {
    e.exit_code = WEXITSTATUS(status);
  }
  spdlog::debug("run {}: container {} (pid {}) ended: {} {}", run->request.run_uuid, e.container,
                proc.pid, e.signaled ? "signal" : "exit", e.signaled ? e.signal : e.exit_code);
  if (e.init && (e.signaled || e.exit_code != 0)) run->halted = true;
  Advance(run);
}

void LocalProcessRunner::Advance(const RunPtr& run) {
  if (run->live > 0 || run->finishing) return;
  const PodSpec& pod = *run->request.spec->pod;
  while (!run->halted && run->next_init < pod.init_containers.size()) {
    if (StartContainer(run, pod.init_containers[run->next_init++], /*init=*/true)) return;
    run->halted = true;
  }
  if (!run->halted && !run->main_started) {
    run->main_started = true;
    for (const Container& c : pod.containers) StartContainer(run, c, /*init=*/false);
    if (run->live > 0) return;
  }
  BeginFinish(run);
}

bool LocalProcessRunner::StartContainer(const RunPtr& run, const Container& container, bool init) {
  ContainerExit& entry = run->exit.containers.emplace_back();
  entry.container = container.name;
  entry.init = init;
  auto& proc = *run->procs.emplace_back(std::make_unique<Proc>(executor_));
  proc.index = run->procs.size() - 1;
  Result<SpawnPlan> plan = PlanSpawn(container, run->request, SpawnHost::Current());
  Result<SpawnedProcess> spawned =
      plan.ok() ? SpawnProcess(plan.value()) : Result<SpawnedProcess>::Error(plan.error());
  if (!spawned.ok()) {
    entry.spawn_error = spawned.error();
    const size_t stream = run->log->AddStream(container.name);
    run->log->Append(stream, "sonde: " + spawned.error() + "\n");
    spdlog::info("run {}: container {}: {}", run->request.run_uuid, container.name,
                 spawned.error());
    return false;
  }
  entry.started = true;
  proc.pid = spawned.value().pid;
  proc.running = true;
  ++run->live;
  pids_[proc.pid] = {run, proc.index};
  OpenPipe(run, proc.out, std::move(spawned.value().out), container.name, false);
  OpenPipe(run, proc.err, std::move(spawned.value().err), container.name, true);
  return true;
}

void LocalProcessRunner::Signal(Run& run, int sig) {
  for (const auto& proc : run.procs) {
    if (proc->running) ::kill(-proc->pid, sig);  // unreaped leader: the pgid is still ours
  }
}

void LocalProcessRunner::PostDone(RunDone done, RunExit exit) {
  asio::post(executor_, [this, alive = std::weak_ptr<char>(alive_), epoch = epoch_,
                         done = std::move(done), exit = std::move(exit)] {
    if (alive.expired() || epoch != epoch_ || !done) return;
    done(exit);
  });
}

}  // namespace sonde
