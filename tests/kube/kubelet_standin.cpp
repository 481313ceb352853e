#include "kube/kubelet_standin.hpp"

#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/json.hpp>
#include <map>
#include <mutex>
#include <thread>

#include "core/clock.hpp"
#include "kube/helpers.hpp"
#include "kube/informer.hpp"
#include "kube/kube_client.hpp"

namespace sonde::testing {

namespace asio = boost::asio;
namespace json = boost::json;

namespace {

struct Proc {
  std::string name;
  std::string image;
  pid_t pid = -1;
  bool exited = false;
  int exit_code = 0;
  int signal = 0;
  std::string started_at, finished_at;
};

struct PodRun {
  std::string ns, name;
  std::string check;  // ns/check-name from the run labels
  std::string ip;     // its own loopback address, so a checker can be told apart by its IP
  json::object pod;
  std::vector<Proc> init, main;
  size_t next_init = 0;
  bool main_started = false;
  bool finished = false;
};

std::string Now() { return FormatRfc3339Nano(SystemClock().Now()); }

using sonde::testing::Arr;
using sonde::testing::Obj;
using sonde::testing::Str;

std::vector<Proc> Procs(const json::array& containers) {
  std::vector<Proc> out;
  for (const auto& c : containers) {
    out.push_back({Str(c.as_object(), "name"), Str(c.as_object(), "image")});
  }
  return out;
}

std::string NodeName(const json::object& pod) {
  const std::string node = Str(Obj(pod, "spec"), "nodeName");
  return node.empty() ? "standin-node" : node;
}

// The container's environment with downward-API fields resolved.
std::vector<std::string> Environment(const json::object& pod, const json::object& container,
                                     const std::string& pod_ip) {
  // SONDE_STANDIN_POD_IP: the pod's address for any container (a workload's server binds it;
  // the downward API's status.podIP reaches only containers that ask for it).
  std::vector<std::string> env = {"PATH=/usr/local/bin:/usr/bin:/bin",
                                  "SONDE_STANDIN_POD_IP=" + pod_ip};
  if (const char* home = std::getenv("HOME")) env.push_back(std::string("HOME=") + home);
  const auto& meta = Obj(pod, "metadata");
  for (const auto& e : Arr(container, "env")) {
    const auto& var = e.as_object();
    std::string value = Str(var, "value");
    const auto& field = Obj(Obj(var, "valueFrom"), "fieldRef");
    const std::string path = Str(field, "fieldPath");
    if (path == "metadata.namespace") value = Str(meta, "namespace");
    if (path == "metadata.name") value = Str(meta, "name");
    if (path == "metadata.uid") value = Str(meta, "uid");
    if (path == "status.podIP") value = pod_ip;
    if (path == "spec.nodeName") value = NodeName(pod);
    env.push_back(Str(var, "name") + "=" + value);
  }
  return env;
}

pid_t Spawn(const json::object& pod, const json::object& container, const std::string& pod_ip,
            const std::map<std::string, std::vector<std::string>>& image_commands) {
  std::vector<std::string> argv;
  for (const auto& a : Arr(container, "command")) argv.emplace_back(a.as_string());
  if (argv.empty()) {
    const auto it = image_commands.find(Str(container, "image"));
    if (it != image_commands.end()) argv = it->second;
  }
  for (const auto& a : Arr(container, "args")) argv.emplace_back(a.as_string());
  if (argv.empty()) return -1;
  const auto env = Environment(pod, container, pod_ip);
  const std::string dir = Str(container, "workingDir");
  std::vector<char*> cargv, cenv;
  for (const auto& a : argv) cargv.push_back(const_cast<char*>(a.c_str()));
  for (const auto& e : env) cenv.push_back(const_cast<char*>(e.c_str()));
  cargv.push_back(nullptr);
  cenv.push_back(nullptr);
  const pid_t pid = fork();
  if (pid == 0) {
    setpgid(0, 0);
    if (!dir.empty() && chdir(dir.c_str()) != 0) _exit(126);
    execvpe(cargv[0], cargv.data(), cenv.data());
    _exit(127);
  }
  return pid;
}

json::object ContainerStatus(const Proc& p, bool init) {
  json::object s{
      {"name", p.name}, {"image", p.image}, {"imageID", ""}, {"restartCount", 0}, {"ready", false}};
  if (p.pid < 0) {
    s["state"] = json::object{
        {"waiting", json::object{{"reason", init ? "PodInitializing" : "ContainerCreating"}}}};
  } else if (!p.exited) {
    s["ready"] = !init;
    s["state"] = json::object{{"running", json::object{{"startedAt", p.started_at}}}};
  } else {
    json::object t{{"exitCode", p.signal != 0 ? 128 + p.signal : p.exit_code},
                   {"reason", p.exit_code == 0 && p.signal == 0 ? "Completed" : "Error"},
                   {"startedAt", p.started_at},
                   {"finishedAt", p.finished_at}};
    if (p.signal != 0) t["signal"] = p.signal;
    s["state"] = json::object{{"terminated", std::move(t)}};
  }
  return s;
}

}  // namespace

struct KubeletStandin::Impl {
  explicit Impl(KubeletOptions o)
      : options(std::move(o)),
        client(io.get_executor(), clock, options.cluster),
        informer(client, {.path = "/api/v1/pods", .label_selector = options.label_selector},
                 {.upsert = [this](const json::object& pod) { OnPod(pod); },
                  .remove = [this](const json::object& pod) { OnGone(pod); }}) {}

