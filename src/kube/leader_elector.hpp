// Leader election on a coordination.k8s.io/v1 Lease (lease.hpp decides; this loop reads and
// writes). Every retry period: read the Lease, decide, write. A leader that cannot renew
// within the renew deadline stops leading and keeps contending (Kuberhealthy #1533: v3 gave
// up for good). The leader also writes where it takes reports (`sonde.dev/reporting-url`), so
// that followers can hand reports to it.
//
// Thread safety: not thread-safe; lives on the client's executor, callbacks run there.
// Ownership: borrows the client and the clock.
#pragma once

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/cancellation_signal.hpp>
#include <functional>
#include <memory>
#include <string>

#include "core/clock.hpp"
#include "kube/kube_client.hpp"
#include "kube/lease.hpp"

namespace sonde::kube {

inline constexpr const char* kLeaderUrlAnnotation = "sonde.dev/reporting-url";

struct LeaderCallbacks {
  std::function<void()> started_leading;
  std::function<void()> stopped_leading;
  std::function<void(const std::string& holder)> leader_seen;  // the holder changed ("": none)
};

class LeaderElector {
 public:
  // `identity`: this replica (its pod name); `reporting_url`: where it takes reports.
  LeaderElector(boost::asio::any_io_executor executor, const Clock& clock, KubeClient& client,
                LeaseOptions options, std::string identity, std::string reporting_url,
                LeaderCallbacks callbacks);
  ~LeaderElector();
  LeaderElector(const LeaderElector&) = delete;
  LeaderElector& operator=(const LeaderElector&) = delete;

  void Start();
  // Stops contending; a leader releases the Lease first (one PUT, bounded by the client's
  // request timeout) so another replica takes over at its next try instead of after expiry.
  void Stop(std::function<void()> done);

  bool leading() const;
  const std::string& identity() const;
  // The holder seen at the last read ("" when none) and its reporting URL.
  const std::string& leader() const;
  const std::string& leader_url() const;
  uint64_t transitions_seen() const;

 private:
  struct State;
  std::shared_ptr<State> state_;
};

}  // namespace sonde::kube
