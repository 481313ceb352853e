// SpawnProcess (see spawn.hpp): posix_spawn in the common case; fork + exec (spawn_fork.cpp)
// only for a container that needs a uid/gid change, which posix_spawn cannot make.
#include "runner/spawn.hpp"

#include <fcntl.h>
#include <spawn.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <csignal>
#include <system_error>

#include "runner/spawn_internal.hpp"

namespace sonde {
namespace spawn_detail {

bool MoveAbove2(UniqueFd& fd) {
  if (fd.Get() > 2) return true;
  const int moved = ::fcntl(fd.Get(), F_DUPFD_CLOEXEC, 3);
  if (moved < 0) return false;
  fd.Reset(moved);
  return true;
}

bool MakePipe(Pipe& p) {
  int fds[2];
  if (::pipe2(fds, O_CLOEXEC) != 0) return false;
  p.read.Reset(fds[0]);
  p.write.Reset(fds[1]);
  return MoveAbove2(p.write);
}

std::vector<char*> CStrings(const std::vector<std::string>& v) {
  std::vector<char*> out;
  out.reserve(v.size() + 1);
  for (const std::string& s : v) out.push_back(const_cast<char*>(s.c_str()));
  out.push_back(nullptr);
  return out;
}

Result<SpawnedProcess> SystemError(const SpawnPlan& plan, const char* what) {
  return Result<SpawnedProcess>::Error("cannot start \"" + plan.exec_path + "\": " + what + ": " +
                                       std::system_category().message(errno));
}

std::string WorkingDirError(const SpawnPlan& plan, int error) {
  return "working directory \"" + plan.working_dir + "\": " + std::system_category().message(error);
}

}  // namespace spawn_detail

namespace {

using spawn_detail::Pipe;

// What chdir(dir) would fail with (0: nothing). posix_spawn returns one errno for all of the
// child's steps; checking the directory here keeps its errors apart from the executable's.
int WorkingDirErrno(const std::string& dir) {
  struct stat st {};
  if (::stat(dir.c_str(), &st) != 0) return errno;
  if (!S_ISDIR(st.st_mode)) return ENOTDIR;
  if (::faccessat(AT_FDCWD, dir.c_str(), X_OK, AT_EACCESS) != 0) return errno;
  return 0;
}

// posix_spawn's recipe for the child, applied in this order: own process group; stdin from
// /dev/null, stdout/stderr to the pipes; the working directory; no fd above 2 (covers fds
// other daemon threads opened without O_CLOEXEC); default dispositions for every signal
// (glibc leaves out its reserved ones); an empty signal mask.
class SpawnSetup {
 public:
  SpawnSetup(const SpawnPlan& plan, int out, int err) {
    Add(::posix_spawn_file_actions_init(&actions_));
    Add(::posix_spawnattr_init(&attr_));
    Add(::posix_spawn_file_actions_addopen(&actions_, 0, "/dev/null", O_RDONLY, 0));
    Add(::posix_spawn_file_actions_adddup2(&actions_, out, 1));
    Add(::posix_spawn_file_actions_adddup2(&actions_, err, 2));
    Add(::posix_spawn_file_actions_addchdir_np(&actions_, plan.working_dir.c_str()));
    Add(::posix_spawn_file_actions_addclosefrom_np(&actions_, 3));
    sigset_t all, none;
    ::sigfillset(&all);
    ::sigemptyset(&none);
    Add(::posix_spawnattr_setsigdefault(&attr_, &all));
    Add(::posix_spawnattr_setsigmask(&attr_, &none));
    Add(::posix_spawnattr_setpgroup(&attr_, 0));
    Add(::posix_spawnattr_setflags(
        &attr_, POSIX_SPAWN_SETPGROUP | POSIX_SPAWN_SETSIGDEF | POSIX_SPAWN_SETSIGMASK));
  }
  ~SpawnSetup() {
    ::posix_spawnattr_destroy(&attr_);
    ::posix_spawn_file_actions_destroy(&actions_);
  }
  SpawnSetup(const SpawnSetup&) = delete;
  SpawnSetup& operator=(const SpawnSetup&) = delete;

  int error() const { return error_; }  // the first failure (ENOMEM), or 0
  const posix_spawn_file_actions_t* actions() const { return &actions_; }
  const posix_spawnattr_t* attr() const { return &attr_; }

 private:
  void Add(int rc) {
    if (error_ == 0) error_ = rc;
  }
  // Zeroed so that destroy() is harmless even if init() failed (glibc: init cannot fail).
  posix_spawn_file_actions_t actions_{};
  posix_spawnattr_t attr_{};
  int error_ = 0;
};

Result<SpawnedProcess> PosixSpawn(const SpawnPlan& plan, Pipe out, Pipe err) {
  if (const int e = WorkingDirErrno(plan.working_dir); e != 0) {
    return Result<SpawnedProcess>::Error(spawn_detail::WorkingDirError(plan, e));
  }
  SpawnSetup setup(plan, out.write.Get(), err.write.Get());
  if (setup.error() != 0) {
    errno = setup.error();
    return spawn_detail::SystemError(plan, "posix_spawn");
  }
  const std::vector<char*> argv = spawn_detail::CStrings(plan.argv);
  const std::vector<char*> envp = spawn_detail::CStrings(plan.env);
  pid_t pid = -1;
  // glibc: clone(CLONE_VM | CLONE_VFORK), so no page-table copy; returns once the child has
  // exec'd, or has failed and been reaped, with the failing step's errno.
  const int rc = ::posix_spawn(&pid, plan.exec_path.c_str(), setup.actions(), setup.attr(),
                               argv.data(), envp.data());
  if (rc != 0) {
    // The directory may have gone (or changed) since the check above.
    const int e = WorkingDirErrno(plan.working_dir);
    return Result<SpawnedProcess>::Error(e != 0 ? spawn_detail::WorkingDirError(plan, e)
                                                : "cannot start \"" + plan.exec_path +
                                                      "\": " + std::system_category().message(rc));
  }
  return SpawnedProcess{pid, std::move(out.read), std::move(err.read)};
}

}  // namespace

Result<SpawnedProcess> SpawnProcess(const SpawnPlan& plan) {
  Pipe out, err;
  if (!spawn_detail::MakePipe(out) || !spawn_detail::MakePipe(err)) {
    return spawn_detail::SystemError(plan, "pipe");
  }
  if (plan.uid || plan.gid) return spawn_detail::ForkSpawn(plan, std::move(out), std::move(err));
  return PosixSpawn(plan, std::move(out), std::move(err));
}

}  // namespace sonde
