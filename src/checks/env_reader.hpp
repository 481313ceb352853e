// Internal to the checks module: typed reads of a check's environment variables that collect
// every problem, each naming its variable, e.g. `COUNT "five" is not a whole number`, so a
// misconfigured check reports all its mistakes in one run.
// Thread safety: none; one reader per check run.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "checks/bundled_check.hpp"
#include "core/time.hpp"

namespace sonde::checks_internal {

class EnvReader {
 public:
  explicit EnvReader(const CheckEnv& env) : env_(env) {}

  // The value; a problem "NAME is not set (e.g. EXAMPLE)" when unset.
  std::string Required(std::string_view name, std::string_view example);
  std::string String(std::string_view name, std::string_view fallback) const;
  // A decimal integer in [min, max].
  int64_t Int(std::string_view name, int64_t fallback, int64_t min, int64_t max);
  // Go's strconv.ParseBool: 1 t T TRUE true True 0 f F FALSE false False.
  bool Bool(std::string_view name, bool fallback);
  // A Go duration greater than zero.
  Duration PositiveDuration(std::string_view name, Duration fallback);
  // One of `allowed` (exactly as written).
  std::string OneOf(std::string_view name, std::string_view fallback,
                    std::initializer_list<std::string_view> allowed);

  void Problem(std::string message) { problems_.push_back(std::move(message)); }
  bool ok() const { return problems_.empty(); }
  // The problems as a bad-config outcome.
  CheckOutcome Outcome() const { return {problems_, true}; }

 private:
  const CheckEnv& env_;
  std::vector<std::string> problems_;
};

// Errors that repeat (e.g. the same status from many requests) as one line each with a count:
// "got 503 (2 times)".
std::vector<std::string> CountRepeats(const std::vector<std::string>& errors);

// "3.0 days (2026-11-29T15:39:11Z)" / "2490.6 days ago (...)": time to or since `not_after`.
std::string DaysLeftText(TimePoint not_after, TimePoint now);

}  // namespace sonde::checks_internal
