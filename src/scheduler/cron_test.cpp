// Cron parsing and due instants, including both daylight-saving changes in two zones. Time is
// passed in (`after`), so these are pure tests with no sleeping and no system clock.
#include "scheduler/cron.hpp"

#include <gtest/gtest.h>

namespace sonde {
namespace {

TimePoint T(const char* rfc3339) { return ParseRfc3339(rfc3339).value(); }

struct NextCase {
  const char* name;
  const char* expr;
  const char* zone;
  const char* after;
  std::vector<const char*> want;  // successive firing instants (UTC)
};

class CronNext : public ::testing::TestWithParam<NextCase> {};

TEST_P(CronNext, FiresAtTheRightInstants) {
  const NextCase& c = GetParam();
  auto cron = CronSchedule::Parse(c.expr);
  ASSERT_TRUE(cron.ok()) << cron.error();
  auto zone = TimeZone::Load(c.zone);
  ASSERT_TRUE(zone.ok()) << zone.error();
  TimePoint after = T(c.after);
  for (const char* want : c.want) {
    const auto next = cron.value().Next(after, zone.value());
    ASSERT_TRUE(next.has_value());
    EXPECT_EQ(FormatRfc3339Nano(*next), want) << "after " << FormatRfc3339Nano(after);
    after = *next;
  }
}

INSTANTIATE_TEST_SUITE_P(
    Table, CronNext,
    ::testing::Values(
        NextCase{"EveryMinute",
                 "* * * * *",
                 "UTC",
                 "2026-01-01T10:00:30Z",
                 {"2026-01-01T10:01:00Z", "2026-01-01T10:02:00Z"}},
        NextCase{"DailyUtc",
                 "0 3 * * *",
                 "UTC",
                 "2026-01-01T03:00:00Z",
                 {"2026-01-02T03:00:00Z", "2026-01-03T03:00:00Z"}},
        NextCase{"ListsRangesSteps",
                 "15,45 8-12/2 * * *",
                 "UTC",
                 "2026-01-01T08:20:00Z",
                 {"2026-01-01T08:45:00Z", "2026-01-01T10:15:00Z", "2026-01-01T10:45:00Z",
                  "2026-01-01T12:15:00Z", "2026-01-01T12:45:00Z", "2026-01-02T08:15:00Z"}},
        NextCase{"StartSlashStep",
                 "50/5 * * * *",
                 "UTC",
                 "2026-01-01T00:00:00Z",
                 {"2026-01-01T00:50:00Z", "2026-01-01T00:55:00Z", "2026-01-01T01:50:00Z"}},
        NextCase{"Names",
                 "0 12 * jan-MAR Mon",
                 "UTC",
                 "2026-03-28T00:00:00Z",
                 {"2026-03-30T12:00:00Z", "2027-01-04T12:00:00Z"}},
        NextCase{"Sunday7", "0 0 * * 7", "UTC", "2026-01-31T00:00:00Z", {"2026-02-01T00:00:00Z"}},
        NextCase{"DayOfMonthOrWeekday",
                 "0 0 13 * FRI",
                 "UTC",
                 "2026-02-01T00:00:00Z",
                 {"2026-02-06T00:00:00Z", "2026-02-13T00:00:00Z", "2026-02-20T00:00:00Z"}},
        NextCase{"LeapDay", "0 0 29 2 *", "UTC", "2026-01-01T00:00:00Z", {"2028-02-29T00:00:00Z"}},
        NextCase{"MacroHourly", "@hourly", "UTC", "2026-01-01T00:00:00Z", {"2026-01-01T01:00:00Z"}},
        NextCase{"BerlinWinter",
                 "30 2 * * *",
                 "Europe/Berlin",
                 "2026-03-27T12:00:00Z",
                 {"2026-03-28T01:30:00Z"}},
        // Spring forward: 02:30 does not exist on 29 March; it fires at the change (03:00 CEST).
        NextCase{"BerlinSpringForward",
                 "30 2 * * *",
                 "Europe/Berlin",
                 "2026-03-28T12:00:00Z",
                 {"2026-03-29T01:00:00Z", "2026-03-30T00:30:00Z"}},
        NextCase{"BerlinSpringForwardWildcardHour",
                 "*/30 * * * *",
                 "Europe/Berlin",
                 "2026-03-29T00:00:00Z",
                 {"2026-03-29T00:30:00Z", "2026-03-29T01:00:00Z", "2026-03-29T01:30:00Z"}},
        // Fall back: 02:30 happens twice on 25 October; a fixed-hour job fires once, the first.
        NextCase{"BerlinFallBack",
                 "30 2 * * *",
                 "Europe/Berlin",
                 "2026-10-24T12:00:00Z",
                 {"2026-10-25T00:30:00Z", "2026-10-26T01:30:00Z"}},
        // ... and a wildcard-hour job keeps firing every 30 minutes of real time through it.
        NextCase{"BerlinFallBackWildcardHour",
                 "*/30 * * * *",
                 "Europe/Berlin",
                 "2026-10-25T00:00:00Z",
                 {"2026-10-25T00:30:00Z", "2026-10-25T01:00:00Z", "2026-10-25T01:30:00Z",
                  "2026-10-25T02:00:00Z"}},
        NextCase{"NewYorkWeekdaysAcrossSpringForward",
                 "0 9 * * 1-5",
                 "America/New_York",
                 "2026-03-05T13:59:00Z",
                 {"2026-03-05T14:00:00Z", "2026-03-06T14:00:00Z", "2026-03-09T13:00:00Z"}},
        NextCase{"NewYorkSpringForward",
                 "30 2 * * *",
                 "America/New_York",
                 "2026-03-07T12:00:00Z",
                 {"2026-03-08T07:00:00Z", "2026-03-09T06:30:00Z"}},
        NextCase{"NewYorkFallBack",
                 "30 1 * * *",
                 "America/New_York",
                 "2026-10-31T12:00:00Z",
                 {"2026-11-01T05:30:00Z", "2026-11-02T06:30:00Z"}}),
    [](const auto& p) { return std::string(p.param.name); });

struct ErrorCase {
  const char* expr;
  const char* want;
};

TEST(CronParse, ErrorsNameTheField) {
  const ErrorCase cases[] = {
      {"61 * * * *", "minute: 61 is out of range 0-59"},
      {"* 24 * * *", "hour: 24 is out of range 0-23"},
      {"* * 0 * *", "day of month: 0 is out of range 1-31"},
      {"* * * FOO *", "month: \"FOO\" is not a number or a name"},
      {"* * * * 8", "day of week: 8 is out of range 0-7"},
      {"5-3 * * * *", "minute: range 5-3 runs backwards"},
      {"*/0 * * * *", "minute: step \"0\" is not a positive number"},
      {"1,,2 * * * *", "minute: empty item in \"1,,2\""},
      {"* * * *",
       "expected 5 fields (minute hour day-of-month month day-of-week) or a macro such as "
       "@daily, found 4"},
      {"@often",
       "expected 5 fields (minute hour day-of-month month day-of-week) or a macro such as "
       "@daily, found 1"},
      {"0 0 30 2 *", "it never matches a date (e.g. February 30)"},
  };
  for (const ErrorCase& c : cases) {
    auto r = CronSchedule::Parse(c.expr);
    ASSERT_FALSE(r.ok()) << c.expr;
    EXPECT_EQ(r.error(), c.want) << c.expr;
  }
}

TEST(TimeZoneLoad, UnknownZoneIsAnError) {
  auto z = TimeZone::Load("Europe/Berln");
  ASSERT_FALSE(z.ok());
  EXPECT_EQ(z.error(),
            "unknown time zone \"Europe/Berln\" (not in the tz database, e.g. Europe/Berlin or "
            "UTC)");
  EXPECT_TRUE(TimeZone::Load("America/New_York").ok());
}

}  // namespace
}  // namespace sonde
