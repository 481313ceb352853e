// Internal to the checks module: one function per bundled check, each in its own file. The
// table in bundled_check.cpp is the only list of them.
#pragma once

#include <boost/json/object.hpp>

#include "checks/bundled_check.hpp"
#include "probe/condition.hpp"
#include "probe/probe.hpp"

namespace sonde::checks_internal {

CheckOutcome RunHttpCheck(const CheckEnv& env, Duration budget);
CheckOutcome RunHttpContentCheck(const CheckEnv& env, Duration budget);
CheckOutcome RunNetworkConnectionCheck(const CheckEnv& env, Duration budget);
CheckOutcome RunSslExpiryCheck(const CheckEnv& env, Duration budget);
CheckOutcome RunSslHandshakeCheck(const CheckEnv& env, Duration budget);
CheckOutcome RunDnsCheck(const CheckEnv& env, Duration budget);
// Kubernetes checks: they read the cluster through KubeSession (kube_session.hpp).
CheckOutcome RunPodRestartsCheck(const CheckEnv& env, Duration budget);
CheckOutcome RunPodStatusCheck(const CheckEnv& env, Duration budget);
CheckOutcome RunNamespacePodCheck(const CheckEnv& env, Duration budget);
CheckOutcome RunResourceQuotaCheck(const CheckEnv& env, Duration budget);
CheckOutcome RunDaemonsetCheck(const CheckEnv& env, Duration budget);
CheckOutcome RunDeploymentCheck(const CheckEnv& env, Duration budget);

// "web: ErrImagePull, sidecar: CrashLoopBackOff" from a pod status's container waiting states.
std::string WaitingReasons(const boost::json::object& status);

// Conditions parsed from fixed or validated text (a parse failure is a bug and aborts).
std::vector<Condition> MustParse(std::initializer_list<std::string> texts);

// A probe's error without its leading "TARGET: ", for messages that name the target already.
std::string StripTarget(const Probe& probe, const std::string& error);

}  // namespace sonde::checks_internal
