// PlanSpawn: the parent-side half of starting a container (see spawn.hpp).
#include <sys/stat.h>
#include <unistd.h>

#include <cstdint>
#include <filesystem>
#include <string_view>
#include <system_error>
#include <unordered_map>

#include "runner/spawn.hpp"
#include "contract/checker_env.hpp"

extern char** environ;  // POSIX: the process environment; read-only here

namespace sonde {
namespace {

namespace fs = std::filesystem;

// glibc's execvp() default when PATH is unset.
constexpr std::string_view kDefaultPath = "/bin:/usr/bin";
constexpr int64_t kMaxId = int64_t{UINT32_MAX} - 1;  // (uid_t)-1 means "unchanged" to setuid

// An environment with "last assignment wins" semantics, keeping first-seen order.
class EnvBuilder {
 public:
  void SetEntry(std::string entry) {
    const size_t eq = entry.find('=');
    std::string name = entry.substr(0, eq);
    if (auto it = index_.find(name); it != index_.end()) {
      entries_[it->second] = std::move(entry);
      return;
    }
    index_.emplace(std::move(name), entries_.size());
    entries_.push_back(std::move(entry));
  }
  void Set(const std::string& name, const std::string& value) { SetEntry(name + "=" + value); }
  std::string Get(const std::string& name) const {
    auto it = index_.find(name);
    if (it == index_.end()) return {};
    const std::string& e = entries_[it->second];
    const size_t eq = e.find('=');
    return eq == std::string::npos ? std::string() : e.substr(eq + 1);
  }
  std::vector<std::string> Take() { return std::move(entries_); }

 private:
  std::vector<std::string> entries_;
  std::unordered_map<std::string, size_t> index_;
};

EnvBuilder BuildEnv(const Container& c, const RunRequest& request, const SpawnHost& host) {
  EnvBuilder env;
  for (const char* const* e = host.environ; e != nullptr && *e != nullptr; ++e) env.SetEntry(*e);
  for (const EnvVar& v : c.env) env.Set(v.name, v.value);
  env.Set(kEnvReportingUrl, request.reporting_url);
  env.Set(kEnvRunUuid, request.run_uuid);
  env.Set(kEnvRunDeadline, std::to_string(UnixSeconds(request.deadline)));
  env.Set(kEnvPodNamespace, request.spec->key.ns);
  return env;
}

fs::path Absolute(const fs::path& p, const fs::path& base) {
  return (p.is_absolute() ? p : base / p).lexically_normal();
}

std::string WithoutTrailingSlash(const fs::path& p) {
  std::string s = p.string();
  while (s.size() > 1 && s.back() == '/') s.pop_back();
  return s;
}

std::string WorkingDir(const Container& c, const CheckSpec& spec, const SpawnHost& host) {
  const fs::path base =
      spec.base_dir.empty() ? fs::path(host.cwd) : Absolute(spec.base_dir.str(), host.cwd);
  return WithoutTrailingSlash(Absolute(c.working_dir, base));
}

bool IsExecutableFile(const std::string& path) {
  struct stat st {};
  return ::stat(path.c_str(), &st) == 0 && S_ISREG(st.st_mode) && ::access(path.c_str(), X_OK) == 0;
}

// execvp()'s search, done here so that the child need not allocate. An empty PATH element
// means the working directory, as it does for execvp() after the child's chdir().
Result<std::string> FindInPath(const std::string& name, std::string path_var,
                               const std::string& working_dir) {
  if (path_var.empty()) path_var = kDefaultPath;
  size_t begin = 0;
  while (begin <= path_var.size()) {
    size_t end = path_var.find(':', begin);
    if (end == std::string::npos) end = path_var.size();
    const fs::path dir = Absolute(path_var.substr(begin, end - begin), working_dir);
    const std::string candidate = (dir / name).string();
    if (IsExecutableFile(candidate)) return candidate;
    begin = end + 1;
  }
  return Result<std::string>::Error("cannot start \"" + name +
                                    "\": executable file not found in $PATH");
}

// Root may become anyone; anyone else only who it already is (Kubernetes would refuse a pod
// whose securityContext the node cannot apply, so this is a spawn failure, not a silent skip).
Status CheckIdentity(const Container& c, const SpawnHost& host, SpawnPlan& plan) {
  struct Field {
    const char* name;
    const std::optional<int64_t>& want;
    uint32_t current;
  };
  for (const Field& f : {Field{"runAsUser", c.run_as_user, host.euid},
                         Field{"runAsGroup", c.run_as_group, host.egid}}) {
    if (!f.want) continue;
    const std::string id = std::to_string(*f.want);
    if (*f.want < 0 || *f.want > kMaxId) {
      return Status::Error(std::string(f.name) + " " + id + " is not a valid id");
    }
    if (host.euid != 0 && *f.want != f.current) {
      return Status::Error(std::string(f.name) + " " + id + " requires the daemon to run as root");
    }
  }
  if (host.euid == 0) {
    if (c.run_as_user) plan.uid = static_cast<uid_t>(*c.run_as_user);
    if (c.run_as_group) plan.gid = static_cast<gid_t>(*c.run_as_group);
  }
  return Status::Ok();
}

}  // namespace

SpawnHost SpawnHost::Current() {
  SpawnHost host;
  host.environ = ::environ;
  std::error_code ec;
  host.cwd = fs::current_path(ec).string();
  if (ec) host.cwd = "/";  // cwd was removed under us; "/" at least exists
  host.euid = ::geteuid();
  host.egid = ::getegid();
  return host;
}

Result<SpawnPlan> PlanSpawn(const Container& container, const RunRequest& request,
                            const SpawnHost& host) {
  if (container.command.empty() || container.command[0].empty()) {
    return Result<SpawnPlan>::Error("container \"" + container.name + "\" has no command");
  }
  SpawnPlan plan;
  if (Status s = CheckIdentity(container, host, plan); !s.ok()) {
    return Result<SpawnPlan>::Error(s.message());
  }
  plan.working_dir = WorkingDir(container, *request.spec, host);
  EnvBuilder env = BuildEnv(container, request, host);
  const std::string& cmd = container.command[0];
  if (cmd.find('/') != std::string::npos) {
    plan.exec_path = Absolute(cmd, plan.working_dir).string();
  } else {
    // The container's PATH, as the image's PATH decides in Kubernetes.
    Result<std::string> found = FindInPath(cmd, env.Get("PATH"), plan.working_dir);
    if (!found.ok()) return Result<SpawnPlan>::Error(found.error());
    plan.exec_path = std::move(found).value();
  }
  plan.env = env.Take();
  plan.argv = container.command;
  plan.argv.insert(plan.argv.end(), container.args.begin(), container.args.end());
  return plan;
}

}  // namespace sonde
