#include "support/daemon_process.hpp"

#include <gtest/gtest.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <sstream>

namespace sonde::testing {

namespace fs = std::filesystem;

TempDir::TempDir() {
  std::string tmpl = (fs::temp_directory_path() / "sonde-test-XXXXXX").string();
  if (mkdtemp(tmpl.data()) == nullptr) std::abort();
  path_ = tmpl;
}

TempDir::~TempDir() {
  std::error_code ec;
  fs::remove_all(path_, ec);
}

void TempDir::Write(const std::string& name, const std::string& content, bool executable) const {
  const fs::path p = fs::path(path_) / name;
  fs::create_directories(p.parent_path());
  const std::string tmp = p.string() + ".tmp~";
  {
    std::ofstream out(tmp);
    out << content;
  }
  if (executable) chmod(tmp.c_str(), 0755);
  fs::rename(tmp, p);
}

std::string TempDir::Read(const std::string& name) const {
  std::ifstream in(fs::path(path_) / name);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

bool TempDir::Exists(const std::string& name) const { return fs::exists(fs::path(path_) / name); }

void TempDir::Remove(const std::string& name) const {
  std::error_code ec;
  fs::remove(fs::path(path_) / name, ec);
}

std::string SondeBinary() { return std::string(SONDE_BINARY_DIR) + "/sonde"; }

DaemonProcess::DaemonProcess(const std::string& checks_dir, std::vector<std::string> extra_args) {
  const std::string ready = dir_.path() + "/ready";
  const std::string log = dir_.path() + "/daemon.log";
  std::vector<std::string> args = {SondeBinary(), "serve", "--checks", checks_dir,
                                   "--ready-file", ready, "--reload-interval", "200ms",
                                   "--instance-name", "sonde-test"};
  const auto given = [&](const char* flag) {
    return std::find(extra_args.begin(), extra_args.end(), flag) != extra_args.end();
  };
  if (!given("--listen")) extra_args.insert(extra_args.end(), {"--listen", "127.0.0.1:0"});
  if (!given("--state-dir")) extra_args.insert(extra_args.end(), {"--state-dir", dir_.path() + "/state"});
  // Tests stop daemons often: do not wait the default 10s for checkers still in flight.
  if (!given("--shutdown-timeout")) {
    extra_args.insert(extra_args.end(), {"--shutdown-timeout", "1s"});
  }
  args.insert(args.end(), extra_args.begin(), extra_args.end());
  pid_ = fork();
  if (pid_ == 0) {
    FILE* f = freopen(log.c_str(), "w", stderr);
    (void)f;
    std::vector<char*> argv;
    for (auto& a : args) argv.push_back(a.data());
    argv.push_back(nullptr);
    execv(argv[0], argv.data());
    _exit(127);
  }
  const bool up = Eventually([&] { return dir_.Exists("ready"); }, std::chrono::seconds(20));
  if (!up) {
    ADD_FAILURE() << "sonde did not start; its log:\n" << this->log();
    return;
  }
  url_ = dir_.Read("ready");
  while (!url_.empty() && url_.back() == '\n') url_.pop_back();
}

DaemonProcess::~DaemonProcess() {
  if (pid_ > 0) Terminate(std::chrono::seconds(5));
}

std::string DaemonProcess::log() const { return dir_.Read("daemon.log"); }

ClientResponse DaemonProcess::Get(const std::string& path) const {
  auto r = HttpCall("GET", url_ + path);
  EXPECT_TRUE(r.ok()) << "GET " << path << ": " << (r.ok() ? "" : r.error());
  return r.ok() ? r.value() : ClientResponse{};
}

ClientResponse DaemonProcess::Post(
    const std::string& path, const std::string& body,
    const std::vector<std::pair<std::string, std::string>>& headers) const {
  auto r = HttpCall("POST", url_ + path, body, headers);
  EXPECT_TRUE(r.ok()) << "POST " << path << ": " << (r.ok() ? "" : r.error());
  return r.ok() ? r.value() : ClientResponse{};
}

void DaemonProcess::Kill() {
  if (pid_ <= 0) return;
  kill(pid_, SIGKILL);
  waitpid(pid_, nullptr, 0);
  pid_ = -1;
}

int DaemonProcess::Terminate(std::chrono::milliseconds wait) {
  if (pid_ <= 0) return -1;
  kill(pid_, SIGTERM);
  int status = 0;
  const bool exited = Eventually(
      [&] { return waitpid(pid_, &status, WNOHANG) == pid_; }, wait);
  if (!exited) {
    ADD_FAILURE() << "sonde did not exit after SIGTERM; killing it. Log:\n" << log();
    kill(pid_, SIGKILL);
    waitpid(pid_, &status, 0);
  }
  pid_ = -1;
  return status;
}

std::vector<pid_t> ProcessesWithEnv(const std::string& needle) {
  std::vector<pid_t> out;
  std::error_code ec;
  for (const auto& entry : fs::directory_iterator("/proc", ec)) {
    const std::string name = entry.path().filename().string();
    if (name.find_first_not_of("0123456789") != std::string::npos) continue;
    std::ifstream in(entry.path() / "environ", std::ios::binary);
    std::string env((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    std::string stat;
    std::ifstream st(entry.path() / "stat");
    std::getline(st, stat);
    const size_t close = stat.rfind(')');
    const bool zombie = close != std::string::npos && close + 2 < stat.size() && stat[close + 2] == 'Z';
    if (!zombie && env.find(needle) != std::string::npos) out.push_back(std::stoi(name));
  }
  return out;
}

}  // namespace sonde::testing