  KubeletOptions options;
  asio::io_context io;
  asio::executor_work_guard<asio::io_context::executor_type> work = asio::make_work_guard(io);
  SystemClock clock;
  kube::KubeClient client;
  kube::Informer informer;
  asio::steady_timer reaper{io};
  std::map<std::string, PodRun> runs;  // by uid
  std::atomic<uint64_t> started{0}, finished{0};
  std::atomic<size_t> alive{0};
  std::map<std::string, size_t> running_per_check;
  std::atomic<size_t> max_per_check{0};
  unsigned next_ip = 0;
  std::thread thread;

  void Patch(const PodRun& run, json::object status) {
    const std::string path = "/api/v1/namespaces/" + run.ns + "/pods/" + run.name + "/status";
    const std::string body = json::serialize(json::object{{"status", std::move(status)}});
    asio::co_spawn(
        io,
        [this, path, body]() -> asio::awaitable<void> {
          co_await client.Call("PATCH", path, body, "application/merge-patch+json");
        },
        asio::detached);
  }

  json::object Statuses(const PodRun& run, const char* phase) {
    json::array init, main;
    for (const auto& p : run.init) init.push_back(ContainerStatus(p, true));
    bool ready = std::string_view(phase) == "Running";
    for (const auto& p : run.main) {
      main.push_back(ContainerStatus(p, false));
      ready = ready && p.pid > 0 && !p.exited;
    }
    const char* is_ready = ready ? "True" : "False";
    json::array conditions;
    for (const char* type : {"Initialized", "ContainersReady", "Ready", "PodScheduled"}) {
      const bool always =
          std::string_view(type) == "PodScheduled" ||
          (std::string_view(type) == "Initialized" && run.next_init >= run.init.size());
      conditions.push_back(json::object{
          {"type", type}, {"status", always ? "True" : is_ready}, {"lastTransitionTime", Now()}});
    }
    return {{"phase", phase},
            {"podIP", run.ip},
            {"hostIP", options.pod_ip},
            {"conditions", std::move(conditions)},
            {"initContainerStatuses", std::move(init)},
            {"containerStatuses", std::move(main)}};
  }

  // 127.0.1.1, 127.0.1.2, ...: every pod gets an address of its own on loopback.
  std::string NextIp() {
    const unsigned n = next_ip++ % 250;
    return "127.0.1." + std::to_string(n + 1);
  }

  void OnPod(const json::object& pod) {
    const auto& meta = Obj(pod, "metadata");
    const std::string uid = Str(meta, "uid");
    if (meta.contains("deletionTimestamp")) return Terminate(pod);
    if (runs.count(uid)) return;
    if (options.bound_only && Str(Obj(pod, "spec"), "nodeName").empty()) return;
    const std::string phase = Str(Obj(pod, "status"), "phase");
    if (phase == "Succeeded" || phase == "Failed" || phase == "Running") return;
    const auto& spec = Obj(pod, "spec");
    PodRun run{Str(meta, "namespace"),
               Str(meta, "name"),
               "",
               NextIp(),
               pod,
               Procs(Arr(spec, "initContainers")),
               Procs(Arr(spec, "containers"))};
    for (const auto* list : {&run.init, &run.main}) {
      for (const auto& p : *list) {
        if (p.image.find("never-starts") != std::string::npos) {  // no node for it: Pending
          runs.emplace(uid, std::move(run)).first->second.finished = true;
          return;
        }
        if (p.image.find("invalid") == std::string::npos) continue;
        json::object status = Statuses(run, "Pending");
        json::array waiting;
        for (const auto& q : run.main) {
          json::object s = ContainerStatus(q, false);
          s["state"] = json::object{
              {"waiting", json::object{{"reason", "ErrImagePull"},
                                       {"message", "rpc error: pull access denied for " + q.image +
                                                       ", repository does not exist"}}}};
          waiting.push_back(std::move(s));
        }
        status["containerStatuses"] = std::move(waiting);
        Patch(run, std::move(status));
        runs.emplace(uid, std::move(run)).first->second.finished = true;
        return;
      }
    }
    ++started;
    ++alive;
    const auto& labels = Obj(meta, "labels");
    std::string check = Str(labels, "kuberhealthy-check-name");
    if (check.empty()) check = Str(labels, "healthcheck");
    run.check = run.ns + "/" + check;
    const size_t now_running = ++running_per_check[run.check];
    if (now_running > max_per_check) max_per_check = now_running;
    auto& stored = runs.emplace(uid, std::move(run)).first->second;
    Advance(stored);
  }

