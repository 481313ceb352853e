// The reaper loop (reaper_policy.hpp decides): every interval, while this replica leads, it
// reads the informers' caches (no list calls) and deletes what the policy names, one DELETE
// at a time with background propagation and the object's uid as a precondition. Just before
// each DELETE it re-reads the object from the cache (StillDue), so a run adopted or a check
// re-created since the sweep began is spared. A sweep stops issuing deletes after
// `sweep_budget` (the rest waits for the next one), and the next sweep is armed only when one
// ends, so sweeps never overlap. 404 (already gone) counts as done; 409 (a precondition: the
// object was re-created) is skipped.
//
// Thread safety: not thread-safe; lives on the client's executor.
// Ownership: borrows the clock, the client, the pod runner and the informers; they must
// outlive it (or the executor must stop first).
// Failure: API errors are logged and retried by the next sweep; never throws.
#pragma once

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/steady_timer.hpp>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "core/clock.hpp"
#include "kube/informer.hpp"
#include "kube/kube_client.hpp"
#include "kube/pod_runner.hpp"
#include "kube/reaper_policy.hpp"

namespace sonde::kube {

struct ReaperSources {
  const PodRunner* runner = nullptr;      // checker pods and the runs in flight
  std::vector<const Informer*> khchecks;  // v2 checks, for orphaned khstates
  std::vector<const Informer*> khjobs;    // v2 jobs (also the age of finished ones)
  std::vector<const Informer*> khstates;
};

struct ReaperStats {
  uint64_t sweeps = 0;
  uint64_t deleted = 0;  // accepted DELETEs, and 404s
  uint64_t failed = 0;   // DELETEs that failed (retried by a later sweep)
  Duration last_sweep{};
  // Deleted checker pods by ReasonLabel ("expired", "completed", "failed", "timeout"), for
  // kuberhealthy_reaper_deleted_pods_total.
  std::map<std::string, uint64_t> deleted_pods;
};

class Reaper {
 public:
  Reaper(boost::asio::any_io_executor executor, const Clock& clock, KubeClient& client,
         ReaperSources sources, ReaperOptions options);
  ~Reaper();
  Reaper(const Reaper&) = delete;
  Reaper& operator=(const Reaper&) = delete;

  void Start();  // sweeps now, then `interval` after each sweep ends
  void Stop();   // no new sweep, no further DELETE of the one in progress
  const ReaperStats& stats() const { return stats_; }

 private:
  void Spawn();
  void Arm();
  boost::asio::awaitable<void> Sweep(std::shared_ptr<bool> alive);
  ReaperInput Input() const;
  bool Due(const ReapAction& action) const;

  boost::asio::any_io_executor executor_;
  const Clock& clock_;
  KubeClient& client_;
  ReaperSources sources_;
  ReaperOptions options_;
  boost::asio::steady_timer timer_;
  bool running_ = false;
  bool sweeping_ = false;
  ReaperStats stats_;
  std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);
};

// The DELETE of one action: its path and its DeleteOptions body.
std::string ReapPath(const ReapAction& action);
std::string ReapDeleteBody(const ReapAction& action);

}  // namespace sonde::kube
