// The checker's report: the body a checker POSTs to KH_REPORTING_URL, and its validation.
// This module is the one place that knows the Kuberhealthy wire contract.
// All functions are pure and thread-safe.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "core/result.hpp"

namespace sonde {

// Environment variables every checker receives.
inline constexpr const char* kEnvReportingUrl = "KH_REPORTING_URL";
inline constexpr const char* kEnvRunUuid = "KH_RUN_UUID";
inline constexpr const char* kEnvRunDeadline = "KH_CHECK_RUN_DEADLINE";
inline constexpr const char* kEnvPodNamespace = "KH_POD_NAMESPACE";
// Header that names the reporting run (v2 optional, v3 required).
inline constexpr const char* kRunUuidHeader = "kh-run-uuid";
// Query parameter Sonde adds to KH_REPORTING_URL so clients that send no header still
// identify their run (the seed's curl line, the v2 Python and JS clients).
inline constexpr const char* kRunUuidQuery = "kh-run-uuid";
// Report paths: v2 and v3.
inline constexpr const char* kReportPathV2 = "/externalCheckStatus";
inline constexpr const char* kReportPathV3 = "/check";

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
