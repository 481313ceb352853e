// Test support: a stand-in for kube-proxy, since the test cluster has none. It watches Services
// and Pods through the real API server and relays TCP connections to each Service's
// clusterIP:port to the target port of a ready pod the Service's selector picks (round robin),
// as kube-proxy does with the endpoints a cluster computes. A port with no ready pod accepts
// and closes at once. The cluster IPs are on loopback (TestCluster's service CIDR is
// 127.0.2.0/24), and so are the pods' (KubeletStandin's 127.0.1.x), so nothing leaves the host.
//
// Why pods and not Endpoints or EndpointSlices: 1.20's controllers cannot publish these pods.
// The API server refuses their Endpoints (a loopback IP, and no nodeName: "Invalid value"), and
// the EndpointSlice controller fails on them (`node "" not found`: no scheduler, no Node
// objects). So the stand-in does the endpoints controller's selection itself: same namespace,
// labels matching the selector, the Ready condition True, a pod IP, not being deleted.
//
// Thread safety: runs on its own thread; the public methods may be called from any thread.
// Every relayed connection has a 2s connect timeout, 16 KiB buffers and a 60s lifetime.
#pragma once

#include <cstdint>
#include <memory>

#include "kube/kube_config.hpp"

namespace sonde::testing {

struct ProxyOptions {
  kube::ClusterConfig cluster;  // an identity allowed to list and watch services and pods
};

class ProxyStandin {
 public:
  explicit ProxyStandin(ProxyOptions options);
  ~ProxyStandin();  // closes the listeners and every relayed connection
  ProxyStandin(const ProxyStandin&) = delete;
  ProxyStandin& operator=(const ProxyStandin&) = delete;

  size_t listeners() const;       // service ports listened on now
  uint64_t relayed() const;       // connections relayed to a pod
  uint64_t without_pods() const;  // connections closed for want of a ready pod

 private:
  struct Impl;
  std::shared_ptr<Impl> impl_;
};

}  // namespace sonde::testing
