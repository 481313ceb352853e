// The names of the checker contract: the environment every checker receives, and how a
// report names its run. Header-only so the runner can use the same names without linking.
#pragma once

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

}  // namespace sonde
