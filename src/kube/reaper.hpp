// The reaper loop (reaper_policy.hpp decides): every interval, while this replica leads, it
// reads the informers' caches (no list calls) and deletes what the policy names, one DELETE
// each, with background propagation; a 404 means someone else already did.
//
// Thread safety: not thread-safe; lives on the client's executor.
// Ownership: borrows the client, the pod runner and the informers; they must outlive it.
#pragma once

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/steady_timer.hpp>
#include <functional>
#include <memory>

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

class Reaper {
 public:
  Reaper(boost::asio::any_io_executor executor, const Clock& clock, KubeClient& client,
         ReaperSources sources, ReaperOptions options);
  ~Reaper();
  void Start();  // sweeps now, then every interval
  void Stop();
  uint64_t deleted() const { return *deleted_; }

 private:
  void Sweep();
  void Arm();

  boost::asio::any_io_executor executor_;
  const Clock& clock_;
  KubeClient& client_;
  ReaperSources sources_;
  ReaperOptions options_;
  boost::asio::steady_timer timer_;
  bool running_ = false;
  std::shared_ptr<uint64_t> deleted_ = std::make_shared<uint64_t>(0);
  std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);
};

}  // namespace sonde::kube
