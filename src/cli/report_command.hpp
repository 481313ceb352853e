// `sonde report --url URL -- COMMAND ARGS...`: wraps a job so that its heartbeat check hears
// of it: /start before, then success, or /fail with the exit code and the tail of its output.
// Failure: reporting problems are printed to stderr and never change the exit code, which is
// always the command's own (127 if it could not start, 128+N if killed by signal N).
#pragma once

#include <cstddef>
#include <string>
#include <vector>

#include "core/time.hpp"

namespace sonde {

struct ReportOptions {
  std::string url;                   // the check's heartbeat URL
  std::vector<std::string> command;  // argv; never empty
  size_t tail_bytes = 2000;          // output kept for the failure report
  // The result report is retried with exponential back-off for at most this long, on any answer
  // but 200 and 400 (Kuberhealthy's client rule). /start is tried once: it must not delay the job.
  Duration retry_for = std::chrono::seconds(30);
};

int ReportCommand(const ReportOptions& options);

// The body the wrapper sends for a command that failed: {"OK":false,"Errors":[...]} naming the
// command and how it ended, then its output tail (if any).
std::string FailureBody(const std::vector<std::string>& command, const std::string& how,
                        const std::string& tail);

}  // namespace sonde
