#include "kube/reaper.hpp"

#include <spdlog/spdlog.h>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/json.hpp>

namespace sonde::kube {

namespace asio = boost::asio;
namespace json = boost::json;

namespace {

const json::object* FindIn(const std::vector<const Informer*>& informers, const std::string& key) {
  for (const Informer* informer : informers) {
    if (const auto* found = informer->Find(key)) return found;
  }
  return nullptr;
}

}  // namespace

std::string ReapPath(const ReapAction& action) {
  const std::string group = action.resource == "pods" ? "/api/v1" : "/apis/comcast.github.io/v1";
  return group + "/namespaces/" + action.ns + "/" + action.resource + "/" + action.name;
}

std::string ReapDeleteBody(const ReapAction& action) {
  json::object body{
      {"kind", "DeleteOptions"}, {"apiVersion", "v1"}, {"propagationPolicy", "Background"}};
  if (!action.uid.empty()) body["preconditions"] = {{"uid", action.uid}};
  return json::serialize(body);
}

Reaper::Reaper(asio::any_io_executor executor, const Clock& clock, KubeClient& client,
               ReaperSources sources, ReaperOptions options)
    : executor_(executor),
      clock_(clock),
      client_(client),
      sources_(std::move(sources)),
      options_(options),
      timer_(executor) {}

Reaper::~Reaper() {
  *alive_ = false;
  timer_.cancel();
}

void Reaper::Start() {
  if (running_) return;
  running_ = true;
  if (!sweeping_) Spawn();  // else the sweep in progress arms the next one
}

void Reaper::Stop() {
  running_ = false;
  timer_.cancel();
}

void Reaper::Spawn() {
  sweeping_ = true;
  asio::co_spawn(executor_, Sweep(alive_), asio::detached);
}

void Reaper::Arm() {
  timer_.expires_after(options_.interval);
  timer_.async_wait([this, alive = alive_](boost::system::error_code ec) {
    if (!ec && *alive && running_ && !sweeping_) Spawn();
  });
}

ReaperInput Reaper::Input() const {
  ReaperInput input;
  auto add = [](const std::vector<const Informer*>& from,
                std::vector<const boost::json::object*>& to) {
    for (const Informer* informer : from) {
      for (const auto& [key, object] : informer->objects()) to.push_back(&object);
    }
  };
  add(sources_.runner->pod_informers(), input.pods);
  input.active_runs = sources_.runner->active_run_uuids();
  add(sources_.khjobs, input.khjobs);
  // A khstate is an orphan only if the server serves both kinds it could belong to.
  if (!sources_.khchecks.empty() && !sources_.khjobs.empty()) {
    add(sources_.khstates, input.khstates);
  }
  for (const auto* list : {&sources_.khchecks, &sources_.khjobs}) {
    for (const Informer* informer : *list) {
      for (const auto& [key, object] : informer->objects()) input.checks.insert(key);
    }
  }
  return input;
}

bool Reaper::Due(const ReapAction& action) const {
  const std::string key = action.ns + "/" + action.name;
  const json::object* current = nullptr;
  bool check_exists = false;
  if (action.resource == "pods") {
    current = FindIn(sources_.runner->pod_informers(), key);
  } else if (action.resource == "khjobs") {
    current = FindIn(sources_.khjobs, key);
  } else {
    current = FindIn(sources_.khstates, key);
    check_exists = FindIn(sources_.khchecks, key) != nullptr || FindIn(sources_.khjobs, key);
  }
  return StillDue(action, current, sources_.runner->active_run_uuids(), check_exists);
}

asio::awaitable<void> Reaper::Sweep(std::shared_ptr<bool> alive) {
  if (!*alive) co_return;  // destroyed before the spawn ran
  const TimePoint started = clock_.Now();
  const std::vector<ReapAction> actions = DecideReaping(Input(), started, options_);
  size_t done = 0;
  for (const ReapAction& action : actions) {
    if (!running_) break;
    if (clock_.Now() - started > options_.sweep_budget) {
      spdlog::warn("reaper: sweep budget of {} spent; {} deletes left for the next sweep",
                   FormatGoDuration(options_.sweep_budget), actions.size() - done);
      break;
    }
    ++done;
    if (!Due(action)) continue;
    const std::string path = ReapPath(action);
    spdlog::info("reaper: deleting {}/{}/{} ({}): {}", action.resource, action.ns, action.name,
                 ReasonLabel(action.reason), action.detail);
    auto answer = co_await client_.Call("DELETE", path, ReapDeleteBody(action));
    if (!*alive) co_return;
    const int status = answer.ok() ? answer.value().status : 0;
    if (status == 409) {
      spdlog::info("reaper: {} was re-created; left alone", path);
    } else if ((status >= 200 && status < 300) || status == 404) {
      ++stats_.deleted;
      if (action.resource == "pods") ++stats_.deleted_pods[std::string(ReasonLabel(action.reason))];
    } else {
      ++stats_.failed;
      spdlog::warn("reaper: DELETE {}: {}", path,
                   answer.ok() ? DescribeStatus(answer.value()) : answer.error());
    }
  }
  ++stats_.sweeps;
  stats_.last_sweep = clock_.Now() - started;
  sweeping_ = false;
  if (running_) Arm();
}

}  // namespace sonde::kube
