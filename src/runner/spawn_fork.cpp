// ForkSpawn: fork + exec, for containers with runAsUser/runAsGroup, which posix_spawn cannot
// apply (see spawn.hpp). Between fork and exec the child runs only async-signal-safe system
// calls on memory prepared by the parent: the parent may have other threads whose locks
// (malloc, stdio) are frozen in the child.
#include <fcntl.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <csignal>
#include <system_error>

#include "runner/spawn_internal.hpp"

namespace sonde::spawn_detail {
namespace {

// The step of the child's setup that failed, sent to the parent with errno.
enum class Step : int {
  kSetpgid,
  kStdio,
  kSetgroups,
  kSetgid,
  kSetuid,
  kChdir,
  kDeathSig,
  kCloseRange,
  kExec
};

struct ChildFailure {
  Step step;
  int error;
};

// What the child reads; all pointers into memory owned by the parent's stack frame.
struct ChildArgs {
  const SpawnPlan* plan;
  char* const* argv;
  char* const* envp;
  int stdin_fd, stdout_fd, stderr_fd, report_fd;
  pid_t parent;
};

[[noreturn]] void Fail(int report_fd, Step step) {
  const ChildFailure f{step, errno};
  // A short write cannot happen for 8 bytes into an empty pipe; nothing to do if it fails.
  [[maybe_unused]] ssize_t n = ::write(report_fd, &f, sizeof(f));
  ::_exit(127);
}

// Raw syscalls: glibc's wrappers broadcast credential changes to all threads, machinery that
// is not async-signal-safe and pointless in the single-threaded child.
void DropPrivileges(const SpawnPlan& plan, int report_fd) {
  if (plan.gid) {
    const gid_t gid = *plan.gid;
    if (::syscall(SYS_setgroups, 1, &gid) != 0) Fail(report_fd, Step::kSetgroups);
    if (::syscall(SYS_setgid, gid) != 0) Fail(report_fd, Step::kSetgid);
  } else if (plan.uid) {
    // Without runAsGroup keep the gid (as Kubernetes does) but not root's extra groups.
    if (::syscall(SYS_setgroups, 0, nullptr) != 0) Fail(report_fd, Step::kSetgroups);
  }
  if (plan.uid && ::syscall(SYS_setuid, *plan.uid) != 0) Fail(report_fd, Step::kSetuid);
}

[[noreturn]] void RunChild(const ChildArgs& a) {
  // The daemon ignores SIGPIPE and asio's handlers must not run here: reset every
  // disposition while all signals are still blocked (the parent blocked them around fork).
  struct sigaction dfl {};
  dfl.sa_handler = SIG_DFL;
  for (int sig = 1; sig < NSIG; ++sig) ::sigaction(sig, &dfl, nullptr);  // EINVAL for some: fine
  if (::setpgid(0, 0) != 0) Fail(a.report_fd, Step::kSetpgid);
  if (::dup2(a.stdin_fd, 0) < 0 || ::dup2(a.stdout_fd, 1) < 0 || ::dup2(a.stderr_fd, 2) < 0) {
    Fail(a.report_fd, Step::kStdio);
  }
  DropPrivileges(*a.plan, a.report_fd);
  // After the uid change, so that the directory is checked with the checker's permissions.
  if (::chdir(a.plan->working_dir.c_str()) != 0) Fail(a.report_fd, Step::kChdir);
  // Set after setuid, which clears it. A daemon crash then takes its direct children along.
  if (::prctl(PR_SET_PDEATHSIG, SIGKILL) != 0) Fail(a.report_fd, Step::kDeathSig);
  if (::getppid() != a.parent) ::_exit(127);  // the daemon died before prctl
  // Covers fds other daemon threads opened without O_CLOEXEC; the report pipe is already
  // close-on-exec and must stay open until execve.
  if (::close_range(3, ~0U, CLOSE_RANGE_CLOEXEC) != 0) Fail(a.report_fd, Step::kCloseRange);
  sigset_t none;
  ::sigemptyset(&none);
  ::sigprocmask(SIG_SETMASK, &none, nullptr);
  ::execve(a.plan->exec_path.c_str(), a.argv, a.envp);
  Fail(a.report_fd, Step::kExec);
}

std::string Describe(const SpawnPlan& plan, const ChildFailure& f) {
  const std::string why = std::system_category().message(f.error);
  switch (f.step) {
    case Step::kExec:
      return "cannot start \"" + plan.exec_path + "\": " + why;
    case Step::kChdir:
      return WorkingDirError(plan, f.error);
    case Step::kSetuid:
      return "runAsUser " + std::to_string(plan.uid.value_or(0)) + ": setuid: " + why;
    case Step::kSetgid:
      return "runAsGroup " + std::to_string(plan.gid.value_or(0)) + ": setgid: " + why;
    case Step::kSetgroups:
      return "setgroups: " + why;
    case Step::kSetpgid:
      return "setpgid: " + why;
    case Step::kStdio:
      return "redirecting stdio: " + why;
    case Step::kDeathSig:
      return "prctl(PR_SET_PDEATHSIG): " + why;
    case Step::kCloseRange:
      return "close_range: " + why;
  }
  return why;
}

// Waits for the child's exec (the report pipe closes) or its failure report.
Result<SpawnedProcess> AwaitExec(const SpawnPlan& plan, pid_t pid, UniqueFd report,
                                 SpawnedProcess done) {
  ChildFailure f{};
  ssize_t n;
  do {
    n = ::read(report.Get(), &f, sizeof(f));
  } while (n < 0 && errno == EINTR);
  if (n == 0) return done;
  // The child is exiting right now: reap it here so no SIGCHLD consumer ever sees it.
  while (::waitpid(pid, nullptr, 0) < 0 && errno == EINTR) {
  }
  if (n != sizeof(f)) return SystemError(plan, "reading the exec status");
  return Result<SpawnedProcess>::Error(Describe(plan, f));
}

}  // namespace

Result<SpawnedProcess> ForkSpawn(const SpawnPlan& plan, Pipe out, Pipe err) {
  UniqueFd devnull(::open("/dev/null", O_RDONLY | O_CLOEXEC));
  if (!devnull.Valid() || !MoveAbove2(devnull)) return SystemError(plan, "/dev/null");
  Pipe report;
  if (!MakePipe(report)) return SystemError(plan, "pipe");
  const std::vector<char*> argv = CStrings(plan.argv);
  const std::vector<char*> envp = CStrings(plan.env);
  const ChildArgs args{&plan,           argv.data(),     envp.data(),        devnull.Get(),
                       out.write.Get(), err.write.Get(), report.write.Get(), ::getpid()};

  sigset_t all, old;
  ::sigfillset(&all);
  ::pthread_sigmask(SIG_SETMASK, &all, &old);
  const pid_t pid = ::fork();
  if (pid == 0) RunChild(args);
  const int fork_errno = errno;
  ::pthread_sigmask(SIG_SETMASK, &old, nullptr);
  if (pid < 0) {
    errno = fork_errno;
    return SystemError(plan, "fork");
  }
  report.write.Reset();  // else read() below never sees EOF
  SpawnedProcess done{pid, std::move(out.read), std::move(err.read)};
  return AwaitExec(plan, pid, std::move(report.read), std::move(done));
}

}  // namespace sonde::spawn_detail
