// The per-run state of LocalProcessRunner, shared by its two source files. Private to the
// runner module.
//
// Ownership: a Run owns its Procs, their pipes and its timers; the runner owns the Runs
// (runs_) and refers to live processes by pid (pids_). Thread safety: executor only.
#pragma once

#include <sys/types.h>

#include <boost/asio/posix/stream_descriptor.hpp>
#include <boost/asio/steady_timer.hpp>
#include <chrono>
#include <memory>
#include <set>
#include <vector>

#include "runner/local_process_runner.hpp"
#include "runner/run_log.hpp"
#include "runner/unique_fd.hpp"

namespace sonde {

// The part of stderr kept for RunExit::stderr_tail.
inline constexpr size_t kStderrTailBytes = 2048;

// One of a process's output pipes.
struct LocalProcessRunner::Pipe {
  explicit Pipe(const boost::asio::any_io_executor& ex) : desc(ex) {}
  boost::asio::posix::stream_descriptor desc;
  size_t stream = 0;  // RunLog stream id
  bool open = false;
  TailBuffer tail{kStderrTailBytes};  // filled for stderr only
  bool is_stderr = false;
};

// One container's process; index matches RunExit::containers.
struct LocalProcessRunner::Proc {
  explicit Proc(const boost::asio::any_io_executor& ex) : out(ex), err(ex) {}
  size_t index = 0;
  pid_t pid = -1;        // leads process group `pid`
  bool running = false;  // not reaped yet, so its pgid cannot be recycled
  Pipe out;
  Pipe err;
};

struct LocalProcessRunner::Run {
  explicit Run(const boost::asio::any_io_executor& ex) : kill_timer(ex), sweep_timer(ex) {}
  RunRequest request;
  RunDone done;
  RunExit exit;
  std::shared_ptr<RunLog> log;
  std::vector<std::unique_ptr<Proc>> procs;  // unique_ptr: handlers keep Pipe references
  size_t live = 0;                           // processes not reaped yet
  size_t next_init = 0;
  bool main_started = false;
  bool halted = false;     // start nothing more: an init container failed, or Terminate
  bool finishing = false;  // every container exited; stray processes are being killed
  boost::asio::steady_timer kill_timer;
  boost::asio::steady_timer sweep_timer;
  std::set<pid_t> swept;         // strays already killed
  std::vector<UniqueFd> strays;  // pidfds of the current sweep round
  int sweep_round = 0;
  std::chrono::steady_clock::time_point sweep_deadline;
};

}  // namespace sonde
