// Test support: a real `sonde serve` process on an ephemeral loopback port, with its own
// temporary check directory; stopped (SIGTERM, then SIGKILL) and cleaned up on destruction.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <string>
#include <vector>

#include "cli/http_client.hpp"

namespace sonde::testing {

// A temporary directory removed (recursively) on destruction.
class TempDir {
 public:
  TempDir();
  ~TempDir();
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  const std::string& path() const { return path_; }
  // Writes `content` to path()/name (creating parent directories), atomically via rename.
  void Write(const std::string& name, const std::string& content, bool executable = false) const;
  std::string Read(const std::string& name) const;  // "" when missing
  bool Exists(const std::string& name) const;
  void Remove(const std::string& name) const;

 private:
  std::string path_;
};

class DaemonProcess {
 public:
  // Starts build/sonde serve --listen 127.0.0.1:0 --checks <checks_dir> plus `extra_args`,
  // and waits (at most 20s) until it serves. Fails the test (ADD_FAILURE) if it does not.
  // The state directory is private unless `extra_args` names one with --state-dir; likewise
  // the listen address (127.0.0.1:0) unless they give --listen.
  DaemonProcess(const std::string& checks_dir, std::vector<std::string> extra_args = {});
  ~DaemonProcess();
  DaemonProcess(const DaemonProcess&) = delete;
  DaemonProcess& operator=(const DaemonProcess&) = delete;

  const std::string& url() const { return url_; }  // "http://127.0.0.1:PORT"
  pid_t pid() const { return pid_; }
  std::string log() const;  // what the daemon wrote to stderr so far

  ClientResponse Get(const std::string& path) const;
  ClientResponse Post(const std::string& path, const std::string& body,
                      const std::vector<std::pair<std::string, std::string>>& headers = {}) const;

  // SIGTERM and wait for exit (at most `wait`); returns the exit status as from waitpid.
  int Terminate(std::chrono::milliseconds wait = std::chrono::seconds(20));
  // SIGKILL, as a crash would: no clean-up at all.
  void Kill();

 private:
  TempDir dir_;
  std::string url_;
  pid_t pid_ = -1;
};

// The sonde binary built with these tests.
std::string SondeBinary();

// Polls `pred` every 50ms until it is true or `limit` passes. Returns pred's last value.
template <class Pred>
bool Eventually(Pred pred, std::chrono::milliseconds limit = std::chrono::seconds(15)) {
  const auto end = std::chrono::steady_clock::now() + limit;
  while (std::chrono::steady_clock::now() < end) {
    if (pred()) return true;
    struct timespec ts{0, 50'000'000};
    nanosleep(&ts, nullptr);
  }
  return pred();
}

// Pids of live processes whose environment contains `needle` (e.g. "SONDE_TEST_MARK=x").
std::vector<pid_t> ProcessesWithEnv(const std::string& needle);

}  // namespace sonde::testing
