#include "kube/reaper.hpp"

#include <spdlog/spdlog.h>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>

namespace sonde::kube {

namespace asio = boost::asio;

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
  Sweep();
}

void Reaper::Stop() {
  running_ = false;
  timer_.cancel();
}

void Reaper::Arm() {
  timer_.expires_after(options_.interval);
  timer_.async_wait([this](boost::system::error_code ec) {
    if (!ec && running_) Sweep();
  });
}

void Reaper::Sweep() {
  ReaperInput input;
  auto add = [](const std::vector<const Informer*>& from,
                std::vector<const boost::json::object*>& to) {
    for (const Informer* informer : from) {
      for (const auto& [key, object] : informer->objects()) to.push_back(&object);
    }
  };
  for (const Informer* informer : sources_.runner->pod_informers()) {
    for (const auto& [key, pod] : informer->objects()) input.pods.push_back(&pod);
  }
  input.active_runs = sources_.runner->active_run_uuids();
  add(sources_.khjobs, input.khjobs);
  // A khstate is an orphan only if the server serves both kinds it could belong to.
  if (!sources_.khchecks.empty() && !sources_.khjobs.empty())
    add(sources_.khstates, input.khstates);
  for (const auto* list : {&sources_.khchecks, &sources_.khjobs}) {
    for (const Informer* informer : *list) {
      for (const auto& [key, object] : informer->objects()) input.checks.insert(key);
    }
  }
  for (const ReapAction& action : DecideReaping(input, clock_.Now(), options_)) {
    const std::string group = action.resource == "pods" ? "/api/v1" : "/apis/comcast.github.io/v1";
    const std::string path =
        group + "/namespaces/" + action.ns + "/" + action.resource + "/" + action.name;
    spdlog::info("reaper: deleting {}/{}/{}: {}", action.resource, action.ns, action.name,
                 action.reason);
    asio::co_spawn(
        executor_,
        [this, alive = alive_, deleted = deleted_, path]() -> asio::awaitable<void> {
          const std::string body = R"({"kind":"DeleteOptions","apiVersion":"v1",)"
                                   R"("propagationPolicy":"Background"})";
          auto answer = co_await client_.Call("DELETE", path, body);
          if (!*alive) co_return;
          if (answer.ok() && (answer.value().status < 300 || answer.value().status == 404)) {
            ++*deleted;
          } else {
            spdlog::warn("reaper: DELETE {}: {}", path,
                         answer.ok() ? DescribeStatus(answer.value()) : answer.error());
          }
        },
        asio::detached);
  }
  Arm();
}

}  // namespace sonde::kube
