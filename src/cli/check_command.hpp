// `sonde check KIND`: runs one bundled Kuberhealthy-compatible check (configured by its
// environment variables, reporting to KH_REPORTING_URL when set) and `sonde check --list`.
// Failure: usage errors print to stderr and return 2; otherwise the check's exit code
// (see CheckExit in checks/bundled_check.hpp).
#pragma once

#include <string>

namespace sonde {

int CheckCommand(const std::string& kind, bool list);

}  // namespace sonde
