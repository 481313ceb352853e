#include "runner/process_sweep.hpp"

#include <dirent.h>
#include <fcntl.h>
#include <poll.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <csignal>
#include <cstdlib>
#include <memory>
#include <string>

namespace sonde {
namespace {

// Environments beyond this are not scanned further; the contract variables come from our
// own execve() and the daemon's environment is small.
constexpr size_t kMaxEnvironBytes = 1 << 20;

// Reads /proc/<pid>/environ (NUL-separated entries); empty for zombies and unreadable ones.
std::string ReadEnviron(pid_t pid) {
  const std::string path = "/proc/" + std::to_string(pid) + "/environ";
  UniqueFd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
  if (!fd.Valid()) return {};
  std::string data;
  char buf[8192];
  while (data.size() < kMaxEnvironBytes) {
    const ssize_t n = ::read(fd.Get(), buf, sizeof(buf));
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    data.append(buf, static_cast<size_t>(n));
  }
  return data;
}

// Calls `visit(entry)` for each NUL-separated entry until it returns true; true if one did.
template <typename Visit>
bool AnyEntry(std::string_view environ, Visit visit) {
  size_t begin = 0;
  while (begin < environ.size()) {
    size_t end = environ.find('\0', begin);
    if (end == std::string_view::npos) end = environ.size();
    if (visit(environ.substr(begin, end - begin))) return true;
    begin = end + 1;
  }
  return false;
}

bool HasEntry(std::string_view environ, std::string_view entry) {
  return AnyEntry(environ, [entry](std::string_view e) { return e == entry; });
}

pid_t ParsePid(const char* name) {
  char* end = nullptr;
  const long v = std::strtol(name, &end, 10);
  return (end != name && *end == '\0' && v > 0) ? static_cast<pid_t>(v) : 0;
}

// The pidfd, opened before environ is read again, ties the check to the process we signal: if
// the pid was recycled in between, the signal goes to a dead pidfd and fails with ESRCH.
UniqueFd KillIfMatches(pid_t pid, std::string_view entry) {
  UniqueFd pidfd(static_cast<int>(::syscall(SYS_pidfd_open, pid, 0)));
  if (!pidfd.Valid() || !HasEntry(ReadEnviron(pid), entry)) return {};
  if (::syscall(SYS_pidfd_send_signal, pidfd.Get(), SIGKILL, nullptr, 0) != 0) return {};
  return pidfd;
}

// Calls `visit(pid, ino)` for every process other than the caller, with the inode number of its
// /proc entry.
template <typename Visit>
void ForEachProcess(Visit visit) {
  std::unique_ptr<DIR, int (*)(DIR*)> proc(::opendir("/proc"), &::closedir);
  if (!proc) return;
  const pid_t self = ::getpid();
  while (const dirent* d = ::readdir(proc.get())) {
    const pid_t pid = ParsePid(d->d_name);
    if (pid != 0 && pid != self) visit(pid, d->d_ino);
  }
}

}  // namespace

void ProcessEnvCache::EndScan() {
  std::erase_if(entries_, [this](const auto& e) { return e.second.scan != scan_; });
}

const std::string* ProcessEnvCache::Lookup(pid_t pid, ino_t ino) {
  Entry& e = entries_[pid];
  if (e.scan == 0 || e.ino != ino) {
    e = Entry{ino, scan_, false, {}};
    ++reads_;
    AnyEntry(ReadEnviron(pid), [&](std::string_view entry) {
      if (!entry.starts_with(prefix_)) return false;
      e.has_value = true;
      e.value = entry.substr(prefix_.size());
      return true;
    });
  }
  e.scan = scan_;
  return e.has_value ? &e.value : nullptr;
}

std::vector<pid_t> FindProcessesWithEnvEntry(std::string_view entry) {
  std::vector<pid_t> found;
  ForEachProcess([&](pid_t pid, ino_t) {
    if (HasEntry(ReadEnviron(pid), entry)) found.push_back(pid);
  });
  return found;
}

void KillProcessesWithEnvValues(const std::map<std::string, StraySweep, std::less<>>& sweeps,
                                ProcessEnvCache& cache) {
  if (sweeps.empty()) return;
  cache.BeginScan();
  ForEachProcess([&](pid_t pid, ino_t ino) {
    const std::string* value = cache.Lookup(pid, ino);
    if (value == nullptr) return;
    const auto it = sweeps.find(*value);
    if (it == sweeps.end() || it->second.seen->count(pid) > 0) return;
    if (UniqueFd fd = KillIfMatches(pid, cache.EntryWith(*value)); fd.Valid()) {
      it->second.seen->insert(pid);
      it->second.killed->push_back(std::move(fd));
    }
  });
  cache.EndScan();
}

std::vector<UniqueFd> KillProcessesWithEnvEntry(std::string_view entry, std::set<pid_t>& seen) {
  std::vector<UniqueFd> killed;
  const size_t eq = entry.find('=');
  if (eq == std::string_view::npos) return killed;
  std::map<std::string, StraySweep, std::less<>> sweeps;
  sweeps.emplace(std::string(entry.substr(eq + 1)), StraySweep{&seen, &killed});
  ProcessEnvCache fresh{std::string(entry.substr(0, eq))};  // reads every process
  KillProcessesWithEnvValues(sweeps, fresh);
  return killed;
}

bool AllExited(const std::vector<UniqueFd>& pidfds, std::chrono::milliseconds timeout) {
  std::vector<pollfd> fds;
  for (const UniqueFd& fd : pidfds) fds.push_back(pollfd{fd.Get(), POLLIN, 0});
  if (fds.empty()) return true;
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  for (;;) {
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        deadline - std::chrono::steady_clock::now());
    const int n =
        ::poll(fds.data(), fds.size(), static_cast<int>(std::max<int64_t>(0, left.count())));
    if (n == static_cast<int>(fds.size())) return true;
    if (n >= 0 && left.count() <= 0) return false;
    if (n < 0 && errno != EINTR) return false;
    // Some exited: stop watching them, keep waiting for the rest.
    std::erase_if(fds, [](const pollfd& p) { return p.revents != 0; });
    for (pollfd& p : fds) p.revents = 0;
    if (fds.empty()) return true;
  }
}

}  // namespace sonde
