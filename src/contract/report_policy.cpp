#include "contract/report_policy.hpp"

namespace sonde {
namespace {

const char* EndReason(RunEnd end) {
  switch (end) {
    case RunEnd::kReported:
      return "has already reported";
    case RunEnd::kTimedOut:
      return "timed out before this report arrived";
    case RunEnd::kExited:
      return "ended: its checker exited without reporting";
    case RunEnd::kSuperseded:
      return "is no longer the current run of its check";
    case RunEnd::kRemoved:
      return "belongs to a check that was removed";
    case RunEnd::kInterrupted:
      return "was interrupted by a daemon restart";
    case RunEnd::kProbed:
      return "is an in-process probe's run, which takes no reports";
    case RunEnd::kActive:
      break;
  }
  return "is not current";
}

}  // namespace

ReportVerdict JudgeReport(const RunView* run, const std::string& uuid, TimePoint now) {
  if (run == nullptr) return {400, "run uuid " + uuid + " is invalid or expired"};
  if (run->end != RunEnd::kActive) {
    return {410, "run " + uuid + " of " + run->check + " " + EndReason(run->end)};
  }
  if (now > run->deadline) {
    return {410, "run " + uuid + " of " + run->check + " timed out before this report arrived"};
  }
  return {200, "report accepted for run " + uuid + " of " + run->check};
}

}  // namespace sonde
