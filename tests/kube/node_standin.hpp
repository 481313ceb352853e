// Test support: stand-ins for a cluster's nodes and for the scheduler's part in DaemonSets,
// since the test control plane has neither. NodeStandin registers Node objects (labels,
// taints, cordoned or not) with a Ready status and keeps them Ready: it renews each node's
// Lease in kube-node-lease and its Ready heartbeat every few seconds, as a kubelet does, so the
// node-lifecycle controller never finds them stale. It watches the pods it is told to schedule
// and binds each (POST pods/NAME/binding) to the node its required node affinity names (the
// DaemonSet controller of 1.20 pins each pod with matchFields metadata.name and leaves
// spec.nodeName empty), unless that node is registered with `bind = false`, whose pods stay
// Pending as on a node the scheduler cannot use. Running the bound pods is KubeletStandin's
// part (with `bound_only`).
//
// Ownership: the stand-in owns its thread; destruction stops it and deletes its Node and Lease
// objects. Thread safety: runs on its own thread; the public methods may be called from any
// thread. Failure: Start() fails with the request and the server's answer when a node cannot
// be registered.
#pragma once

#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "core/result.hpp"
#include "kube/kube_config.hpp"

namespace sonde::testing {

struct NodeTaint {
  std::string key, value, effect;  // effect: NoSchedule, PreferNoSchedule or NoExecute
};

struct StandinNode {
  std::string name;
  std::map<std::string, std::string> labels;
  std::vector<NodeTaint> taints;
  bool cordoned = false;  // spec.unschedulable
  bool bind = true;       // false: its pods are never bound
};

struct NodeStandinOptions {
  kube::ClusterConfig cluster;  // an identity allowed to write nodes, leases and pod bindings
  std::vector<StandinNode> nodes;
  std::string pod_selector;  // label selector of the pods to schedule; "" for all
};

class NodeStandin {
 public:
  static Result<std::unique_ptr<NodeStandin>> Start(NodeStandinOptions options);
  ~NodeStandin();
  NodeStandin(const NodeStandin&) = delete;
  NodeStandin& operator=(const NodeStandin&) = delete;

  uint64_t pods_bound() const;  // bindings the API server accepted
  // Distinct pods seen pinned to `node` (bound or not): 0 when no pod was ever made for it.
  size_t pods_for(const std::string& node) const;

 private:
  struct Impl;
  explicit NodeStandin(std::shared_ptr<Impl> impl) : impl_(std::move(impl)) {}
  std::shared_ptr<Impl> impl_;
};

}  // namespace sonde::testing
