// The checker's report: the body a checker POSTs to KH_REPORTING_URL, and its validation.
// This module is the one place that knows the Kuberhealthy wire contract.
// All functions are pure and thread-safe.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "contract/checker_env.hpp"
#include "core/result.hpp"

namespace sonde {

struct Report {
  bool ok = false;
  std::vector<std::string> errors;
};

// Parses and validates a report body: a JSON object with "OK"/"ok" (bool) and
// "Errors"/"errors" (array of strings or null), keys matched case-insensitively as Go does;
// other keys are ignored. Rejected, with a one-line reason: malformed JSON, a missing OK,
// OK:false with no errors or with an empty error string, OK:true with errors.
Result<Report> ParseReport(std::string_view body);

}  // namespace sonde
