// Durations and instants, with Go's text forms (the Kuberhealthy wire format uses them).
// All functions are pure and thread-safe.
#pragma once

#include <chrono>
#include <cstdint>
#include <string>
#include <string_view>

#include "core/result.hpp"

namespace sonde {

using Duration = std::chrono::nanoseconds;
// Wall-clock instant with nanosecond precision. Unix epoch based.
using TimePoint = std::chrono::time_point<std::chrono::system_clock, std::chrono::nanoseconds>;

// Parses Go's time.ParseDuration syntax: "6h", "1h30m", "1.5s", "300ms", "-2m", "0".
// Units: ns, us (µs, μs), ms, s, m, h. Error messages quote the input, as Go does.
Result<Duration> ParseGoDuration(std::string_view text);

// Formats exactly like Go's time.Duration.String(): "1m8.486351014s", "350ms", "0s", "1h0m0s".
std::string FormatGoDuration(Duration d);

// RFC 3339 in UTC with trailing-zero-trimmed nanoseconds, like Go's time.RFC3339Nano:
// "2021-03-01T06:08:09.35793049Z", "2021-03-01T06:08:09Z".
std::string FormatRfc3339Nano(TimePoint t);

// Parses RFC 3339 ("2021-03-01T06:08:09.35793049Z", "...+02:00"); the error quotes the input.
Result<TimePoint> ParseRfc3339(std::string_view text);

// Whole seconds since the Unix epoch (floor).
int64_t UnixSeconds(TimePoint t);
TimePoint FromUnixSeconds(int64_t s);

}  // namespace sonde
