// Conversions between Sonde's values and SQLite columns, and the retention policy the SQLite
// store's writer and reader share. Pure; thread-safe.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/time.hpp"

namespace sonde {

inline constexpr Duration kHour = std::chrono::hours(1);
inline constexpr Duration kDay = std::chrono::hours(24);

// How long each kind of row is kept (measured back from the store's clock).
struct Retention {
  Duration raw;     // runs
  Duration hourly;  // hourly roll-ups
  Duration daily;   // daily roll-ups and closed downtime events
};

inline int64_t ToNs(TimePoint t) { return t.time_since_epoch().count(); }
inline TimePoint FromNs(int64_t ns) { return TimePoint(Duration(ns)); }
inline std::optional<int64_t> ToNs(std::optional<TimePoint> t) {
  return t ? std::optional<int64_t>(ToNs(*t)) : std::nullopt;
}
inline std::optional<TimePoint> FromNs(std::optional<int64_t> ns) {
  return ns ? std::optional<TimePoint>(FromNs(*ns)) : std::nullopt;
}

// Error lists are stored as JSON arrays of strings.
std::string EncodeErrors(const std::vector<std::string>& errors);
// A value that is not such an array (only a damaged row) reads as one error saying so.
std::vector<std::string> DecodeErrors(std::string_view json);

}  // namespace sonde
