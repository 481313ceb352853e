#include "kube/cluster_store.hpp"

#include <spdlog/spdlog.h>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/post.hpp>
#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>

#include "kube/kube_state.hpp"

namespace sonde::kube {

namespace asio = boost::asio;
namespace json = boost::json;

namespace {

constexpr int kConflictRetries = 5;

std::string KhStatePath(const std::string& ns, const std::string& name) {
  return "/apis/comcast.github.io/v1/namespaces/" + ns + "/khstates" +
         (name.empty() ? "" : "/" + name);
}

// The resourceVersion of an object in an answer's body; "" if none.
std::string VersionIn(const Response& response) {
  boost::system::error_code ec;
  const auto value = json::parse(response.body, ec);
  return !ec && value.is_object() ? ResourceVersion(value.as_object()) : "";
}

Status Failed(const std::string& what, const Result<Response>& response) {
  return Status::Error(what + ": " +
                       (response.ok() ? DescribeStatus(response.value()) : response.error()));
}

}  // namespace

ClusterStore::ClusterStore(asio::any_io_executor executor, KubeClient& client, Store& history,
                           std::vector<const Informer*> khstates,
                           std::vector<const Informer*> health_checks)
    : executor_(std::move(executor)),
      client_(client),
      history_(history),
      khstates_(std::move(khstates)),
      health_checks_(std::move(health_checks)) {}

ClusterStore::~ClusterStore() { *alive_ = false; }

std::map<CheckKey, CheckState> ClusterStore::LoadStates() {
  std::map<CheckKey, CheckState> states = history_.LoadStates();
  for (const Informer* informer : khstates_) {
    for (const auto& [key, object] : informer->objects()) {
      auto state = ReadKhState(object);
      const auto slash = key.find('/');
      if (!state.ok() || slash == std::string::npos) {
        spdlog::warn("khstates/{}: {}", key, state.ok() ? "not namespaced" : state.error());
        continue;
      }
      states[CheckKey{key.substr(0, slash), key.substr(slash + 1)}] = std::move(state).value();
    }
  }
  for (const Informer* informer : health_checks_) {
    for (const auto& [key, object] : informer->objects()) {
      const auto slash = key.find('/');
      if (!object.contains("status") || slash == std::string::npos) continue;  // never written
      auto state = ReadHealthCheckStatus(object);
      if (!state.ok()) {
        spdlog::warn("healthchecks/{}: {}", key, state.error());
        continue;
      }
      states[CheckKey{key.substr(0, slash), key.substr(slash + 1)}] = std::move(state).value();
    }
  }
  return states;
}

Status ClusterStore::SaveState(const CheckKey& key, const CheckState& state) {
  Status saved = history_.SaveState(key, state);
  Write(key, state, [key](Status st) {
    if (!st.ok())
      spdlog::error("state of {} not written to the cluster: {}", key.str(), st.message());
  });
  return saved;
}

Status ClusterStore::DeleteState(const CheckKey& key) {
  pending_.erase(key);
  if (kinds_.count(key) == 0 || kinds_.at(key) != CheckKind::kHealthCheck) {
    asio::co_spawn(
        executor_,
        [this, alive = alive_,
         path = KhStatePath(key.ns, KhStateName(key.name))]() -> asio::awaitable<void> {
          auto response = co_await client_.Call("DELETE", path);
          if (!*alive) co_return;
          ++writes_;
          if (!response.ok() ||
              (response.value().status >= 300 && response.value().status != 404)) {
            spdlog::warn("{}", Failed("DELETE " + path, response).message());
          }
        },
        asio::detached);
  }
  return history_.DeleteState(key);
}

void ClusterStore::CommitRun(const RunRecord& run, const CheckState& state,
                             std::function<void(Status)> done) {
  history_.CommitRun(
      run, state,
      [this, alive = alive_, key = run.key, state, done = std::move(done)](Status st) mutable {
        asio::post(executor_, [this, alive, key, state, st, done = std::move(done)]() mutable {
          if (!*alive) return done(Status::Error("the store is shutting down"));
          if (!st.ok()) return done(st);
          Write(key, state, std::move(done));
        });
      });
}

void ClusterStore::Write(const CheckKey& key, const CheckState& state,
                         std::function<void(Status)> done) {
  Pending& next = pending_[key];
  next.state = state;
  next.done.push_back(std::move(done));
  if (writing_[key]) return;
  writing_[key] = true;
  asio::co_spawn(executor_, Writer(key), asio::detached);
}

asio::awaitable<void> ClusterStore::Writer(CheckKey key) {
  auto alive = alive_;
  while (*alive) {
    auto it = pending_.find(key);
    if (it == pending_.end()) break;
    Pending job = std::move(it->second);
    pending_.erase(it);
    const bool v3 = kinds_.count(key) > 0 && kinds_.at(key) == CheckKind::kHealthCheck;
    const Status st =
        v3 ? co_await WriteStatus(key, job.state) : co_await WriteKhState(key, job.state);
    if (!*alive) co_return;
    for (auto& done : job.done) done(st);
  }
  if (*alive) writing_.erase(key);
}

asio::awaitable<Status> ClusterStore::WriteStatus(const CheckKey& key, const CheckState& state) {
  const std::string path = "/apis/kuberhealthy.github.io/v2/namespaces/" + key.ns +
                           "/healthchecks/" + key.name + "/status";
  ++writes_;
  auto response =
      co_await client_.Call("PATCH", path, json::serialize(HealthCheckStatusPatch(key, state)),
                            "application/merge-patch+json");
  if (response.ok() && response.value().status == 200) co_return Status::Ok();
  co_return Failed("PATCH " + path, response);
}

// PUT with the resourceVersion last seen; on 409 read it afresh and try again; create it when
// there is none.
asio::awaitable<Status> ClusterStore::WriteKhState(const CheckKey& key, const CheckState& state) {
  const std::string name = KhStateName(key.name);
  const std::string path = KhStatePath(key.ns, name);
  std::string version = versions_.count(key) ? versions_[key] : "";
  if (version.empty()) {
    for (const Informer* informer : khstates_) {
      if (const auto* cached = informer->Find(key.ns + "/" + name)) {
        version = ResourceVersion(*cached);
      }
    }
  }
  for (int attempt = 0; attempt <= kConflictRetries; ++attempt) {
    const bool create = version.empty();
    ++writes_;
    auto response = create ? co_await client_.Call("POST", KhStatePath(key.ns, ""),
                                                   json::serialize(KhStateObject(key, state)))
                           : co_await client_.Call(
                                 "PUT", path, json::serialize(KhStateObject(key, state, version)));
    if (!response.ok()) co_return Failed((create ? "POST " : "PUT ") + path, response);
    const int status = response.value().status;
    if (status == 200 || status == 201) {
      versions_[key] = VersionIn(response.value());
      co_return Status::Ok();
    }
    if (status != 409 && status != 404)
      co_return Failed((create ? "POST " : "PUT ") + path, response);
    // 409: someone wrote it since (or it exists already); 404: it was deleted. Read afresh.
    auto fresh = co_await client_.Call("GET", path);
    if (!fresh.ok()) co_return Failed("GET " + path, fresh);
    version = fresh.value().status == 200 ? VersionIn(fresh.value()) : "";
  }
  co_return Status::Error("PUT " + path + ": still conflicting after " +
                          std::to_string(kConflictRetries) + " fresh reads");
}

}  // namespace sonde::kube
