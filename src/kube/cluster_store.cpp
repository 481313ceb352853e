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

// Request bodies are built outside the coroutines: g++ 12 mangles JSON-object temporaries in a
// coroutine body (empty strings arrived at the server as null).
std::string KhStateBody(const CheckKey& key, const CheckState& state, const std::string& version) {
  return json::serialize(KhStateObject(key, state, version));
}
// A JSON patch that replaces the whole status, without its empty strings: the 1.20 API
// server's schema validation takes "" for null and answers 422 ("currentUUID" is "" whenever
// no run is in flight); an absent field reads back as "".
std::string StatusBody(const CheckKey& key, const CheckState& state) {
  json::object status = std::move(HealthCheckStatusPatch(key, state)["status"].as_object());
  for (auto it = status.begin(); it != status.end();) {
    it = it->value().is_string() && it->value().as_string().empty() ? status.erase(it) : it + 1;
  }
  json::array ops{json::object{{"op", "add"}, {"path", "/status"}, {"value", std::move(status)}}};
  return json::serialize(ops);
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

// The cluster first: it is what the next leader reads, so a result is acknowledged once it is
// there. The history (optional in operator mode) follows; if it fails, the result still stands
// and the history misses a row, which is logged.
void ClusterStore::CommitRun(const RunRecord& run, const CheckState& state,
                             std::function<void(Status)> done) {
  Write(run.key, state,
        [this, alive = alive_, run, state, done = std::move(done)](Status st) mutable {
          if (!st.ok() || !*alive) return done(st);
          if (events_ != nullptr) {
            const auto kind = kinds_.find(run.key);
            events_->Record({.key = run.key,
                             .kind = kind == kinds_.end() ? CheckKind::kKhCheck : kind->second,
                             .ok = run.ok,
                             .errors = run.errors,
                             .ended_by = run.ended_by});
          }
          history_.CommitRun(run, state, [uuid = run.run_uuid](Status kept) {
            if (!kept.ok())
              spdlog::error("run {}: not kept in the history: {}", uuid, kept.message());
          });
          done(Status::Ok());
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
    // Plain statements around co_await: g++ 12 mis-destroys temporaries of a co_await inside
    // a conditional expression (a double free).
    Status st = Status::Ok();
    if (v3) {
      st = co_await WriteStatus(key, job.state);
    } else {
      st = co_await WriteKhState(key, job.state);
      const bool khjob = kinds_.count(key) > 0 && kinds_.at(key) == CheckKind::kKhJob;
      if (st.ok() && khjob && *alive) co_await WriteJobPhase(key, job.state);
    }
    if (!*alive) co_return;
    for (auto& done : job.done) done(st);
  }
  if (*alive) writing_.erase(key);
}

// Kuberhealthy v2 shows a job's progress in its spec.phase: Running while its run is in
// flight, Completed once it has a result. Failing to write it costs the job nothing.
asio::awaitable<void> ClusterStore::WriteJobPhase(const CheckKey& key, const CheckState& state) {
  const std::string phase = !state.current_uuid.empty() ? "Running" : "Completed";
  const std::string path =
      "/apis/comcast.github.io/v1/namespaces/" + key.ns + "/khjobs/" + key.name;
  const std::string body = R"({"spec":{"phase":")" + phase + R"("}})";
  ++writes_;
  auto response = co_await client_.Call("PATCH", path, body, "application/merge-patch+json");
  if (!response.ok() || response.value().status != 200) {
    spdlog::warn("{}", Failed("PATCH " + path, response).message());
  }
}

asio::awaitable<Status> ClusterStore::WriteStatus(const CheckKey& key, const CheckState& state) {
  const std::string path = "/apis/kuberhealthy.github.io/v2/namespaces/" + key.ns +
                           "/healthchecks/" + key.name + "/status";
  ++writes_;
  const std::string body = StatusBody(key, state);
  auto response = co_await client_.Call("PATCH", path, body, "application/json-patch+json");
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
    std::string method = create ? "POST" : "PUT";
    std::string target = create ? KhStatePath(key.ns, "") : path;
    std::string body = KhStateBody(key, state, version);
    auto response = co_await client_.Call(std::move(method), std::move(target), std::move(body));
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
