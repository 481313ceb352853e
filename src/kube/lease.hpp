// The pure part of client-go-style leader election on a coordination.k8s.io/v1 Lease: reading
// the Lease, deciding what to do on each try (every retry period), and building the object to
// create or PUT. As in client-go, expiry is judged from when *this replica* last saw the record
// change, never from the holder's renewTime, so clocks that disagree between nodes cannot make
// two leaders; the PUT carries the resourceVersion read, so of two replicas taking over at once
// only one write succeeds (the other gets 409 Conflict and waits).
//
// Pure: `now` is passed in. Thread safety: pure functions. Failure: errors as values.
#pragma once

#include <boost/json.hpp>
#include <cstdint>
#include <optional>
#include <string>

#include "core/result.hpp"
#include "core/time.hpp"

namespace sonde::kube {

struct LeaseOptions {
  std::string name = "kuberhealthy-controller";  // Kuberhealthy v3's KH_LEADER_ELECTION_NAME
  std::string ns;                                // the Lease's namespace
  Duration lease_duration = std::chrono::seconds(15);
  Duration renew_deadline = std::chrono::seconds(10);  // leader gives up after failing this long
  Duration retry_period = std::chrono::seconds(2);     // time between tries
};

// "" when valid; else what is wrong, as client-go checks: lease > renew deadline > retry period
// > 0 (with client-go's jitter factor 1.2 on the retry period inside the renew deadline).
std::string ValidateLeaseOptions(const LeaseOptions& opts);

struct LeaseRecord {
  std::string holder;  // spec.holderIdentity; "" when released
  int64_t lease_duration_seconds = 0;
  std::optional<TimePoint> acquire_time;  // MicroTime
  std::optional<TimePoint> renew_time;    // MicroTime
  int64_t lease_transitions = 0;
  std::string resource_version;  // metadata.resourceVersion, for the next PUT
  bool operator==(const LeaseRecord&) const = default;
};

// Reads a Lease object. Errors name the field: `leases/ns/name: spec.renewTime: ...`.
Result<LeaseRecord> ReadLease(const boost::json::object& lease);

// When this replica last saw the record change. client-go compares the whole record; so does
// this, apart from resourceVersion (which also moves for writes that change nothing here).
struct LeaseObservation {
  std::optional<LeaseRecord> record;
  TimePoint at{};
};
// `seen` read now: the observation to keep (its time moves only when the record changed).
LeaseObservation Observe(const LeaseObservation& before, const LeaseRecord& seen, TimePoint now);

enum class LeaseAction {
  kCreate,    // no Lease yet: create `object`
  kRenew,     // I hold it: PUT `object` (renewTime now, same acquireTime and transitions)
  kTakeOver,  // expired or released: PUT `object` with me as holder, transitions + 1
  kWait,      // someone else holds a live lease: try again after retry_period
};

struct LeaseDecision {
  LeaseAction action = LeaseAction::kWait;
  // kCreate, kRenew, kTakeOver: the Lease to write; this replica leads once the write succeeds.
  boost::json::object object;
  std::string holder;      // kWait: who holds the lease
  TimePoint expires_at{};  // kWait: when it expires unless renewed (observation + duration)
};

// One try. `observed`: what Observe returned for the record just read (record unset: there is no
// Lease, the GET answered 404).
LeaseDecision DecideLease(const LeaseObservation& observed, const std::string& identity,
                          TimePoint now, const LeaseOptions& opts);

// Whether a leader whose last successful renew was at `last_renew` still leads at `now`: a leader
// that could not renew within the renew deadline stops leading (and re-contends, which
// Kuberhealthy v3 does not do, issue #1533).
bool StillLeader(TimePoint last_renew, TimePoint now, const LeaseOptions& opts);

// The Lease a leader PUTs when it steps down (client-go's ReleaseOnCancel): no holder, a 1 s
// duration, so the others take over at their next try.
boost::json::object ReleaseLease(const LeaseRecord& mine, TimePoint now, const LeaseOptions& opts);

}  // namespace sonde::kube
