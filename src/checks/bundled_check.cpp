#include "checks/bundled_check.hpp"

#include <charconv>
#include <cstdio>
#include <cstdlib>
#include <iostream>

#include "checks/check_kinds.hpp"
#include "core/clock.hpp"
#include "kh_client.hpp"

namespace sonde {
namespace {

using namespace checks_internal;

// Kuberhealthy's images, and Sonde's own of the same name (sonde/<kind>-check).
constexpr std::string_view kHttpImages[] = {"kuberhealthy/http-check", "sonde/http-check"};
constexpr std::string_view kHttpContentImages[] = {"kuberhealthy/http-content-check",
                                                   "sonde/http-content-check"};
constexpr std::string_view kNetworkImages[] = {"kuberhealthy/network-connection-check",
                                               "sonde/network-connection-check"};
constexpr std::string_view kExpiryImages[] = {"kuberhealthy/ssl-expiry-check",
                                              "sonde/ssl-expiry-check"};
constexpr std::string_view kHandshakeImages[] = {"kuberhealthy/ssl-handshake-check",
                                                 "sonde/ssl-handshake-check"};
constexpr std::string_view kDnsImages[] = {"kuberhealthy/dns-resolution-check",
                                           "kuberhealthy/dns-status-check", "sonde/dns-check"};
constexpr std::string_view kPodRestartsImages[] = {"kuberhealthy/pod-restarts-check",
                                                   "sonde/pod-restarts-check"};
constexpr std::string_view kPodStatusImages[] = {"kuberhealthy/pod-status-check",
                                                 "sonde/pod-status-check"};
constexpr std::string_view kNamespacePodImages[] = {"kuberhealthy/namespace-pod-check",
                                                    "sonde/namespace-pod-check"};
constexpr std::string_view kResourceQuotaImages[] = {"kuberhealthy/resource-quota-check",
                                                     "sonde/resource-quota-check"};
constexpr std::string_view kDaemonsetImages[] = {"kuberhealthy/daemonset-check",
                                                 "sonde/daemonset-check"};
constexpr std::string_view kDeploymentImages[] = {"kuberhealthy/deployment-check",
                                                  "sonde/deployment-check"};

constexpr BundledCheck kChecks[] = {
    {"http", "COUNT requests to CHECK_URL; PASSING_PERCENT must get EXPECTED_STATUS_CODE",
     kHttpImages, RunHttpCheck},
    {"http-content", "GET TARGET_URL; the body must contain TARGET_STRING", kHttpContentImages,
     RunHttpContentCheck},
    {"network-connection", "connect to CONNECTION_TARGET (tcp:// or udp://), or expect not to",
     kNetworkImages, RunNetworkConnectionCheck},
    {"ssl-expiry", "DOMAIN_NAME:PORT's certificate must be valid for more than DAYS days",
     kExpiryImages, RunSslExpiryCheck},
    {"ssl-handshake", "a verified TLS handshake with DOMAIN_NAME:PORT must succeed",
     kHandshakeImages, RunSslHandshakeCheck},
    {"dns", "HOSTNAME must resolve (RECORD_TYPE, DNS_SERVER, EXPECTED_ANSWER optional)", kDnsImages,
     RunDnsCheck},
    {"pod-restarts", "pods with more than MAX_FAILURES_ALLOWED BackOff events (POD_NAMESPACE)",
     kPodRestartsImages, RunPodRestartsCheck},
    {"pod-status", "pods older than SKIP_DURATION that are Pending, Failed or Unknown",
     kPodStatusImages, RunPodStatusCheck},
    {"namespace-pod-check", "a pod can be created and deleted in every namespace",
     kNamespacePodImages, RunNamespacePodCheck},
    {"resource-quota", "namespaces whose quota usage is at or above THRESHOLD of the hard limit",
     kResourceQuotaImages, RunResourceQuotaCheck},
    {"daemonset", "a DaemonSet gets a Ready pod on every node that should run it, then goes away",
     kDaemonsetImages, RunDaemonsetCheck},
    {"deployment", "a Deployment and its Service answer 200 (and after a rolling update), then go",
     kDeploymentImages, RunDeploymentCheck},
};

// Kuberhealthy's checks stop this long before the run's deadline, to leave time to report.
constexpr Duration kMargin = std::chrono::seconds(5);
constexpr Duration kDefaultBudget = std::chrono::seconds(20);

}  // namespace

namespace checks_internal {

std::vector<Condition> MustParse(std::initializer_list<std::string> texts) {
  std::vector<Condition> out;
  for (const std::string& t : texts) {
    auto c = Condition::Parse(t);
    if (!c.ok()) {
      std::fprintf(stderr, "bug: bad built-in condition %s: %s\n", t.c_str(), c.error().c_str());
      std::abort();
    }
    out.push_back(std::move(c).value());
  }
  return out;
}

std::string StripTarget(const Probe& probe, const std::string& error) {
  const std::string prefix = probe.Target() + ": ";
  return error.starts_with(prefix) ? error.substr(prefix.size()) : error;
}

}  // namespace checks_internal

std::span<const BundledCheck> BundledChecks() { return kChecks; }

const BundledCheck* FindBundledCheck(std::string_view kind) {
  for (const BundledCheck& c : kChecks) {
    if (c.kind == kind) return &c;
  }
  return nullptr;
}

const BundledCheck* FindBundledCheckForImage(std::string_view image) {
  // Drop a digest, then a tag (a colon after the last slash), then a registry host (a first
  // component with a dot or a colon, or "localhost").
  image = image.substr(0, image.find('@'));
  if (const size_t colon = image.rfind(':');
      colon != std::string_view::npos && image.find('/', colon) == std::string_view::npos) {
    image = image.substr(0, colon);
  }
  if (const size_t slash = image.find('/'); slash != std::string_view::npos) {
    const std::string_view first = image.substr(0, slash);
    if (first.find('.') != std::string_view::npos || first.find(':') != std::string_view::npos ||
        first == "localhost") {
      image = image.substr(slash + 1);
    }
  }
  for (const BundledCheck& c : kChecks) {
    for (std::string_view i : c.images) {
      if (i == image) return &c;
    }
  }
  return nullptr;
}

Result<Duration> CheckBudget(const CheckEnv& env, TimePoint now) {
  auto text = env.Get("KH_CHECK_RUN_DEADLINE");
  if (!text) return kDefaultBudget;
  int64_t seconds = 0;
  auto [end, ec] = std::from_chars(text->data(), text->data() + text->size(), seconds);
  if (ec != std::errc() || end != text->data() + text->size() || seconds <= 0) {
    return Result<Duration>::Error("KH_CHECK_RUN_DEADLINE \"" + *text + "\" is not Unix seconds");
  }
  const Duration left = FromUnixSeconds(seconds) - now;
  if (left <= Duration::zero()) {
    return Result<Duration>::Error("the run's deadline (KH_CHECK_RUN_DEADLINE " + *text +
                                   ") has already passed");
  }
  return left - std::min(kMargin, left / 4);
}

int RunBundledCheck(const BundledCheck& check) {
  const CheckEnv env = CheckEnv::FromProcess();
  CheckOutcome outcome;
  auto budget = CheckBudget(env, SystemClock().Now());
  if (!budget.ok()) {
    outcome = {{budget.error()}, true};
  } else {
    outcome = check.run(env, budget.value());
  }
  const std::string name = "sonde check " + std::string(check.kind);
  for (const std::string& e : outcome.errors) std::cerr << name << ": " << e << "\n";
  const int code = outcome.errors.empty() ? kCheckPassed
                   : outcome.bad_config   ? kCheckBadConfig
                                          : kCheckFailed;
  if (!env.Get("KH_REPORTING_URL")) {
    // Run by hand: the exit code and stderr are the report.
    if (code == kCheckPassed) std::cout << name << ": OK\n";
    return code;
  }
  const kh::Status sent =
      outcome.errors.empty() ? kh::ReportSuccess() : kh::ReportFailure(outcome.errors);
  if (!sent.ok()) {
    std::cerr << name << ": " << sent.message() << "\n";
    return kCheckNotReported;
  }
  return code;
}

}  // namespace sonde
