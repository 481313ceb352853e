// Records check_event.hpp's Kubernetes Events for finished runs: fire and forget, with at most
// `max_in_flight` creates outstanding (more are dropped and counted: an event is a courtesy to
// `kubectl describe`, never a reason to hold a run's result or to flood a struggling server).
//
// Thread safety: not thread-safe; call it on the executor the client runs on.
// Ownership: borrows the client and the clock.
// Failure: API errors are logged and counted, never returned.
#pragma once

#include <boost/asio/any_io_executor.hpp>
#include <cstdint>
#include <map>
#include <memory>
#include <string>

#include "core/clock.hpp"
#include "kube/check_event.hpp"
#include "kube/kube_client.hpp"

namespace sonde::kube {

class EventRecorder {
 public:
  EventRecorder(boost::asio::any_io_executor executor, const Clock& clock, KubeClient& client,
                std::string instance, size_t max_in_flight = 16);
  ~EventRecorder();
  EventRecorder(const EventRecorder&) = delete;
  EventRecorder& operator=(const EventRecorder&) = delete;

  // Records the event `run` calls for, if any, given the check's previous result as this
  // recorder saw it.
  void Record(const RunOutcome& run);

  uint64_t recorded() const { return recorded_; }  // creates the server accepted
  uint64_t dropped() const { return dropped_; }    // not sent, or refused

 private:
  boost::asio::any_io_executor executor_;
  const Clock& clock_;
  KubeClient& client_;
  std::string instance_;
  size_t max_in_flight_;
  size_t in_flight_ = 0;
  std::map<CheckKey, bool> last_ok_;
  uint64_t recorded_ = 0, dropped_ = 0;
  std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);
};

}  // namespace sonde::kube
