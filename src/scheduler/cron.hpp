// Cron schedules for heartbeat checks: the classic five fields (minute hour day-of-month month
// day-of-week) with ranges, steps, lists and names, evaluated in an IANA time zone from the
// system's tz database (through Abseil's time zone library; see docs/dependencies.md).
//
// Daylight-saving rules, as Debian's cron does them: a time that a spring-forward change skips
// fires at the change itself (02:30 on a skipped night fires at 03:00); a time that a fall-back
// change repeats fires once, at its first occurrence, unless the hour field is `*` (then every
// matching minute of both passes fires, so `*/15 * * * *` stays every 15 minutes of real time).
//
// Pure and thread-safe: values only; the zone is loaded once and never changes.
#pragma once

#include <absl/time/time.h>

#include <bitset>
#include <optional>
#include <string>
#include <string_view>

#include "core/result.hpp"
#include "core/time.hpp"

namespace sonde {

// An IANA time zone ("Europe/Berlin", "UTC"). Loading reads /usr/share/zoneinfo (or $TZDIR).
class TimeZone {
 public:
  // Errors name the zone: `unknown time zone "Europe/Berln" (not in the tz database)`.
  static Result<TimeZone> Load(const std::string& name);
  static TimeZone Utc();
  const std::string& name() const { return name_; }
  const absl::TimeZone& zone() const { return zone_; }

 private:
  TimeZone(std::string name, absl::TimeZone zone) : name_(std::move(name)), zone_(zone) {}
  std::string name_;
  absl::TimeZone zone_;
};

class CronSchedule {
 public:
  // Five fields separated by blanks, or a macro (@hourly, @daily/@midnight, @weekly,
  // @monthly, @yearly/@annually). Per field: `*`, N, N-M, `*/S`, N-M/S, N/S (N to the end), and
  // comma lists of these. Months JAN-DEC and weekdays SUN-SAT by name (any case); weekday 7 is
  // Sunday. When both day-of-month and day-of-week are restricted, a day matching either one
  // matches (cron's rule). Errors name the field: `hour: 24 is out of range 0-23`. An expression
  // that never matches (`0 0 30 2 *`) is an error too.
  static Result<CronSchedule> Parse(std::string_view text);

  // The first firing instant strictly after `after`, in `zone`; none if there is none within
  // eight years.
  std::optional<TimePoint> Next(TimePoint after, const TimeZone& zone) const;

  bool operator==(const CronSchedule&) const = default;

 private:
  bool DayMatches(const absl::CivilDay& day) const;
  // The first civil minute at or after `from` whose fields match; none past `limit`.
  std::optional<absl::CivilMinute> NextMatch(absl::CivilMinute from, absl::CivilMinute limit) const;

  std::bitset<60> minutes_;
  std::bitset<24> hours_;
  std::bitset<32> days_;     // 1..31
  std::bitset<13> months_;   // 1..12
  std::bitset<7> weekdays_;  // 0 = Sunday
  bool days_restricted_ = false;
  bool weekdays_restricted_ = false;
  bool every_hour_ = false;  // hour field is `*`: repeated local times fire in both passes
};

}  // namespace sonde
