// Shared fixtures for the metrics tests: a sample snapshot, golden-file comparison and running
// promtool. Test-only.
#pragma once

#include <string>
#include <vector>

#include "contract/status_page.hpp"
#include "metrics/exposition.hpp"
#include "metrics/registry.hpp"

namespace sonde::metrics_test {

// The instant the samples are rendered at.
TimePoint SampleNow();

// A passing check with severity/category labels, a failing v3 check with quotes and a newline
// in its errors and a run in flight, a job, and a check that never ran.
StatusSnapshot SampleSnapshot();

// Instruments with a few events of every kind.
SondeMetrics SampleOwnMetrics();

// Uptime for the sample's checks (and one check that is no longer in the snapshot).
UptimeByCheck SampleUptime();

// The sample rendered in `format` with default options.
std::string RenderSample(ExpositionFormat format);

// Compares `got` with src/metrics/testdata/<name>; UPDATE_GOLDEN=1 rewrites the file first.
void ExpectGolden(const std::string& name, const std::string& got);

struct CommandResult {
  int exit_code = -1;  // 127 when the program is missing
  std::string output;  // stdout and stderr
};

// Runs `argv` (through /bin/sh, arguments single-quoted) with `input` on stdin.
CommandResult RunCommand(const std::vector<std::string>& argv, const std::string& input = "");

// The promtool binary found at configure time ("promtool" when it was not found).
std::string Promtool();

// The metric names (sample names, with _bucket/_sum/_count/_total) in an exposition.
std::vector<std::string> SampleNames(const std::string& exposition);

}  // namespace sonde::metrics_test
