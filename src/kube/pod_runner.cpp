#include "kube/pod_runner.hpp"

#include <spdlog/spdlog.h>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/post.hpp>
#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>

#include "kube/checker_pod.hpp"

namespace sonde::kube {

namespace asio = boost::asio;
namespace json = boost::json;

namespace {

// The run labels of Kuberhealthy's two generations of checker pods.
constexpr const char* kRunLabels[] = {"kuberhealthy-run-id", "kh-run-uuid"};

RunExit CannotStart(const std::string& why) {
  RunExit exit;
  exit.containers.push_back({.container = "pod", .started = false, .spawn_error = why});
  return exit;
}

std::string PodPath(const std::string& ns, const std::string& name) {
  return "/api/v1/namespaces/" + ns + "/pods" + (name.empty() ? "" : "/" + name);
}

// Built outside the coroutine: g++ 12 mishandles temporaries inside coroutine frames.
std::string EvictionBody(const std::string& version, const std::string& ns,
                         const std::string& name) {
  return json::serialize(
      json::object{{"apiVersion", version},
                   {"kind", "Eviction"},
                   {"metadata", json::object{{"name", name}, {"namespace", ns}}},
                   {"deleteOptions", json::object{{"propagationPolicy", "Background"}}}});
}

}  // namespace

PodRunner::PodRunner(asio::any_io_executor executor, const Clock& clock, KubeClient& client,
                     PodRunnerOptions options)
    : executor_(std::move(executor)), clock_(clock), client_(client), options_(std::move(options)) {
  std::vector<std::string> paths;
  if (options_.namespaces.empty()) paths.push_back("/api/v1/pods");
  for (const auto& ns : options_.namespaces) paths.push_back(PodPath(ns, ""));
  for (const auto& path : paths) {
    for (const char* label : kRunLabels) {
      informers_.push_back(std::make_unique<Informer>(
          client_, InformerOptions{.path = path, .label_selector = label},
          InformerHandlers{.upsert = [this](const json::object& pod) { OnPod(pod, false); },
                           .remove = [this](const json::object& pod) { OnPod(pod, true); }}));
    }
  }
}

PodRunner::~PodRunner() {
  *alive_ = false;
  for (auto& informer : informers_) informer->Stop();
}

void PodRunner::Start() {
  for (auto& informer : informers_) informer->Start(executor_);
}

bool PodRunner::synced() const {
  for (const auto& informer : informers_) {
    if (!informer->synced()) return false;
  }
  return true;
}

void PodRunner::Start(const RunRequest& request, RunDone done) {
  const CheckSpec& spec = *request.spec;
  const std::string uuid = request.run_uuid;
  auto pod = BuildCheckerPod(spec, PodRun{.run_uuid = uuid,
                                          .reporting_url = request.reporting_url,
                                          .deadline = request.deadline,
                                          .start = clock_.Now()});
  if (!pod.ok()) {
    asio::post(executor_, [done, error = pod.error()] { done(CannotStart(error)); });
    return;
  }
  Run& run = runs_[uuid];
  run.ns = spec.key.ns;
  run.done = std::move(done);
  asio::co_spawn(
      executor_,
      [this, alive = alive_, uuid, ns = spec.key.ns,
       body = json::serialize(pod.value())]() -> asio::awaitable<void> {
        auto response = co_await client_.Call("POST", PodPath(ns, ""), body);
        if (!*alive) co_return;
        auto it = runs_.find(uuid);
        if (it == runs_.end()) co_return;
        if (!response.ok() || response.value().status != 201) {
          const std::string why =
              "cannot create the checker pod: " +
              (response.ok() ? DescribeStatus(response.value()) : response.error());
          Finish(uuid, CannotStart(why));
          co_return;
        }
        ++pods_created_;
        boost::system::error_code ec;
        const auto created = json::parse(response.value().body, ec);
        it->second.pod = created.is_object() ? ObjectKey(created.as_object()) : "";
        if (const auto slash = it->second.pod.find('/'); slash != std::string::npos) {
          it->second.pod.erase(0, slash + 1);
        }
        if (it->second.terminated) SendDelete(uuid);
      },
      asio::detached);
}

bool PodRunner::Adopt(const RunRequest& request, RunDone done) {
  for (const auto& informer : informers_) {
    for (const auto& [key, pod] : informer->objects()) {
      auto status = ReadPodStatus(pod);
      if (!status.ok() || status.value().run_uuid != request.run_uuid) continue;
      Run& run = runs_[request.run_uuid];
      run.ns = key.substr(0, key.find('/'));
      run.pod = status.value().name;
      run.done = std::move(done);
      run.last = status.value();
      // Already over: end it as the watch would have, once the engine has registered it.
      if (status.value().Finished()) {
        asio::post(executor_, [this, alive = alive_, uuid = request.run_uuid,
                               exit = ToRunExit(status.value())] {
          if (*alive) Finish(uuid, exit);
        });
      }
      return true;
    }
  }
  return false;
}

void PodRunner::OnPod(const json::object& object, bool deleted) {
  auto status = ReadPodStatus(object);
  if (!status.ok()) return;
  auto it = runs_.find(status.value().run_uuid);
  if (it == runs_.end()) return;
  Run& run = it->second;
  if (run.pod.empty()) run.pod = status.value().name;
  if (deleted) {
    RunExit exit = run.last ? ToRunExit(*run.last) : CannotStart("the checker pod was deleted");
    if (!run.last && !run.terminated) exit.containers[0].spawn_error += " before it ran";
    exit.terminated = run.terminated;
    Finish(it->first, std::move(exit));
    return;
  }
  run.last = status.value();
  if (status.value().Finished()) {
    RunExit exit = ToRunExit(status.value());
    exit.terminated = run.terminated;
    Finish(it->first, std::move(exit));
    return;
  }
  if (auto why = StartError(status.value()); why && !run.delete_sent) {
    // It will not start by itself: end the run now with the kubelet's reason, and remove it.
    SendDelete(it->first);
    RunExit exit = ToRunExit(status.value());
    exit.terminated = run.terminated;
    Finish(it->first, std::move(exit));
  }
}

void PodRunner::Finish(const std::string& run_uuid, RunExit exit) {
  auto it = runs_.find(run_uuid);
  if (it == runs_.end()) return;
  RunDone done = std::move(it->second.done);
  runs_.erase(it);
  done(exit);
}

void PodRunner::Terminate(const std::string& run_uuid) {
  auto it = runs_.find(run_uuid);
  if (it == runs_.end()) return;
  it->second.terminated = true;
  if (!it->second.pod.empty()) SendDelete(run_uuid);  // else once the create answers
}

void PodRunner::SendDelete(const std::string& run_uuid) {
  Run& run = runs_.at(run_uuid);
  if (run.delete_sent) return;
  run.delete_sent = true;
  asio::co_spawn(
      executor_,
      [this, alive = alive_, ns = run.ns, name = run.pod]() -> asio::awaitable<void> {
        const bool evicted = co_await EvictPod(ns, name);
        if (!evicted && *alive) DeletePod(ns, name);
      },
      asio::detached);
  // The DELETED event ends the run; should it never come, the run still ends.
  run.delete_timer = std::make_unique<asio::steady_timer>(executor_, options_.delete_wait);
  run.delete_timer->async_wait([this, alive = alive_, run_uuid](boost::system::error_code ec) {
    if (ec || !*alive) return;
    RunExit exit = CannotStart("the checker pod was not seen deleted");
    exit.terminated = true;
    Finish(run_uuid, std::move(exit));
  });
}

// True when the pod is evicted or already gone; false when the server refused (a disruption
// budget's 429, an error): then the caller deletes it.
asio::awaitable<bool> PodRunner::EvictPod(std::string ns, std::string name) {
  const std::string path = PodPath(ns, name) + "/eviction";
  const auto alive = alive_;
  for (int attempt = 0; attempt < 2; ++attempt) {
    const std::string version = eviction_version_;
    const std::string body = EvictionBody(version, ns, name);
    auto response = co_await client_.Call("POST", path, body);
    if (!*alive) co_return true;  // the runner is gone: nothing to delete with
    if (!response.ok()) {
      spdlog::warn("evict {}: {}", path, response.error());
      co_return false;
    }
    const int status = response.value().status;
    // An older server names the version it does not know; try the older one once.
    const bool unknown_version = (status == 400 || status == 404) &&
                                 response.value().body.find(version) != std::string::npos;
    if (unknown_version && version == "policy/v1") {
      spdlog::info("evict: the server does not serve policy/v1 Eviction; using policy/v1beta1");
      eviction_version_ = "policy/v1beta1";
      continue;
    }
    if (status == 200 || status == 201 || status == 404) co_return true;
    spdlog::info("evict {}: {}; deleting it", path, DescribeStatus(response.value()));
    co_return false;
  }
  co_return false;
}

void PodRunner::DeletePod(const std::string& ns, const std::string& name) {
  asio::co_spawn(
      executor_,
      [this, path = PodPath(ns, name)]() -> asio::awaitable<void> {
        auto response = co_await client_.Call(
            "DELETE", path,
            R"({"kind":"DeleteOptions","apiVersion":"v1","propagationPolicy":"Background"})");
        if (!response.ok()) {
          spdlog::warn("delete {}: {}", path, response.error());
        } else if (response.value().status != 200 && response.value().status != 202 &&
                   response.value().status != 404) {
          spdlog::warn("delete {}: {}", path, DescribeStatus(response.value()));
        }
      },
      asio::detached);
}

void PodRunner::StopLeftovers(const std::string& run_uuid) {
  for (const auto& informer : informers_) {
    for (const auto& [key, pod] : informer->objects()) {
      auto status = ReadPodStatus(pod);
      if (!status.ok() || status.value().run_uuid != run_uuid || status.value().Finished()) {
        continue;
      }
      const auto slash = key.find('/');
      DeletePod(key.substr(0, slash), key.substr(slash + 1));
    }
  }
}

void PodRunner::KillAll() { runs_.clear(); }

std::vector<RunLogs> PodRunner::Logs(const CheckKey&) const { return {}; }

std::string PodRunner::RunOfPodIp(const std::string& ip) const {
  std::string found;
  for (const auto& informer : informers_) {
    for (const auto& [key, pod] : informer->objects()) {
      const auto* status = pod.if_contains("status");
      const auto* pod_ip =
          status && status->is_object() ? status->as_object().if_contains("podIP") : nullptr;
      if (pod_ip == nullptr || !pod_ip->is_string() || pod_ip->as_string() != ip) continue;
      auto read = ReadPodStatus(pod);
      if (!read.ok() || read.value().Finished() || read.value().run_uuid.empty()) continue;
      if (!found.empty() && found != read.value().run_uuid) return "";  // ambiguous
      found = read.value().run_uuid;
    }
  }
  return found;
}

std::vector<const Informer*> PodRunner::pod_informers() const {
  std::vector<const Informer*> out;
  for (const auto& informer : informers_) out.push_back(informer.get());
  return out;
}

std::set<std::string> PodRunner::active_run_uuids() const {
  std::set<std::string> out;
  for (const auto& [uuid, run] : runs_) out.insert(uuid);
  return out;
}

std::string PodRunner::DeadlineDetail(const std::string& run_uuid) const {
  const auto it = runs_.find(run_uuid);
  if (it == runs_.end()) return "";
  return DeadlineMessage(it->second.last.value_or(PodStatus{}), /*reported=*/false);
}

}  // namespace sonde::kube
