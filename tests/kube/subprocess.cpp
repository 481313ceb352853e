#include "kube/subprocess.hpp"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <thread>

extern char** environ;

namespace sonde::kube {
namespace {

using Clock = std::chrono::steady_clock;

std::string Errno(const std::string& what) { return what + ": " + std::strerror(errno); }

// argv as the char* array execvp wants; built before fork so the child allocates nothing.
std::vector<char*> CArgv(std::vector<std::string>& argv) {
  std::vector<char*> out;
  for (auto& a : argv) out.push_back(a.data());
  out.push_back(nullptr);
  return out;
}

// In the child, before exec: die with the test process, so a crashed test leaks no server.
void DieWithParent(pid_t parent) {
  prctl(PR_SET_PDEATHSIG, SIGKILL);
  if (getppid() != parent) _exit(126);
}

std::string DescribeStatus(int status) {
  if (WIFEXITED(status)) return "exited with status " + std::to_string(WEXITSTATUS(status));
  if (WIFSIGNALED(status)) return std::string("killed by signal ") + strsignal(WTERMSIG(status));
  return "stopped";
}

struct Pipes {
  int in[2] = {-1, -1};  // a socket pair, so writes can use MSG_NOSIGNAL
  int out[2] = {-1, -1};
  int err[2] = {-1, -1};
  ~Pipes() {
    for (int* p : {in, out, err})
      for (int i = 0; i < 2; ++i)
        if (p[i] >= 0) close(p[i]);
  }
  Status Open() {
    if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, in) != 0 || pipe2(out, O_CLOEXEC) != 0 ||
        pipe2(err, O_CLOEXEC) != 0) {
      return Status::Error(Errno("pipe"));
    }
    return Status::Ok();
  }
};

void CloseFd(int& fd) {
  if (fd >= 0) close(fd);
  fd = -1;
}

// Moves data between the parent's ends of the pipes until the child closes its output or the
// deadline passes (then sets result.timed_out).
Status Pump(Pipes& p, std::string_view input, Clock::time_point deadline, size_t max_output,
            CommandOutput& result) {
  size_t written = 0;
  if (input.empty()) shutdown(p.in[0], SHUT_WR);
  char buf[16384];
  while (p.out[0] >= 0 || p.err[0] >= 0) {
    const auto left =
        std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now());
    if (left.count() <= 0) {
      result.timed_out = true;
      return Status::Ok();
    }
    pollfd fds[3] = {{p.out[0], POLLIN, 0}, {p.err[0], POLLIN, 0}, {-1, POLLOUT, 0}};
    if (written < input.size()) fds[2].fd = p.in[0];
    const int n = poll(fds, 3, static_cast<int>(std::min<long>(left.count(), 1000)));
    if (n < 0 && errno != EINTR) return Status::Error(Errno("poll"));
    if (fds[2].revents != 0) {
      const ssize_t w = send(p.in[0], input.data() + written, input.size() - written, MSG_NOSIGNAL);
      written = w > 0 ? written + static_cast<size_t>(w) : input.size();  // EPIPE: child is done
      if (written == input.size()) shutdown(p.in[0], SHUT_WR);
    }
    for (int i = 0; i < 2; ++i) {
      if (fds[i].revents == 0) continue;
      int& fd = i == 0 ? p.out[0] : p.err[0];
      std::string& sink = i == 0 ? result.out : result.err;
      const ssize_t r = read(fd, buf, sizeof buf);
      if (r <= 0) {
        CloseFd(fd);
        continue;
      }
      sink.append(buf, static_cast<size_t>(r));
      if (sink.size() > max_output) {
        return Status::Error("output exceeds " + std::to_string(max_output) + " bytes");
      }
    }
  }
  return Status::Ok();
}

}  // namespace

