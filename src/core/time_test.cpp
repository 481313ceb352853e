#include "core/time.hpp"

#include <gtest/gtest.h>

namespace sonde {
namespace {

using std::chrono::hours;
using std::chrono::microseconds;
using std::chrono::milliseconds;
using std::chrono::minutes;
using std::chrono::nanoseconds;
using std::chrono::seconds;

// Cases from Go's time/time_test.go (parseDurationTests, durationTests).
struct ParseCase {
  const char* in;
  Duration want;
};
const ParseCase kParseOk[] = {
    {"0", Duration{0}},
    {"5s", seconds(5)},
    {"30s", seconds(30)},
    {"1478s", seconds(1478)},
    {"-5s", -seconds(5)},
    {"+5s", seconds(5)},
    {"-0", Duration{0}},
    {"5.0s", seconds(5)},
    {"5.6s", seconds(5) + milliseconds(600)},
    {"5.s", seconds(5)},
    {".5s", milliseconds(500)},
    {"1.004s", seconds(1) + milliseconds(4)},
    {"100.00100s", seconds(100) + milliseconds(1)},
    {"10ns", nanoseconds(10)},
    {"11us", microseconds(11)},
    {"12\xC2\xB5s", microseconds(12)},
    {"12\xCE\xBCs", microseconds(12)},
    {"13ms", milliseconds(13)},
    {"300ms", milliseconds(300)},
    {"14s", seconds(14)},
    {"15m", minutes(15)},
    {"6h", hours(6)},
    {"1h30m", hours(1) + minutes(30)},
    {"3h30m", hours(3) + minutes(30)},
    {"10.5s4m", minutes(4) + seconds(10) + milliseconds(500)},
    {"-2m3.4s", -(minutes(2) + seconds(3) + milliseconds(400))},
    {"1h2m3s4ms5us6ns",
     hours(1) + minutes(2) + seconds(3) + milliseconds(4) + microseconds(5) + nanoseconds(6)},
    {"39h9m14.425s", hours(39) + minutes(9) + seconds(14) + milliseconds(425)},
    {"52763797000ns", nanoseconds(52763797000)},
    {"0.3333333333333333333h", minutes(20)},
    {"9007199254740993ns", nanoseconds(9007199254740993)},
    {"9223372036854775807ns", nanoseconds(9223372036854775807)},
    {"-9223372036854775808ns", nanoseconds(INT64_MIN)},
};

TEST(ParseGoDuration, AcceptsGoSyntax) {
  for (const auto& c : kParseOk) {
    auto r = ParseGoDuration(c.in);
    ASSERT_TRUE(r.ok()) << c.in << ": " << r.error();
    EXPECT_EQ(r.value().count(), c.want.count()) << c.in;
  }
}

struct BadCase {
  const char* in;
  const char* message;
};
const BadCase kParseBad[] = {
    {"", "invalid duration \"\": it is empty (write e.g. 30s, 5m, 1h30m)"},
    {"3", "invalid duration \"3\": missing unit (use ns, us, ms, s, m or h)"},
    {"-", "invalid duration \"-\": it is empty (write e.g. 30s, 5m, 1h30m)"},
    {"s", "invalid duration \"s\": expected a number"},
    {".", "invalid duration \".\": expected a number"},
    {"-.", "invalid duration \"-.\": expected a number"},
    {".s", "invalid duration \".s\": expected a number"},
    {"+.s", "invalid duration \"+.s\": expected a number"},
    {"6x", "invalid duration \"6x\": unknown unit \"x\" (use ns, us, ms, s, m or h)"},
    {"1d", "invalid duration \"1d\": unknown unit \"d\" (use ns, us, ms, s, m or h)"},
    {"9223372036854775810ns", "invalid duration \"9223372036854775810ns\": value out of range"},
    {"9223372036854775808ns", "invalid duration \"9223372036854775808ns\": value out of range"},
    {"3000000h", "invalid duration \"3000000h\": value out of range"},
};

TEST(ParseGoDuration, RejectsWithReason) {
  for (const auto& c : kParseBad) {
    auto r = ParseGoDuration(c.in);
    ASSERT_FALSE(r.ok()) << c.in;
    EXPECT_EQ(r.error(), c.message) << c.in;
  }
}

struct FormatCase {
  Duration in;
  const char* want;
};
const FormatCase kFormat[] = {
    {Duration{0}, "0s"},
    {nanoseconds(1), "1ns"},
    {nanoseconds(1100), "1.1\xC2\xB5s"},
    {microseconds(2200), "2.2ms"},
    {milliseconds(350), "350ms"},
    {milliseconds(3300), "3.3s"},
    {minutes(4) + seconds(5), "4m5s"},
    {minutes(4) + milliseconds(5001), "4m5.001s"},
    {hours(5) + minutes(6) + milliseconds(7001), "5h6m7.001s"},
    {minutes(8) + nanoseconds(1), "8m0.000000001s"},
    {hours(1), "1h0m0s"},
    {minutes(5), "5m0s"},
    {nanoseconds(68486351014), "1m8.486351014s"},
    {nanoseconds(3359431829), "3.359431829s"},
    {nanoseconds(INT64_MAX), "2562047h47m16.854775807s"},
    {nanoseconds(INT64_MIN), "-2562047h47m16.854775808s"},
    {-milliseconds(350), "-350ms"},
};

TEST(FormatGoDuration, MatchesGo) {
  for (const auto& c : kFormat) EXPECT_EQ(FormatGoDuration(c.in), c.want);
}

TEST(FormatGoDuration, RoundTripsThroughParse) {
  for (const auto& c : kFormat) {
    auto r = ParseGoDuration(FormatGoDuration(c.in));
    ASSERT_TRUE(r.ok()) << c.want;
    EXPECT_EQ(r.value(), c.in);
  }
}

TEST(FormatRfc3339Nano, TrimsTrailingZerosLikeGo) {
  const TimePoint base = FromUnixSeconds(1614578889);  // 2021-03-01T06:08:09Z
  EXPECT_EQ(FormatRfc3339Nano(base), "2021-03-01T06:08:09Z");
  EXPECT_EQ(FormatRfc3339Nano(base + nanoseconds(357930490)), "2021-03-01T06:08:09.35793049Z");
  EXPECT_EQ(FormatRfc3339Nano(base + nanoseconds(1)), "2021-03-01T06:08:09.000000001Z");
  EXPECT_EQ(FormatRfc3339Nano(FromUnixSeconds(0)), "1970-01-01T00:00:00Z");
}

TEST(ParseRfc3339, RoundTripsAndHonoursOffsets) {
  const TimePoint t = FromUnixSeconds(1614578889) + nanoseconds(357930490);
  auto r = ParseRfc3339(FormatRfc3339Nano(t));
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r.value(), t);
  r = ParseRfc3339("2021-03-01T08:08:09+02:00");
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(UnixSeconds(r.value()), 1614578889);
  EXPECT_EQ(UnixSeconds(ParseRfc3339("1970-01-01T00:00:00Z").value()), 0);
  EXPECT_EQ(UnixSeconds(ParseRfc3339("2024-02-29T00:00:00Z").value()), 1709164800);
  for (const char* bad : {"", "2021-03-01", "2021-03-01T06:08:09", "2021-13-01T00:00:00Z",
                          "2021-03-01T06:08:09.Z", "2021-03-01T06:08:09Zjunk", "yesterday"}) {
    auto b = ParseRfc3339(bad);
    ASSERT_FALSE(b.ok()) << bad;
    EXPECT_EQ(b.error().rfind("invalid time \"", 0), 0u) << b.error();
  }
}

TEST(UnixSeconds, FloorsTowardsNegativeInfinity) {
  EXPECT_EQ(UnixSeconds(FromUnixSeconds(42) + milliseconds(999)), 42);
  EXPECT_EQ(UnixSeconds(FromUnixSeconds(0) - milliseconds(1)), -1);
}

}  // namespace
}  // namespace sonde
