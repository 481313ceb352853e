// What the reaper deletes (Kuberhealthy §5.4, with its defaults), decided without I/O: old and
// surplus checker pods, checker pods stuck long past their run's deadline, finished
// KuberhealthyJobs past their age, and khstates whose check is gone.
//
// Unlike Kuberhealthy (#799, #1047), nothing that belongs to a run still in flight is deleted:
// not its pod (whatever its phase or age), not its khjob, not its khstate. Runs end by their
// deadline, which deletes their pod; the reaper only cleans up after runs that are over.
//
// Pure: `now` is passed in. Thread safety: pure functions. Failure: never throws; an object it
// cannot read (no name, no usable time) is left alone.
#pragma once

#include <boost/json/object.hpp>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "core/time.hpp"

namespace sonde::kube {

struct ReaperOptions {
  // Kuberhealthy v2's settings with the Helm chart's values (v3's differ: completed 1,
  // error 2, no age limit).
  Duration interval = std::chrono::seconds(30);           // CHECK_REAPER_RUN_INTERVAL
  Duration max_check_pod_age = std::chrono::hours(72);    // maxCheckPodAge, at least 30s
  size_t max_completed_pod_count = 4;                     // maxCompletedPodCount: Succeeded kept
  size_t max_error_pod_count = 4;                         // maxErrorPodCount: Failed kept
  Duration error_pod_retention = std::chrono::hours(36);  // KH_ERROR_POD_RETENTION_TIME
  Duration max_khjob_age = std::chrono::minutes(15);      // maxKHJobAge, at least 5m
  Duration sweep_budget = std::chrono::minutes(3);        // deletes left over wait a sweep
};

// Kuberhealthy's floors: shorter settings would race the runs they clean up after.
inline constexpr Duration kReaperSettleTime = std::chrono::seconds(30);  // ended pods kept
inline constexpr Duration kReaperMinJobAge = std::chrono::minutes(5);
// v3 deletes a pod that has not ended after max(2 x its timeout, 5m).
inline constexpr Duration kReaperMinStuckAge = std::chrono::minutes(5);

enum class ReapReason {
  kExpired,        // a pod older than maxCheckPodAge
  kCompleted,      // a Succeeded pod beyond maxCompletedPodCount newer ones
  kFailed,         // a Failed pod beyond maxErrorPodCount newer ones, or past the retention
  kTimeout,        // a pod of no run in flight, not ended long after its run's deadline
  kJobCompleted,   // a Completed khjob older than maxKHJobAge
  kOrphanedState,  // a khstate with no khcheck or khjob of its name
};
// v3's `reason` label of kuberhealthy_reaper_deleted_pods_total for pods ("expired",
// "completed", "failed", "timeout"); "khjob" and "khstate" for the others.
std::string_view ReasonLabel(ReapReason reason);

struct ReapAction {
  std::string resource;  // "pods", "khjobs" or "khstates"
  std::string ns;
  std::string name;
  std::string uid;  // metadata.uid, a delete precondition: a re-created namesake is spared
  ReapReason reason = ReapReason::kExpired;
  std::string detail;  // for the log: "ended 3d ago; maxCheckPodAge is 72h"
  bool operator==(const ReapAction&) const = default;
};

struct ReaperInput {
  std::vector<const boost::json::object*> pods;      // checker pods (both label generations)
  std::set<std::string> active_runs;                 // run uuids still in flight
  std::vector<const boost::json::object*> khjobs;    // KuberhealthyJob objects
  std::vector<const boost::json::object*> khstates;  // KuberhealthyState objects
  std::set<std::string> checks;                      // "ns/name" of every v2 check and job
};

// Everything to delete now: pods, then khjobs, then khstates, each by namespace and name.
std::vector<ReapAction> DecideReaping(const ReaperInput& input, TimePoint now,
                                      const ReaperOptions& options);

// Just before its DELETE: whether `action` still holds for `current`, the object as the cache
// has it now (nullptr: gone). It must be the same object (uid), not being deleted already, and
// a pod's run must not be in flight, a khjob must still be Completed, a khstate's check must
// still be missing (`check_exists`).
bool StillDue(const ReapAction& action, const boost::json::object* current,
              const std::set<std::string>& active_runs, bool check_exists);

}  // namespace sonde::kube
