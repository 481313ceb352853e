// Internal to the checks module: the deployment check's settings, read from Kuberhealthy's
// variables (kuberhealthy/deployment-check), and the objects it sends to the API server: the
// Deployment, the ClusterIP Service and the rolling update's patch, as Kuberhealthy's check
// builds them (label kh-deployment-timestamp, minReadySeconds 5, maxSurge and maxUnavailable
// half the replicas rounded up, TCP liveness and readiness probes on the container port).
//
// Thread safety: pure functions. Failure: every wrong variable is a problem in the EnvReader,
// named, e.g. `TOLERATIONS "a=b:c:d": want key, key=value or key=value:Effect`.
#pragma once

#include <string>
#include <utility>
#include <vector>

#include "checks/env_reader.hpp"
#include "core/time.hpp"

namespace sonde::checks_internal {

struct Toleration {
  std::string key, op, value, effect;  // op: "Exists" or "Equal"
};

struct DeploymentSettings {
  std::string image;        // CHECK_IMAGE
  std::string roll_to;      // CHECK_IMAGE_ROLL_TO
  std::string pull_secret;  // CHECK_IMAGE_PULL_SECRET; "" for none
  std::string deployment;   // CHECK_DEPLOYMENT_NAME
  std::string service;      // CHECK_SERVICE_NAME
  std::string ns;           // CHECK_NAMESPACE, else KH_POD_NAMESPACE, else kuberhealthy
  int replicas = 2;
  bool rolling_update = false;
  int container_port = 8080;
  int service_port = 80;        // CHECK_LOAD_BALANCER_PORT
  std::string service_account;  // "" leaves the namespace's default
  std::string cpu_request, cpu_limit, memory_request, memory_limit;  // quantities
  std::vector<std::pair<std::string, std::string>> node_selector;
  std::vector<Toleration> tolerations;
  std::vector<std::pair<std::string, std::string>> env;  // ADDITIONAL_ENV_VARS
  Duration shutdown_grace = std::chrono::seconds(30);
  std::string run_label;  // kh-deployment-timestamp's value for this run: "unix-<seconds>"
};

inline constexpr const char* kRunLabelKey = "kh-deployment-timestamp";
inline constexpr const char* kContainerName = "deployment-container";

// Reads every variable; problems go to `in`. `now` names the run (the label's value).
DeploymentSettings ReadDeploymentSettings(const CheckEnv& env, EnvReader& in, TimePoint now);

// The Deployment with `image` in its one container (JSON).
std::string DeploymentManifest(const DeploymentSettings& s, const std::string& image);
// The ClusterIP Service: CHECK_LOAD_BALANCER_PORT to the container port of the run's pods.
std::string ServiceManifest(const DeploymentSettings& s);
// A strategic-merge patch that rolls the container to CHECK_IMAGE_ROLL_TO.
std::string RollPatch(const DeploymentSettings& s);

}  // namespace sonde::checks_internal
