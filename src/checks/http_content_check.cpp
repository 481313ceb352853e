// The http-content check (kuberhealthy/http-content-check): GET TARGET_URL (following
// redirects) within TIMEOUT_DURATION and require TARGET_STRING in the body, whatever the
// status. Kuberhealthy requires all three variables; Sonde lets TIMEOUT_DURATION default to
// the run's budget.
#include "checks/check_kinds.hpp"
#include "checks/env_reader.hpp"
#include "core/clock.hpp"
#include "probe/http_probe.hpp"

namespace sonde::checks_internal {

namespace {
// Pages can be large; the body is only searched, so allow more than the probe's 1 MiB.
constexpr size_t kMaxBody = 16 * 1024 * 1024;
}  // namespace

CheckOutcome RunHttpContentCheck(const CheckEnv& env, Duration budget) {
  EnvReader in(env);
  const std::string url = in.Required("TARGET_URL", "https://example.com/");
  const std::string needle = in.Required("TARGET_STRING", "Example Domain");
  const Duration timeout = std::min(in.PositiveDuration("TIMEOUT_DURATION", budget), budget);
  if (!in.ok()) return in.Outcome();
  auto probe = MakeHttpProbe({.url = url, .max_body_bytes = kMaxBody});
  if (!probe.ok()) return {{"TARGET_URL: " + probe.error()}, true};

  const Observation o = RunProbeBlocking(*probe.value(), timeout);
  // No conditions: only a transport failure is an error here; the body is searched below,
  // literally (a condition's pat() would treat * and ? in TARGET_STRING as wildcards).
  std::vector<std::string> errors = EvaluateConditions({}, o, SystemClock().Now());
  if (!errors.empty()) return {{"failed to fetch " + url + ": " + errors.front()}};
  if (o.body.find(needle) == std::string::npos) {
    return {{"could not find \"" + needle + "\" in the " + std::to_string(o.body.size()) +
             "-byte body of GET " + url + " (status " + std::to_string(o.status) + ")"}};
  }
  return {};
}

}  // namespace sonde::checks_internal
