// Helpers for the runner tests: a temp directory, shell scripts, specs and an event loop
// driven until a run is done. Test-only; single-threaded.
#pragma once

#include <dirent.h>
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <boost/asio/io_context.hpp>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <functional>
#include <memory>
#include <optional>
#include <sstream>
#include <string>
#include <vector>

#include "core/uuid.hpp"
#include "runner/local_process_runner.hpp"
#include "runner/process_sweep.hpp"

namespace sonde::testing {

// A fresh directory under /tmp, removed with everything in it.
class TempDir {
 public:
  TempDir() {
    char tmpl[] = "/tmp/sonde-runner-test-XXXXXX";
    path_ = ::mkdtemp(tmpl);
  }
  ~TempDir() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;

  const std::string& path() const { return path_; }
  std::string Sub(const std::string& name) const { return path_ + "/" + name; }

  // Writes an executable /bin/sh script and returns its absolute path.
  std::string Script(const std::string& name, const std::string& body) const {
    const std::string file = Sub(name);
    std::filesystem::create_directories(std::filesystem::path(file).parent_path());
    std::ofstream(file) << "#!/bin/sh\n" << body << "\n";
    ::chmod(file.c_str(), 0755);
    return file;
  }

 private:
  std::string path_;
};

inline std::string ReadFile(const std::string& path) {
  std::ifstream in(path);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

inline bool Exists(const std::string& path) { return std::filesystem::exists(path); }

inline Container MakeContainer(const std::string& name, std::vector<std::string> command) {
  Container c;
  c.name = name;
  c.command = std::move(command);
  return c;
}

inline std::shared_ptr<CheckSpec> MakeSpec(std::vector<Container> containers,
                                           std::vector<Container> init = {},
                                           const std::string& base_dir = "") {
  auto spec = std::make_shared<CheckSpec>();
  spec->key = CheckKey{"testns", "check"};
  spec->pod->containers = std::move(containers);
  spec->pod->init_containers = std::move(init);
  spec->base_dir = base_dir;
  return spec;
}

inline RunRequest MakeRequest(std::shared_ptr<const CheckSpec> spec) {
  return RunRequest{std::move(spec), NewUuidV4(), "http://127.0.0.1:1/check?token=t0k",
                    FromUnixSeconds(1700000123)};
}

inline size_t CountProcesses(const std::string& run_uuid) {
  return FindProcessesWithEnvEntry("KH_RUN_UUID=" + run_uuid).size();
}

inline size_t CountOpenFds() {
  size_t n = 0;
  for ([[maybe_unused]] const auto& e : std::filesystem::directory_iterator("/proc/self/fd")) ++n;
  return n;
}

// One event loop and one runner, as the daemon has.
class Harness {
 public:
  explicit Harness(LocalRunnerOptions options = {})
      : runner_(std::make_unique<LocalProcessRunner>(ctx_.get_executor(), options)) {}

  LocalProcessRunner& runner() { return *runner_; }
  boost::asio::io_context& ctx() { return ctx_; }
  void DestroyRunner() { runner_.reset(); }

  // Runs the loop until `pred` holds or `timeout` passes; returns pred().
  bool RunUntil(const std::function<bool()>& pred,
                std::chrono::milliseconds timeout = std::chrono::seconds(10)) {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    while (!pred() && std::chrono::steady_clock::now() < deadline) {
      ctx_.run_one_for(std::chrono::milliseconds(20));
      if (ctx_.stopped()) ctx_.restart();
    }
    return pred();
  }

  // Starts a run; the result lands in the returned slot when done fires.
  std::shared_ptr<std::optional<RunExit>> Start(const RunRequest& request) {
    auto slot = std::make_shared<std::optional<RunExit>>();
    runner_->Start(request, [slot](const RunExit& e) {
      EXPECT_FALSE(slot->has_value()) << "done called twice";
      *slot = e;
    });
    return slot;
  }

  // Start + wait. Empty when the run did not end in time.
  std::optional<RunExit> Run(const RunRequest& request,
                             std::chrono::milliseconds timeout = std::chrono::seconds(10)) {
    auto slot = Start(request);
    RunUntil([&] { return slot->has_value(); }, timeout);
    return *slot;
  }

 private:
  boost::asio::io_context ctx_;
  std::unique_ptr<LocalProcessRunner> runner_;
};

}  // namespace sonde::testing
