#include "kube/event_recorder.hpp"

#include <spdlog/spdlog.h>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/json/serialize.hpp>

namespace sonde::kube {

namespace asio = boost::asio;
namespace json = boost::json;

EventRecorder::EventRecorder(asio::any_io_executor executor, const Clock& clock, KubeClient& client,
                             std::string instance, size_t max_in_flight)
    : executor_(std::move(executor)),
      clock_(clock),
      client_(client),
      instance_(std::move(instance)),
      max_in_flight_(max_in_flight) {}

EventRecorder::~EventRecorder() { *alive_ = false; }

void EventRecorder::Record(const RunOutcome& run) {
  std::optional<bool> previous;
  if (const auto it = last_ok_.find(run.key); it != last_ok_.end()) previous = it->second;
  if (run.ended_by == "removed") {
    last_ok_.erase(run.key);
  } else {
    last_ok_[run.key] = run.ok;
  }
  const auto event = CheckEvent(run, previous, clock_.Now(), instance_);
  if (!event) return;
  if (in_flight_ >= max_in_flight_) {
    ++dropped_;
    return;
  }
  ++in_flight_;
  const std::string path = "/api/v1/namespaces/" + run.key.ns + "/events";
  asio::co_spawn(
      executor_,
      [this, alive = alive_, path, body = json::serialize(*event)]() -> asio::awaitable<void> {
        auto response = co_await client_.Call("POST", path, body);
        if (!*alive) co_return;
        --in_flight_;
        if (response.ok() && response.value().status == 201) {
          ++recorded_;
          co_return;
        }
        ++dropped_;
        std::string why = response.error();
        if (response.ok()) why = DescribeStatus(response.value());
        spdlog::warn("event {}: {}", path, why);
      },
      asio::detached);
}

}  // namespace sonde::kube
