// What the reaper deletes (Kuberhealthy §5.4, with its defaults), decided without I/O: old and
// surplus checker pods, finished KuberhealthyJobs past their age, and khstates whose check is
// gone. Unlike Kuberhealthy (#799, #1047), a pod whose run has not ended is never deleted here:
// runs end by their deadline, which deletes their pod.
//
// Pure: `now` is passed in. Thread safety: pure functions. Failure: never throws; objects it
// cannot read are left alone.
#pragma once

#include <boost/json/object.hpp>
#include <set>
#include <string>
#include <vector>

#include "core/time.hpp"

namespace sonde::kube {

struct ReaperOptions {
  Duration interval = std::chrono::seconds(30);           // CHECK_REAPER_RUN_INTERVAL
  Duration max_check_pod_age = std::chrono::hours(72);    // maxCheckPodAge (Helm default)
  size_t max_completed_pod_count = 4;                     // maxCompletedPodCount: Succeeded kept
  size_t max_error_pod_count = 4;                         // maxErrorPodCount: Failed kept
  Duration error_pod_retention = std::chrono::hours(36);  // KH_ERROR_POD_RETENTION_TIME
  Duration max_khjob_age = std::chrono::minutes(15);      // maxKHJobAge (Helm default)
};

struct ReapAction {
  std::string resource;  // "pods", "khjobs" or "khstates"
  std::string ns;
  std::string name;
  std::string reason;  // "expired", "completed over limit", "failed past retention", ...
  bool operator==(const ReapAction&) const = default;
};

struct ReaperInput {
  std::vector<const boost::json::object*> pods;      // checker pods (both label generations)
  std::set<std::string> active_runs;                 // run uuids still in flight
  std::vector<const boost::json::object*> khjobs;    // KuberhealthyJob objects
  std::vector<const boost::json::object*> khstates;  // KuberhealthyState objects
  std::set<std::string> checks;                      // "ns/name" of every v2 check and job
};

// Everything to delete now, pods first, each with its reason.
std::vector<ReapAction> DecideReaping(const ReaperInput& input, TimePoint now,
                                      const ReaperOptions& options);

}  // namespace sonde::kube