  // A graceful deletion: stop the containers, then delete the pod at once (the kubelet's part).
  void Terminate(const json::object& pod) {
    const auto& meta = Obj(pod, "metadata");
    const auto it = runs.find(Str(meta, "uid"));
    if (it == runs.end() && Str(Obj(pod, "spec"), "nodeName").empty()) return;
    if (it != runs.end()) Kill(it->second);
    const std::string path =
        "/api/v1/namespaces/" + Str(meta, "namespace") + "/pods/" + Str(meta, "name");
    const std::string body = json::serialize(
        json::object{{"gracePeriodSeconds", 0}, {"preconditions", {{"uid", Str(meta, "uid")}}}});
    asio::co_spawn(
        io,
        [this, path, body]() -> asio::awaitable<void> {
          co_await client.Call("DELETE", path, body);
        },
        asio::detached);
  }

  void OnGone(const json::object& pod) {
    const auto it = runs.find(Str(Obj(pod, "metadata"), "uid"));
    if (it == runs.end()) return;
    Kill(it->second);
    runs.erase(it);
  }

  void Kill(PodRun& run) {
    for (auto* list : {&run.init, &run.main}) {
      for (auto& p : *list) {
        if (p.pid > 0 && !p.exited) {
          kill(-p.pid, SIGKILL);
          waitpid(p.pid, nullptr, 0);
          p.exited = true;
        }
      }
    }
    if (!run.finished) {
      --alive;
      if (!run.check.empty()) --running_per_check[run.check];
    }
    run.finished = true;
  }

  bool StartProc(PodRun& run, Proc& p, const json::object& container) {
    p.pid = Spawn(run.pod, container, run.ip, options.image_commands);
    p.started_at = Now();
    if (p.pid > 0) return true;
    p.exited = true;
    p.exit_code = 128;
    p.finished_at = p.started_at;
    return false;
  }

  // Starts what is due and reports the phase when something changed.
  void Advance(PodRun& run) {
    const auto& spec = Obj(run.pod, "spec");
    if (run.next_init < run.init.size()) {
      auto& p = run.init[run.next_init];
      if (p.pid < 0) {
        StartProc(run, p, Arr(spec, "initContainers")[run.next_init].as_object());
        Patch(run, Statuses(run, "Pending"));
      }
      if (!p.exited) return;
      if (p.exit_code != 0 || p.signal != 0) return Finish(run, "Failed");
      ++run.next_init;
      return Advance(run);
    }
    if (!run.main_started) {
      run.main_started = true;
      for (size_t i = 0; i < run.main.size(); ++i) {
        StartProc(run, run.main[i], Arr(spec, "containers")[i].as_object());
      }
      Patch(run, Statuses(run, "Running"));
    }
    bool all_done = true, all_ok = true;
    for (const auto& p : run.main) {
      all_done = all_done && p.exited;
      all_ok = all_ok && p.exit_code == 0 && p.signal == 0;
    }
    if (all_done) Finish(run, all_ok ? "Succeeded" : "Failed");
  }

  void Finish(PodRun& run, const char* phase) {
    run.finished = true;
    --alive;
    if (!run.check.empty()) --running_per_check[run.check];
    ++finished;
    Patch(run, Statuses(run, phase));
  }

  void Reap() {
    for (auto& [uid, run] : runs) {
      if (run.finished) continue;
      bool changed = false;
      for (auto* list : {&run.init, &run.main}) {
        for (auto& p : *list) {
          int status = 0;
          if (p.pid <= 0 || p.exited || waitpid(p.pid, &status, WNOHANG) != p.pid) continue;
          p.exited = true;
          p.finished_at = Now();
          if (WIFSIGNALED(status)) p.signal = WTERMSIG(status);
          if (WIFEXITED(status)) p.exit_code = WEXITSTATUS(status);
          changed = true;
        }
      }
      if (changed) Advance(run);
    }
    reaper.expires_after(std::chrono::milliseconds(20));
    reaper.async_wait([this](const boost::system::error_code& ec) {
      if (!ec) Reap();
    });
  }
};

KubeletStandin::KubeletStandin(KubeletOptions options)
    : impl_(std::make_shared<Impl>(std::move(options))) {
  auto& i = *impl_;
  const Status init = i.client.Init();
  if (!init.ok()) throw std::runtime_error("kubelet stand-in: " + init.message());
  i.informer.Start(i.io.get_executor());
  i.Reap();
  i.thread = std::thread([&i] { i.io.run(); });
}

KubeletStandin::~KubeletStandin() {
  asio::post(impl_->io, [impl = impl_.get()] {
    impl->informer.Stop();
    impl->reaper.cancel();
    for (auto& [uid, run] : impl->runs) impl->Kill(run);
    impl->io.stop();
  });
  impl_->thread.join();
}

uint64_t KubeletStandin::pods_started() const { return impl_->started; }
uint64_t KubeletStandin::pods_finished() const { return impl_->finished; }
size_t KubeletStandin::running() const { return impl_->alive; }
size_t KubeletStandin::max_concurrent_per_check() const { return impl_->max_per_check; }

}  // namespace sonde::testing
