// Sonde's bundled checks: Kuberhealthy's checker images (http, http-content,
// network-connection, ssl-expiry, ssl-handshake, dns on the probe module; pod-restarts,
// pod-status, namespace-pod-check, resource-quota, daemonset, deployment on the Kubernetes API)
// reimplemented with their environment contracts. `sonde check KIND` runs one; the daemon runs one in local mode
// when a khcheck names a Kuberhealthy image (see FindBundledCheckForImage).
//
// A check reads its configuration from a CheckEnv, runs the same Probe objects as the
// in-process probes (on a private event loop, within the run's budget), judges the
// observations with conditions and returns the errors. RunBundledCheck adds the Kuberhealthy
// part: the budget from KH_CHECK_RUN_DEADLINE and the report to KH_REPORTING_URL.
//
// Thread safety: the table is immutable; checks share no state and may run concurrently.
// Failure: nothing throws; a bad environment is an outcome naming every wrong variable.
#pragma once

#include <map>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "core/time.hpp"

namespace sonde {

// The environment a check reads: the process's, or a fixed map (tests).
class CheckEnv {
 public:
  static CheckEnv FromProcess();
  explicit CheckEnv(std::map<std::string, std::string> vars) : vars_(std::move(vars)) {}
  // The value, or nullopt when unset or empty (Kuberhealthy's checks treat both as unset).
  std::optional<std::string> Get(std::string_view name) const;

 private:
  CheckEnv() = default;
  bool process_ = false;
  std::map<std::string, std::string> vars_;
};

struct CheckOutcome {
  std::vector<std::string> errors;  // empty: the check passed
  bool bad_config = false;          // the errors name environment variables that are wrong
};

struct BundledCheck {
  std::string_view kind;     // "http", "ssl-expiry", ...
  std::string_view summary;  // one line for `sonde check --list`
  // Kuberhealthy image repositories this check replaces, e.g. "kuberhealthy/http-check".
  std::span<const std::string_view> images;
  // Runs the check within `budget`.
  CheckOutcome (*run)(const CheckEnv& env, Duration budget);
};

// Every bundled check, in a fixed order.
std::span<const BundledCheck> BundledChecks();
const BundledCheck* FindBundledCheck(std::string_view kind);
// The check an image stands for: "kuberhealthy/http-check:v1.5.0",
// "docker.io/kuberhealthy/ssl-expiry-check@sha256:..." -> the http / ssl-expiry check.
const BundledCheck* FindBundledCheckForImage(std::string_view image);

// How long a check may run: until KH_CHECK_RUN_DEADLINE less a margin (5 s, as Kuberhealthy's
// checks, or a quarter of what is left when that is shorter), or 20 s (Kuberhealthy's
// default) when it is unset. An error when the variable is malformed or already past.
Result<Duration> CheckBudget(const CheckEnv& env, TimePoint now);

// Exit codes of RunBundledCheck.
enum CheckExit : int {
  kCheckPassed = 0,
  kCheckFailed = 1,      // the check found problems (and they were reported)
  kCheckBadConfig = 2,   // a wrong environment variable (reported as a failure)
  kCheckNotReported = 3  // the report could not be delivered
};

// Runs `check` with the process environment and reports the outcome to KH_REPORTING_URL
// (through the C++ checker client). Without KH_REPORTING_URL the outcome is only printed, so
// that `sonde check KIND` also works from a shell. Logs one line per error to stderr.
int RunBundledCheck(const BundledCheck& check);

}  // namespace sonde
