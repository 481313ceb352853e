// The http check (kuberhealthy/http-check): COUNT requests of REQUEST_TYPE to CHECK_URL, one
// every SECONDS, passing when at least PASSING_PERCENT of them answered EXPECTED_STATUS_CODE.
//
// Kuberhealthy's defaults and rules: COUNT 0, SECONDS 0, PASSING_PERCENT 100 (0 means 100),
// REQUEST_TYPE GET (also POST, PUT, DELETE, PATCH), REQUEST_BODY "{}" (not sent with GET),
// EXPECTED_STATUS_CODE 200 (0 means 200); redirects are followed; the number that must pass
// is floor(PASSING_PERCENT% of COUNT). One deliberate difference: Kuberhealthy sends no
// request at all when COUNT is 0 (its default) and always passes; Sonde sends one.
#include <thread>

#include "checks/check_kinds.hpp"
#include "checks/env_reader.hpp"
#include "core/clock.hpp"
#include "probe/http_probe.hpp"

namespace sonde::checks_internal {

CheckOutcome RunHttpCheck(const CheckEnv& env, Duration budget) {
  EnvReader in(env);
  const std::string url = in.Required("CHECK_URL", "https://example.com/health");
  int64_t count = in.Int("COUNT", 0, 0, 100'000);
  const int64_t seconds = in.Int("SECONDS", 0, 0, 86'400);
  int64_t percent = in.Int("PASSING_PERCENT", 100, 0, 100);
  const std::string method =
      in.OneOf("REQUEST_TYPE", "GET", {"GET", "POST", "PUT", "DELETE", "PATCH"});
  const std::string body = in.String("REQUEST_BODY", "{}");
  int64_t expected = in.Int("EXPECTED_STATUS_CODE", 200, 0, 999);
  if (!url.empty() && !url.starts_with("http://") && !url.starts_with("https://")) {
    in.Problem("CHECK_URL \"" + url + "\" must be an http:// or https:// URL");
  }
  if (!in.ok()) return in.Outcome();
  if (count == 0) count = 1;
  if (percent == 0) percent = 100;
  if (expected == 0) expected = 200;

  auto probe = MakeHttpProbe({.url = url, .method = method, .body = method == "GET" ? "" : body});
  if (!probe.ok()) return {{"CHECK_URL: " + probe.error()}, true};
  const std::vector<Condition> conditions = MustParse({"[STATUS] == " + std::to_string(expected)});

  // The number that must pass, as Kuberhealthy computes it: int(percent / 100 * count).
  const int64_t must_pass = percent * count / 100;
  const auto start = std::chrono::steady_clock::now();
  const auto end = start + std::chrono::duration_cast<std::chrono::steady_clock::duration>(budget);
  int64_t ran = 0, passed = 0;
  std::vector<std::string> failures;
  for (; ran < count; ++ran) {
    // Request i starts SECONDS * i after the first, as Kuberhealthy's ticker has it.
    const auto due = start + std::chrono::seconds(seconds * ran);
    if (due >= end) break;
    std::this_thread::sleep_until(due);
    const Duration left = end - std::chrono::steady_clock::now();
    const Observation o = RunProbeBlocking(*probe.value(), left);
    const std::vector<std::string> errors = EvaluateConditions(conditions, o, SystemClock().Now());
    if (errors.empty()) {
      ++passed;
    } else {
      // "[STATUS] == 200: got 503" reads better without the condition for this check.
      const std::string& e = errors.front();
      const std::string prefix = conditions.front().text() + ": ";
      failures.push_back(e.starts_with(prefix) ? e.substr(prefix.size()) : e);
    }
  }
  if (passed >= must_pass) return {};
  std::string message =
      "unable to retrieve a valid response (expected status: " + std::to_string(expected) +
      ") from " + method + " " + url + ": " + std::to_string(ran - passed) + " of " +
      std::to_string(ran) + " requests failed, " + std::to_string(must_pass) + " of " +
      std::to_string(count) + " had to pass (PASSING_PERCENT " + std::to_string(percent) + ")";
  if (ran < count) {
    message += "; the run's deadline left no time for the other " + std::to_string(count - ran);
  }
  std::vector<std::string> out = {message};
  for (std::string& f : CountRepeats(failures)) out.push_back(std::move(f));
  return {out};
}

}  // namespace sonde::checks_internal
