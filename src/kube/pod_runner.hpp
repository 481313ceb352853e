// The Runner seam in operator mode: each run is a checker pod. Start() creates the pod from
// the check's podSpec (checker_pod.hpp), the pod's phase is followed by watch (two informers:
// v2 pods carry `kuberhealthy-run-id`, v3 pods `kh-run-uuid`), and the run ends when the pod
// succeeds, fails, cannot start (an image that does not pull ends the run at once, with the
// kubelet's reason), or is deleted. Terminate() evicts the pod, as Kuberhealthy's cleanup
// does (a PodDisruptionBudget or an admission hook gets its say), and deletes it when the
// eviction is refused. The engine decides outcomes
// exactly as in local mode; only this runner differs.
//
// Thread safety: not thread-safe; every method and callback runs on the executor.
// Ownership: borrows the client; owns its informers.
// Failure: API errors end the run through `done` (ContainerExit::started=false with the
// server's answer), never throw.
#pragma once

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/steady_timer.hpp>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "core/clock.hpp"
#include "kube/informer.hpp"
#include "kube/kube_client.hpp"
#include "kube/pod_status.hpp"
#include "runner/runner.hpp"

namespace sonde::kube {

struct PodRunnerOptions {
  // Pods are watched in these namespaces; empty: all namespaces.
  std::vector<std::string> namespaces;
  // A deleted pod whose DELETED event never arrives ends its run after this long.
  Duration delete_wait = std::chrono::seconds(60);
};

class PodRunner final : public Runner {
 public:
  PodRunner(boost::asio::any_io_executor executor, const Clock& clock, KubeClient& client,
            PodRunnerOptions options = {});
  ~PodRunner() override;

  // Starts watching checker pods; runs may start once synced() is true.
  void Start();
  bool synced() const;

  void Start(const RunRequest& request, RunDone done) override;
  void Terminate(const std::string& run_uuid) override;
  // Follows the pod of a run a former leader started (found by its run label in the cache).
  bool Adopt(const RunRequest& request, RunDone done) override;
  // Forgets the run; its pod goes on for the next leader to adopt.
  void Release(const std::string& run_uuid) override { runs_.erase(run_uuid); }
  // Deletes the pod of a run an earlier leader started (found by its run label in the cache).
  void StopLeftovers(const std::string& run_uuid) override;
  // Forgets every run without touching the pods: a replica that stops leaves its runs to the
  // next leader, which closes them (Engine::CloseInterruptedRun -> StopLeftovers).
  void KillAll() override;
  // Checker output stays with the pod (`kubectl logs`); the runner keeps none.
  std::vector<RunLogs> Logs(const CheckKey& key) const override;
  size_t ActiveRuns() const override { return runs_.size(); }
  // Kuberhealthy's words for how far the pod got: never seen running, or running without a
  // report.
  std::string DeadlineDetail(const std::string& run_uuid) const override;

  uint64_t pods_created() const { return pods_created_; }
  // For the reaper: the checker pods' caches, and the runs this runner follows now.
  std::vector<const Informer*> pod_informers() const;
  std::set<std::string> active_run_uuids() const;
  // The run of the unfinished checker pod with this IP (status.podIP); "" if none or several
  // (hostNetwork pods share their node's address): the fallback for reports that name no run.
  std::string RunOfPodIp(const std::string& ip) const;

 private:
  struct Run {
    std::string ns;
    std::string pod;  // "" until the create answered
    RunDone done;
    bool terminated = false;
    bool delete_sent = false;
    std::optional<PodStatus> last;
    std::unique_ptr<boost::asio::steady_timer> delete_timer;
  };
  void OnPod(const boost::json::object& pod, bool deleted);
  void Finish(const std::string& run_uuid, RunExit exit);
  void DeletePod(const std::string& ns, const std::string& name);
  // True when evicted or gone (or the runner was destroyed meanwhile); false when refused.
  boost::asio::awaitable<bool> EvictPod(std::string ns, std::string name);
  void SendDelete(const std::string& run_uuid);

  boost::asio::any_io_executor executor_;
  const Clock& clock_;
  KubeClient& client_;
  PodRunnerOptions options_;
  std::vector<std::unique_ptr<Informer>> informers_;
  std::map<std::string, Run> runs_;  // by run uuid
  uint64_t pods_created_ = 0;
  // policy/v1 Eviction is served from Kubernetes 1.22; older servers take v1beta1.
  std::string eviction_version_ = "policy/v1";
  std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);
};

}  // namespace sonde::kube
