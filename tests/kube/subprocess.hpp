// Test support: child processes for the Kubernetes test cluster. RunCommand runs a short command
// (openssl, curl) to completion under a deadline with bounded output; ServerProcess keeps a
// long-running server (etcd, kube-apiserver) in its own process group with its output in a log
// file. Both children get SIGKILL if the test process dies, so a crashed test leaks no servers.
// Thread safety: none; use each object from one thread. Failures are values (Result/Status).
#pragma once

#include <sys/types.h>

#include <chrono>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "core/result.hpp"

namespace sonde::kube {

struct CommandOutput {
  int exit_code = -1;      // -1 when killed by a signal or at the deadline
  std::string out;         // stdout, at most `max_output` bytes
  std::string err;         // stderr, at most `max_output` bytes
  bool timed_out = false;  // the deadline passed and the command was killed
};

// Runs argv (argv[0] an absolute path or found in PATH) with `input` on stdin. At `timeout` the
// command is killed and the output so far returned with timed_out set. Errors: the command could
// not be started, or its output exceeded `max_output`.
Result<CommandOutput> RunCommand(const std::vector<std::string>& argv, std::string_view input,
                                 std::chrono::milliseconds timeout,
                                 size_t max_output = size_t{64} << 20);

// A server process in its own process group, stdout and stderr appended to `log_path`.
// Destruction stops it (SIGTERM to the group, SIGKILL after the grace).
class ServerProcess {
 public:
  static Result<std::unique_ptr<ServerProcess>> Start(std::string name,
                                                      std::vector<std::string> argv,
                                                      std::string log_path);
  ~ServerProcess();
  ServerProcess(const ServerProcess&) = delete;
  ServerProcess& operator=(const ServerProcess&) = delete;

  const std::string& name() const { return name_; }
  const std::string& log_path() const { return log_path_; }
  pid_t pid() const { return pid_; }
  // True once the process has exited; `how` then says how ("exited with status 1").
  bool Exited(std::string* how = nullptr);
  void Stop(std::chrono::milliseconds grace = std::chrono::seconds(5));

 private:
  ServerProcess(std::string name, std::string log_path, pid_t pid);
  std::string name_;
  std::string log_path_;
  pid_t pid_ = -1;
  std::string exit_description_;
};

// The last `lines` lines of the file at `path` ("" when missing), at most 16 KiB of it.
std::string TailOfFile(const std::string& path, int lines);

}  // namespace sonde::kube
