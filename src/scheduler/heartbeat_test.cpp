// Heartbeat due times (interval and cron, driven by a ManualClock across a DST change) and the
// per-check rate limiter.
#include "scheduler/heartbeat.hpp"

#include <gtest/gtest.h>

#include "core/clock.hpp"

namespace sonde {
namespace {

using std::chrono::minutes;
using std::chrono::seconds;

TimePoint T(const char* rfc3339) { return ParseRfc3339(rfc3339).value(); }

CheckSpec Heartbeat(Duration interval, std::string schedule = "", std::string zone = "") {
  CheckSpec s;
  s.run_interval = interval;
  s.heartbeat = HeartbeatSpec{minutes(5), std::move(schedule), std::move(zone), 60, seconds(1)};
  return s;
}

TEST(HeartbeatSchedule, IntervalCountsFromTheLastReport) {
  auto hb = HeartbeatSchedule::For(Heartbeat(minutes(10)));
  ASSERT_TRUE(hb.ok());
  EXPECT_EQ(hb.value().NextDue(T("2026-01-01T00:03:00Z")), T("2026-01-01T00:13:00Z"));
  EXPECT_EQ(hb.value().grace(), minutes(5));
}

// A nightly job at 02:30 Berlin time, followed with a clock that moves the way the daemon's
// does: each due instant is computed from the report that came just after the previous one.
TEST(HeartbeatSchedule, CronDueInstantsFollowBerlinDst) {
  auto hb = HeartbeatSchedule::For(Heartbeat(minutes(10), "30 2 * * *", "Europe/Berlin"));
  ASSERT_TRUE(hb.ok()) << hb.error();
  ManualClock clock(T("2026-03-27T12:00:00Z"));
  std::vector<std::string> due;
  for (int i = 0; i < 4; ++i) {
    const TimePoint next = hb.value().NextDue(clock.Now());
    due.push_back(FormatRfc3339Nano(next));
    clock.Set(next + minutes(2));  // the job reports two minutes after it was due
  }
  EXPECT_EQ(due, (std::vector<std::string>{"2026-03-28T01:30:00Z", "2026-03-29T01:00:00Z",
                                           "2026-03-30T00:30:00Z", "2026-03-31T00:30:00Z"}));
}

TEST(HeartbeatSchedule, BadScheduleOrZoneIsAnError) {
  EXPECT_EQ(HeartbeatSchedule::For(Heartbeat(minutes(1), "0 25 * * *")).error(),
            "schedule: hour: 25 is out of range 0-23");
  EXPECT_FALSE(HeartbeatSchedule::For(Heartbeat(minutes(1), "0 1 * * *", "Mars/Base")).ok());
}

TEST(RateLimiter, BurstThenSteadyRate) {
  ManualClock clock(T("2026-01-01T00:00:00Z"));
  RateLimiter limiter(3);  // 3 a minute: a burst of 3, then one every 20s
  EXPECT_TRUE(limiter.Allow(clock.Now()));
  EXPECT_TRUE(limiter.Allow(clock.Now()));
  EXPECT_TRUE(limiter.Allow(clock.Now()));
  EXPECT_FALSE(limiter.Allow(clock.Now()));
  EXPECT_EQ(limiter.RetryAfter(clock.Now()), seconds(20));
  clock.Advance(seconds(10));
  EXPECT_FALSE(limiter.Allow(clock.Now()));
  EXPECT_EQ(limiter.RetryAfter(clock.Now()), seconds(10));
  clock.Advance(seconds(10));
  EXPECT_TRUE(limiter.Allow(clock.Now()));
  EXPECT_FALSE(limiter.Allow(clock.Now()));
  clock.Advance(minutes(10));  // refills to the burst size, no more
  for (int i = 0; i < 3; ++i) EXPECT_TRUE(limiter.Allow(clock.Now()));
  EXPECT_FALSE(limiter.Allow(clock.Now()));
}

TEST(RateLimiter, ClockSteppingBackDoesNotRefill) {
  ManualClock clock(T("2026-01-01T00:00:00Z"));
  RateLimiter limiter(1);
  EXPECT_TRUE(limiter.Allow(clock.Now()));
  clock.Advance(-minutes(5));
  EXPECT_FALSE(limiter.Allow(clock.Now()));
}

}  // namespace
}  // namespace sonde
