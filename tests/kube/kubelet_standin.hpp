// Test support: a stand-in for the kubelet, since the test API server has no nodes. It watches
// pods through the real API server, runs each container's command as a local process with
// the pod's environment (downward-API values filled in), and patches the pod's status through
// its phases (Pending -> Running -> Succeeded/Failed, container statuses with exit codes), so
// an end-to-end run is what a cluster does. Deleting a pod kills its processes.
// An image that contains "invalid" does not "pull": the pod stays Pending with an
// ErrImagePull waiting state, as a kubelet reports a bad image; one whose image contains
// "never-starts" stays Pending without a status, as a pod no node can take. A container with
// no command runs what `image_commands` maps its image to (what the image would run), so
// workload pods (a Deployment's web server, a DaemonSet's pause container) run too. A running
// pod reports the Ready condition, so the endpoints controller lists it. A pod deleted with a
// grace period has its processes killed and is then deleted for good, as a kubelet confirms.
// Every container gets SONDE_STANDIN_POD_IP, the pod's own loopback address, to listen on.
//
// Thread safety: runs on its own thread; the public methods may be called from any thread.
#pragma once

#include <atomic>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "kube/kube_config.hpp"

namespace sonde::testing {

struct KubeletOptions {
  kube::ClusterConfig cluster;       // an identity allowed to watch pods and patch pods/status
  std::string label_selector;        // which pods to run; "" for all
  std::string pod_ip = "127.0.0.1";  // the node's (hostIP); each pod gets its own 127.0.1.x
  // Image -> argv for containers without a command; the pod's env is set as for any container.
  std::map<std::string, std::vector<std::string>> image_commands;
  // Only pods bound to a node (spec.nodeName set), as a kubelet runs only its node's pods: for
  // pods a scheduler stand-in binds (tests/kube/node_standin.hpp).
  bool bound_only = false;
};

class KubeletStandin {
 public:
  explicit KubeletStandin(KubeletOptions options);
  ~KubeletStandin();  // kills what is still running
  KubeletStandin(const KubeletStandin&) = delete;
  KubeletStandin& operator=(const KubeletStandin&) = delete;

  uint64_t pods_started() const;   // pods whose containers were started
  uint64_t pods_finished() const;  // pods patched to Succeeded or Failed
  size_t running() const;          // pods with processes alive now
  // The most pods of one check (label kuberhealthy-check-name or healthcheck) that ever ran
  // at the same time: a scheduler that never runs a check twice at once keeps it at 1.
  size_t max_concurrent_per_check() const;

 private:
  struct Impl;
  std::shared_ptr<Impl> impl_;
};

}  // namespace sonde::testing
