#include "cli/report_command.hpp"

#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <iostream>
#include <thread>

#include "cli/http_client.hpp"
#include "contract/json_writer.hpp"

extern char** environ;

namespace sonde {
namespace {

struct Finished {
  int exit_code = 0;  // what this process returns
  std::string how;    // "exited with code 3", "was killed by signal 9", "could not start: ..."
  std::string tail;   // last output bytes (stdout and stderr together)
};

// Runs the command with stdout and stderr into one pipe, copied through to our stdout, keeping
// the last `tail_bytes`.
Finished Run(const std::vector<std::string>& command, size_t tail_bytes) {
  Finished f;
  int fds[2];
  if (pipe2(fds, O_CLOEXEC) != 0) {
    return {127, std::string("could not start: pipe: ") + std::strerror(errno), ""};
  }
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_adddup2(&actions, fds[1], 1);
  posix_spawn_file_actions_adddup2(&actions, fds[1], 2);
  std::vector<char*> argv;
  for (const std::string& a : command) argv.push_back(const_cast<char*>(a.c_str()));
  argv.push_back(nullptr);
  pid_t pid = -1;
  const int err = posix_spawnp(&pid, argv[0], &actions, nullptr, argv.data(), environ);
  posix_spawn_file_actions_destroy(&actions);
  close(fds[1]);
  if (err != 0) {
    close(fds[0]);
    return {127, "could not start: " + command[0] + ": " + std::strerror(err), ""};
  }
  char buf[4096];
  for (;;) {
    const ssize_t n = read(fds[0], buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    (void)!write(1, buf, static_cast<size_t>(n));
    f.tail.append(buf, static_cast<size_t>(n));
    if (f.tail.size() > 2 * tail_bytes) f.tail.erase(0, f.tail.size() - tail_bytes);
  }
  close(fds[0]);
  if (f.tail.size() > tail_bytes) f.tail.erase(0, f.tail.size() - tail_bytes);
  int status = 0;
  while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  if (WIFSIGNALED(status)) {
    f.exit_code = 128 + WTERMSIG(status);
    f.how = "was killed by signal " + std::to_string(WTERMSIG(status));
  } else {
    f.exit_code = WEXITSTATUS(status);
    f.how = "exited with code " + std::to_string(f.exit_code);
  }
  return f;
}

// POSTs with Kuberhealthy's client retry rule; prints what went wrong.
void Send(const std::string& url, const std::string& body, Duration retry_for) {
  const auto end = std::chrono::steady_clock::now() + retry_for;
  auto delay = std::chrono::milliseconds(250);
  for (;;) {
    auto r = HttpCall("POST", url, body, {{"Content-Type", "application/json"}},
                      std::chrono::seconds(10));
    if (r.ok() && (r.value().status == 200 || r.value().status == 400)) {
      if (r.value().status == 400) std::cerr << "sonde report: " << url << ": " << r.value().body;
      return;
    }
    const std::string why =
        r.ok() ? std::to_string(r.value().status) + " " + r.value().body : r.error() + "\n";
    if (std::chrono::steady_clock::now() + delay > end) {
      std::cerr << "sonde report: giving up on " << url << ": " << why;
      return;
    }
    std::this_thread::sleep_for(delay);
    delay = std::min(delay * 2, std::chrono::milliseconds(8000));
  }
}

}  // namespace

std::string FailureBody(const std::vector<std::string>& command, const std::string& how,
                        const std::string& tail) {
  std::string line;
  for (const std::string& a : command) line += (line.empty() ? "" : " ") + a;
  std::vector<std::string> errors = {line + " " + how};
  std::string t = tail;
  while (!t.empty() && (t.back() == '\n' || t.back() == '\r')) t.pop_back();
  if (!t.empty()) errors.push_back("output tail: " + t);
  JsonWriter w(false);
  w.BeginObject();
  w.Key("OK");
  w.Bool(false);
  w.Key("Errors");
  w.StringArray(errors);
  w.EndObject();
  return w.str();
}

int ReportCommand(const ReportOptions& o) {
  std::string url = o.url;
  while (!url.empty() && url.back() == '/') url.pop_back();
  // One try only: an unreachable daemon must not hold the job back (only its duration is lost).
  Send(url + "/start", "", Duration{0});
  const Finished f = Run(o.command, o.tail_bytes);
  if (f.exit_code == 0) {
    Send(url, R"({"OK":true})", o.retry_for);
  } else {
    Send(url + "/fail", FailureBody(o.command, f.how, f.tail), o.retry_for);
  }
  if (f.exit_code == 127 && f.tail.empty()) std::cerr << "sonde report: " << f.how << "\n";
  return f.exit_code;
}

}  // namespace sonde
