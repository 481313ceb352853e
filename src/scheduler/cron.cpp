#include "scheduler/cron.hpp"

#include <absl/time/civil_time.h>

#include <array>
#include <cctype>
#include <charconv>
#include <cstdint>
#include <vector>

namespace sonde {
namespace {

constexpr const char* kMonthNames[] = {"jan", "feb", "mar", "apr", "may", "jun",
                                       "jul", "aug", "sep", "oct", "nov", "dec"};
constexpr const char* kWeekdayNames[] = {"sun", "mon", "tue", "wed", "thu", "fri", "sat"};

struct Field {
  const char* name;
  int min;
  int max;
  const char* const* names;  // nullptr, or the names of min..min+count-1
  int name_count;
};

constexpr Field kFields[] = {
    {"minute", 0, 59, nullptr, 0},           {"hour", 0, 23, nullptr, 0},
    {"day of month", 1, 31, nullptr, 0},     {"month", 1, 12, kMonthNames, 12},
    {"day of week", 0, 7, kWeekdayNames, 7},  // 7 is Sunday too
};

// How far a local time can jump back at a change of UTC offset (fall-back), with room to spare.
constexpr int kMaxJumpMinutes = 180;
constexpr int kSearchYears = 8;  // covers the gap between two leap days (2096 -> 2104)

using FieldBits = uint64_t;

Result<int> ParseValue(std::string_view text, const Field& f) {
  int v = 0;
  const auto [p, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
  if (ec == std::errc() && p == text.data() + text.size()) {
    if (v < f.min || v > f.max) {
      return Result<int>::Error(std::string(f.name) + ": " + std::string(text) +
                                " is out of range " + std::to_string(f.min) + "-" +
                                std::to_string(f.max));
    }
    return v;
  }
  for (int i = 0; i < f.name_count; ++i) {
    std::string lower(text);
    for (char& c : lower) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    if (lower == f.names[i]) return f.min + i;
  }
  return Result<int>::Error(std::string(f.name) + ": \"" + std::string(text) +
                            "\" is not a number" + (f.names ? " or a name" : ""));
}

Result<FieldBits> ParseField(std::string_view text, const Field& f) {
  FieldBits bits = 0;
  size_t start = 0;
  for (;;) {
    const size_t comma = text.find(',', start);
    std::string_view item = text.substr(start, comma - start);
    if (item.empty()) {
      return Result<FieldBits>::Error(std::string(f.name) + ": empty item in \"" +
                                      std::string(text) + "\"");
    }
    int step = 1;
    bool stepped = false;
    if (const size_t slash = item.find('/'); slash != std::string_view::npos) {
      const std::string_view s = item.substr(slash + 1);
      const auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), step);
      if (ec != std::errc() || p != s.data() + s.size() || step < 1) {
        return Result<FieldBits>::Error(std::string(f.name) + ": step \"" + std::string(s) +
                                        "\" is not a positive number");
      }
      item = item.substr(0, slash);
      stepped = true;
    }
    int lo = f.min;
    int hi = f.max;
    if (item != "*") {
      const size_t dash = item.find('-');
      auto a = ParseValue(item.substr(0, dash), f);
      if (!a.ok()) return Result<FieldBits>::Error(a.error());
      lo = a.value();
      hi = stepped && dash == std::string_view::npos ? f.max : lo;  // N/S: N to the end
      if (dash != std::string_view::npos) {
        auto b = ParseValue(item.substr(dash + 1), f);
        if (!b.ok()) return Result<FieldBits>::Error(b.error());
        hi = b.value();
        if (hi < lo) {
          return Result<FieldBits>::Error(std::string(f.name) + ": range " + std::string(item) +
                                          " runs backwards");
        }
      }
    }
    for (int v = lo; v <= hi; v += step) bits |= FieldBits{1} << v;
    if (comma == std::string_view::npos) break;
    start = comma + 1;
  }
  return bits;
}

std::string_view Macro(std::string_view text) {
  static constexpr std::array<std::pair<std::string_view, std::string_view>, 7> kMacros = {{
      {"@yearly", "0 0 1 1 *"},
      {"@annually", "0 0 1 1 *"},
      {"@monthly", "0 0 1 * *"},
      {"@weekly", "0 0 * * 0"},
      {"@daily", "0 0 * * *"},
      {"@midnight", "0 0 * * *"},
      {"@hourly", "0 * * * *"},
  }};
  for (const auto& [name, expansion] : kMacros) {
    if (text == name) return expansion;
  }
  return {};
}

std::vector<std::string_view> SplitBlanks(std::string_view text) {
  std::vector<std::string_view> out;
  size_t i = 0;
  while (i < text.size()) {
    while (i < text.size() && (text[i] == ' ' || text[i] == '\t')) ++i;
    const size_t start = i;
    while (i < text.size() && text[i] != ' ' && text[i] != '\t') ++i;
    if (i > start) out.push_back(text.substr(start, i - start));
  }
  return out;
}

int SundayBased(absl::Weekday wd) {
  // absl numbers Monday 0 .. Sunday 6; cron numbers Sunday 0 .. Saturday 6.
  return (static_cast<int>(wd) + 1) % 7;
}

}  // namespace

