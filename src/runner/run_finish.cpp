// LocalProcessRunner: reading the output pipes and ending a run (strays, drain, `done`).
#include <spdlog/spdlog.h>

#include <array>
#include <boost/asio/error.hpp>
#include <chrono>
#include <map>
#include <utility>

#include "contract/checker_env.hpp"
#include "runner/local_process_runner.hpp"
#include "runner/local_process_runner_internal.hpp"
#include "runner/process_sweep.hpp"

namespace sonde {
namespace {

namespace asio = boost::asio;
using std::chrono::milliseconds;

// Per wakeup, so that one chatty checker cannot starve the event loop.
constexpr size_t kReadPerWakeup = 64 * 1024;
// At the end of a run: what is readable now, bounded in case a stray still writes.
constexpr size_t kDrainLimit = 1024 * 1024;
constexpr auto kSweepPoll = milliseconds(5);
constexpr auto kSweepWait = std::chrono::seconds(2);
// A stray may fork between our /proc scan and its death; a few rescans catch its children.
constexpr int kMaxSweepRounds = 5;
constexpr auto kSweepScanGap = milliseconds(2);

std::chrono::steady_clock::time_point SteadyNow() { return std::chrono::steady_clock::now(); }

}  // namespace

void LocalProcessRunner::OpenPipe(const RunPtr& run, Pipe& pipe, UniqueFd fd,
                                  const std::string& container, bool is_stderr) {
  pipe.stream = run->log->AddStream(container);
  pipe.is_stderr = is_stderr;
  boost::system::error_code ec;
  pipe.desc.assign(fd.Get(), ec);
  if (!ec) {
    fd.Release();
    pipe.desc.non_blocking(true, ec);  // our reads must never block the event loop
  }
  if (ec) {
    spdlog::warn("run {}: cannot watch the output of {}: {}", run->request.run_uuid, container,
                 ec.message());
    return;  // `fd` closes; the checker gets EPIPE/SIGPIPE if it writes
  }
  pipe.open = true;
  WatchPipe(run, pipe);
}

void LocalProcessRunner::WatchPipe(const RunPtr& run, Pipe& pipe) {
  // Wait for readability and read ourselves (rather than async_read_some): data stays in the
  // pipe until we take it, so the final drain never races with a completed, queued read.
  pipe.desc.async_wait(asio::posix::descriptor_base::wait_read,
                       [this, alive = std::weak_ptr<char>(alive_), weak = std::weak_ptr<Run>(run),
                        &pipe](const boost::system::error_code& ec) {
                         if (alive.expired() || ec) return;
                         RunPtr r = weak.lock();
                         if (!r || !pipe.open) return;
                         ReadPipe(*r, pipe, kReadPerWakeup);
                         if (pipe.open) WatchPipe(r, pipe);
                       });
}

void LocalProcessRunner::ReadPipe(Run& run, Pipe& pipe, size_t max_bytes) {
  std::array<char, 8192> buf;
  size_t total = 0;
  while (pipe.open && total < max_bytes) {
    boost::system::error_code ec;
    const size_t n = pipe.desc.read_some(asio::buffer(buf), ec);
    if (ec == asio::error::would_block || ec == asio::error::try_again) return;
    if (ec == asio::error::interrupted) continue;
    if (ec) {  // EOF, or an error we cannot do anything about
      ClosePipe(run, pipe);
      return;
    }
    const std::string_view chunk(buf.data(), n);
    run.log->Append(pipe.stream, chunk);
    if (pipe.is_stderr) pipe.tail.Append(chunk);
    total += n;
  }
}

void LocalProcessRunner::ClosePipe(Run& run, Pipe& pipe) {
  if (!pipe.open) return;
  pipe.open = false;
  run.log->Close(pipe.stream);
  boost::system::error_code ignored;
  pipe.desc.close(ignored);  // a pending async_wait completes with operation_aborted
}

void LocalProcessRunner::BeginFinish(RunPtr run) {
  run->finishing = true;
  run->kill_timer.cancel();
  SweepStrays(std::move(run));
}

// Container process groups are already SIGKILLed (at each leader's exit); what is left are
// processes that left their group, found by the KH_RUN_UUID their environment inherited.
// Runs ending close together share one /proc scan (ScanForStrays), at most one per
// kSweepScanGap: under load a scan per run was a fifth of the daemon's CPU per run.
void LocalProcessRunner::SweepStrays(RunPtr run) {
  const std::string& uuid = run->request.run_uuid;
  if (uuid.empty()) return CompleteRun(std::move(run));  // "KH_RUN_UUID=" would match others
  if (++run->sweep_round > kMaxSweepRounds) {
    spdlog::warn("run {}: strays keep appearing; giving up after {} sweeps", uuid, kMaxSweepRounds);
    return CompleteRun(std::move(run));
  }
  sweep_queue_.push_back(std::move(run));
  if (sweep_queue_.size() > 1) return;  // a scan is already due
  sweep_scan_timer_.expires_at(std::max(last_sweep_scan_ + kSweepScanGap, SteadyNow()));
  sweep_scan_timer_.async_wait(
      [this, alive = std::weak_ptr<char>(alive_)](const boost::system::error_code& ec) {
        if (!alive.expired() && !ec) ScanForStrays();
      });
}

void LocalProcessRunner::ScanForStrays() {
  std::vector<RunPtr> batch = std::exchange(sweep_queue_, {});
  last_sweep_scan_ = SteadyNow();
  std::map<std::string, StraySweep, std::less<>> sweeps;
  for (const RunPtr& run : batch) {
    run->strays.clear();
    sweeps.emplace(run->request.run_uuid, StraySweep{&run->swept, &run->strays});
  }
  KillProcessesWithEnvValues(sweeps, env_cache_);
  for (RunPtr& run : batch) {
    if (run->strays.empty()) {
      CompleteRun(std::move(run));
      continue;
    }
    spdlog::debug("run {}: killed {} leftover process(es)", run->request.run_uuid,
                  run->strays.size());
    run->sweep_deadline = SteadyNow() + kSweepWait;
    OnSweepTick(std::move(run));
  }
}

// `done` promises the run's processes have exited, so wait for the SIGKILLed strays to die.
void LocalProcessRunner::OnSweepTick(RunPtr run) {
  if (AllExited(run->strays, milliseconds(0))) return SweepStrays(std::move(run));
  if (SteadyNow() >= run->sweep_deadline) {
    spdlog::warn("run {}: {} leftover process(es) did not die within {}s", run->request.run_uuid,
                 run->strays.size(), kSweepWait.count());
    return CompleteRun(std::move(run));
  }
  run->sweep_timer.expires_after(kSweepPoll);
  run->sweep_timer.async_wait(
      [this, alive = std::weak_ptr<char>(alive_),
       weak = std::weak_ptr<Run>(run)](const boost::system::error_code& ec) {
        if (alive.expired() || ec) return;
        if (RunPtr r = weak.lock()) OnSweepTick(std::move(r));
      });
}

void LocalProcessRunner::CompleteRun(RunPtr run) {
  run->sweep_timer.cancel();
  run->strays.clear();
  // Not waiting for EOF: a stray may have held the write end; what was written is readable.
  for (auto& proc : run->procs) {
    for (Pipe* pipe : {&proc->out, &proc->err}) {
      ReadPipe(*run, *pipe, kDrainLimit);
      ClosePipe(*run, *pipe);
    }
  }
  RunExit exit = std::move(run->exit);
  for (const ContainerExit& c : exit.containers) {
    if (c.started && !c.signaled && c.exit_code == 0) continue;
    const Proc& proc = *run->procs[static_cast<size_t>(&c - exit.containers.data())];
    exit.stderr_tail = proc.err.tail.Str();
    break;
  }
  runs_.erase(run->request.run_uuid);
  PostDone(std::move(run->done), std::move(exit));
}

}  // namespace sonde
