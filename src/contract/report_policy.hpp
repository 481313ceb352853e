// Report policy: whether a report for a run may be accepted, and the HTTP answer if not.
// The one place that decides; the HTTP handler and the engine both defer to it.
// Pure and thread-safe.
#pragma once

#include <string>

#include "core/time.hpp"

namespace sonde {

// How a run ended, or that it has not.
enum class RunEnd {
  kActive,      // still allowed to report
  kReported,    // a report was accepted
  kTimedOut,    // the deadline passed without a report
  kExited,      // the checker's processes exited without reporting
  kSuperseded,  // a newer run of the check started (after a restart or removal)
  kRemoved,     // the check was removed
  kInterrupted, // the daemon stopped
  kProbed,      // an in-process probe's run: it takes no reports
};

// What the policy needs to know about the run a report names.
struct RunView {
  std::string check;  // "namespace/name"
  RunEnd end = RunEnd::kActive;
  TimePoint deadline;
};

struct ReportVerdict {
  int http_status = 200;  // 200 accept; 400 unknown run; 410 no longer current
  std::string reason;     // one line, for the response body and logs
};

// `run` is null when no run with `uuid` is known.
ReportVerdict JudgeReport(const RunView* run, const std::string& uuid, TimePoint now);

}  // namespace sonde