Result<TimeZone> TimeZone::Load(const std::string& name) {
  absl::TimeZone zone;
  if (name.empty() || !absl::LoadTimeZone(name, &zone)) {
    return Result<TimeZone>::Error("unknown time zone \"" + name +
                                   "\" (not in the tz database, e.g. Europe/Berlin or UTC)");
  }
  return TimeZone(name, zone);
}

TimeZone TimeZone::Utc() { return TimeZone("UTC", absl::UTCTimeZone()); }

Result<CronSchedule> CronSchedule::Parse(std::string_view text) {
  using R = Result<CronSchedule>;
  if (std::string_view macro = Macro(text); !macro.empty()) return Parse(macro);
  const std::vector<std::string_view> fields = SplitBlanks(text);
  if (fields.size() != 5) {
    return R::Error(
        "expected 5 fields (minute hour day-of-month month day-of-week) or a macro "
        "such as @daily, found " +
        std::to_string(fields.size()));
  }
  FieldBits bits[5];
  for (int i = 0; i < 5; ++i) {
    auto b = ParseField(fields[i], kFields[i]);
    if (!b.ok()) return R::Error(b.error());
    bits[i] = b.value();
  }
  CronSchedule c;
  c.minutes_ = std::bitset<60>(bits[0]);
  c.hours_ = std::bitset<24>(bits[1]);
  c.days_ = std::bitset<32>(bits[2]);
  c.months_ = std::bitset<13>(bits[3]);
  c.weekdays_ = std::bitset<7>(bits[4] & 0x7f);
  if (bits[4] & (FieldBits{1} << 7)) c.weekdays_.set(0);
  // As cron has it: a field starting with `*` (also `*/2`) does not restrict the day.
  c.days_restricted_ = fields[2].front() != '*';
  c.weekdays_restricted_ = fields[4].front() != '*';
  c.every_hour_ = fields[1] == "*";
  const absl::CivilMinute probe(2000, 1, 1);
  if (!c.NextMatch(probe, probe + 60 * 24 * (366 * kSearchYears))) {
    return R::Error("it never matches a date (e.g. February 30)");
  }
  return c;
}

bool CronSchedule::DayMatches(const absl::CivilDay& day) const {
  const bool dom = days_[day.day()];
  const bool dow = weekdays_[SundayBased(absl::GetWeekday(day))];
  if (days_restricted_ && weekdays_restricted_) return dom || dow;
  return dom && dow;
}

std::optional<absl::CivilMinute> CronSchedule::NextMatch(absl::CivilMinute c,
                                                         absl::CivilMinute limit) const {
  while (c <= limit) {
    if (!months_[c.month()]) {
      c = absl::CivilMinute(absl::CivilMonth(c) + 1);
    } else if (const absl::CivilDay day(c); !DayMatches(day)) {
      c = absl::CivilMinute(day + 1);
    } else if (!hours_[c.hour()]) {
      c = absl::CivilMinute(absl::CivilHour(c) + 1);
    } else if (!minutes_[c.minute()]) {
      c += 1;
    } else {
      return c;
    }
  }
  return std::nullopt;
}

std::optional<TimePoint> CronSchedule::Next(TimePoint after, const TimeZone& tz) const {
  const absl::TimeZone& zone = tz.zone();
  const absl::Time a = absl::FromUnixNanos(after.time_since_epoch().count());
  const absl::CivilMinute here(zone.At(a).cs);
  // Start a little in the past: after a fall-back, later local times map to earlier instants.
  absl::CivilMinute from = here - kMaxJumpMinutes;
  const absl::CivilMinute limit = here + 60 * 24 * (366 * kSearchYears);
  std::optional<absl::Time> best;
  while (auto m = NextMatch(from, limit)) {
    if (best && *m > absl::CivilMinute(zone.At(*best).cs) + kMaxJumpMinutes) break;
    const absl::TimeZone::TimeInfo info = zone.At(absl::CivilSecond(*m));
    absl::Time candidates[2] = {info.pre, absl::InfiniteFuture()};
    if (info.kind == absl::TimeZone::TimeInfo::SKIPPED) candidates[0] = info.trans;
    if (info.kind == absl::TimeZone::TimeInfo::REPEATED && every_hour_) candidates[1] = info.post;
    for (const absl::Time t : candidates) {
      if (t > a && t != absl::InfiniteFuture() && (!best || t < *best)) best = t;
    }
    from = *m + 1;
  }
  if (!best) return std::nullopt;
  return TimePoint(Duration(absl::ToUnixNanos(*best)));
}

}  // namespace sonde