Result<CommandOutput> RunCommand(const std::vector<std::string>& argv_in, std::string_view input,
                                 std::chrono::milliseconds timeout, size_t max_output) {
  if (argv_in.empty()) return Result<CommandOutput>::Error("RunCommand: empty argv");
  std::vector<std::string> argv = argv_in;
  std::vector<char*> cargv = CArgv(argv);
  Pipes p;
  if (Status s = p.Open(); !s.ok()) return Result<CommandOutput>::Error(s.message());
  const pid_t parent = getpid();
  const auto deadline = Clock::now() + timeout;
  const pid_t pid = fork();
  if (pid < 0) return Result<CommandOutput>::Error(Errno("fork " + argv[0]));
  if (pid == 0) {
    DieWithParent(parent);
    dup2(p.in[1], 0);
    dup2(p.out[1], 1);
    dup2(p.err[1], 2);
    execvp(cargv[0], cargv.data());
    const char msg[] = "exec failed\n";
    (void)!write(2, msg, sizeof msg - 1);
    _exit(127);
  }
  CloseFd(p.in[1]);
  CloseFd(p.out[1]);
  CloseFd(p.err[1]);
  CommandOutput result;
  const Status pumped = Pump(p, input, deadline, max_output, result);
  int status = 0;
  if (!pumped.ok() || result.timed_out) kill(pid, SIGKILL);
  while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  if (!pumped.ok()) return Result<CommandOutput>::Error(argv[0] + ": " + pumped.message());
  result.exit_code = WIFEXITED(status) && !result.timed_out ? WEXITSTATUS(status) : -1;
  if (result.exit_code == 127 && result.err == "exec failed\n") {
    return Result<CommandOutput>::Error("cannot run " + argv[0] + " (not installed?)");
  }
  return result;
}

Result<std::unique_ptr<ServerProcess>> ServerProcess::Start(std::string name,
                                                            std::vector<std::string> argv,
                                                            std::string log_path) {
  using R = Result<std::unique_ptr<ServerProcess>>;
  if (argv.empty()) return R::Error(name + ": empty argv");
  const int log = open(log_path.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
  if (log < 0) return R::Error(Errno("open " + log_path));
  const int null = open("/dev/null", O_RDONLY | O_CLOEXEC);
  std::vector<char*> cargv = CArgv(argv);
  const pid_t parent = getpid();
  const pid_t pid = fork();
  if (pid == 0) {
    setpgid(0, 0);
    DieWithParent(parent);
    dup2(null, 0);
    dup2(log, 1);
    dup2(log, 2);
    execv(cargv[0], cargv.data());
    const char msg[] = "exec failed\n";
    (void)!write(2, msg, sizeof msg - 1);
    _exit(127);
  }
  close(log);
  close(null);
  if (pid < 0) return R::Error(Errno("fork " + name));
  setpgid(pid, pid);  // also here, so a Stop() right away cannot miss the group
  return std::unique_ptr<ServerProcess>(
      new ServerProcess(std::move(name), std::move(log_path), pid));
}

ServerProcess::ServerProcess(std::string name, std::string log_path, pid_t pid)
    : name_(std::move(name)), log_path_(std::move(log_path)), pid_(pid) {}

ServerProcess::~ServerProcess() { Stop(); }

bool ServerProcess::Exited(std::string* how) {
  if (pid_ > 0) {
    int status = 0;
    if (waitpid(pid_, &status, WNOHANG) == pid_) {
      exit_description_ = DescribeStatus(status);
      kill(-pid_, SIGKILL);  // whatever it left behind in its group
      pid_ = -1;
    }
  }
  if (pid_ > 0) return false;
  if (how != nullptr) *how = exit_description_;
  return true;
}

void ServerProcess::Stop(std::chrono::milliseconds grace) {
  if (Exited()) return;
  kill(-pid_, SIGTERM);
  const auto end = Clock::now() + grace;
  while (Clock::now() < end) {
    if (Exited()) return;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  kill(-pid_, SIGKILL);
  int status = 0;
  while (waitpid(pid_, &status, 0) < 0 && errno == EINTR) {
  }
  exit_description_ = DescribeStatus(status);
  pid_ = -1;
}

std::string TailOfFile(const std::string& path, int lines) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return "";
  in.seekg(0, std::ios::end);
  const std::streamoff size = in.tellg();
  const std::streamoff from = std::max<std::streamoff>(0, size - 16384);
  in.seekg(from);
  std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  size_t start = text.size();
  if (start > 0 && text[start - 1] == '\n') --start;  // the final newline ends the last line
  for (int n = 0; n < lines; ++n) {
    const size_t newline = start == 0 ? std::string::npos : text.rfind('\n', start - 1);
    if (newline == std::string::npos) return text;
    start = newline;
  }
  return text.substr(start + 1);
}

}  // namespace sonde::kube
