// Internal to the checks module: the pure half of the daemonset check. It reads Kuberhealthy's
// environment contract (TOLERATIONS, ALLOWED_TAINTS, NODE_SELECTOR, ...), decides which nodes
// the check's DaemonSet must cover and writes the DaemonSet. The API half is in
// daemonset_check.cpp.
//
// A node must get a Ready pod when it is schedulable (not cordoned, not being deleted), has
// every NODE_SELECTOR label, and each of its NoSchedule/NoExecute taints is tolerated by
// TOLERATIONS and not named by ALLOWED_TAINTS. Kuberhealthy instead tolerates every taint it
// finds on any node when TOLERATIONS is unset (kuberhealthy#854), which puts its pods on
// nodes that opted out (Fargate, dedicated pools). The DaemonSet is pinned to exactly those
// nodes (a required node affinity on metadata.name), since the DaemonSet controller tolerates
// some taints by itself (node.kubernetes.io/unschedulable among them, kuberhealthy#777).
//
// Thread safety: pure functions. Failure: configuration problems are collected in the
// EnvReader, each naming its variable; nothing throws.
#pragma once

#include <boost/json/object.hpp>
#include <map>
#include <string>
#include <vector>

#include "checks/env_reader.hpp"
#include "core/time.hpp"

namespace sonde::checks_internal {

// A pod toleration (core/v1 Toleration without tolerationSeconds).
struct Toleration {
  std::string key;
  std::string op = "Exists";  // "Exists" or "Equal"
  std::string value;
  std::string effect;  // "" tolerates every effect
};

// One ALLOWED_TAINTS entry: a taint that may keep a node without a pod.
struct TaintRule {
  std::string key;
  std::string effect;  // "" for any effect
};

struct DaemonsetConfig {
  std::string ns = "kuberhealthy";                           // POD_NAMESPACE
  std::string image = "gcr.io/google-containers/pause:3.1";  // PAUSE_CONTAINER_IMAGE
  Duration grace = std::chrono::minutes(1);                  // SHUTDOWN_GRACE_PERIOD
  std::string name = "daemonset";                            // CHECK_DAEMONSET_NAME (a prefix)
  std::string priority_class;                                // DAEMONSET_PRIORITY_CLASS_NAME
  std::map<std::string, std::string> node_selector;          // NODE_SELECTOR k=v,k2=v2
  std::vector<Toleration> tolerations;                       // TOLERATIONS
  std::vector<TaintRule> allowed_taints = {                  // ALLOWED_TAINTS
      {"node.kubernetes.io/unschedulable", "NoSchedule"}};
};

// Reads the variables; problems go to `in` (e.g. `TOLERATIONS entry "a=b:Sometimes": the
// effect must be NoSchedule, PreferNoSchedule or NoExecute`).
DaemonsetConfig ReadDaemonsetConfig(EnvReader& in, const CheckEnv& env);

// Kubernetes' rule: does `t` tolerate the taint (key, value, effect)?
bool Tolerates(const Toleration& t, const std::string& key, const std::string& value,
               const std::string& effect);

struct NodePlan {
  std::vector<std::string> expected;  // nodes that must get a Ready pod, in list order
  // Nodes left out and why: "cordoned", "NODE_SELECTOR role=web does not match",
  // "taint dedicated=gpu:NoSchedule is not tolerated", ...
  std::vector<std::pair<std::string, std::string>> skipped;
};
NodePlan PlanNodes(const std::vector<boost::json::object>& nodes, const DaemonsetConfig& config);

// The labels of one run's DaemonSet and pods (Kuberhealthy's: kh-app, source, khcheck,
// creatingInstance, checkRunTime).
std::map<std::string, std::string> RunLabels(const std::string& ds_name,
                                             const std::string& instance, int64_t run_time);

// The DaemonSet's JSON: the pause container, the tolerations, the node selector, the priority
// class, and the required node affinity that pins it to `nodes`.
boost::json::object DaemonsetManifest(const DaemonsetConfig& config, const std::string& ds_name,
                                      const std::map<std::string, std::string>& labels,
                                      const std::vector<std::string>& nodes);

// A label value made of `text`: lower case, [a-z0-9.-_] only, at most 63 characters,
// alphanumeric at both ends ("" when nothing is left).
std::string LabelValue(std::string text);

}  // namespace sonde::checks_internal
