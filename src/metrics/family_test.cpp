#include "metrics/family.hpp"

#include <gtest/gtest.h>

namespace sonde {
namespace {

std::string Escaped(std::string_view v) {
  std::string out;
  AppendEscapedLabelValue(out, v);
  return out;
}

TEST(AppendEscapedLabelValue, EscapesWhatTheFormatsRequire) {
  struct Case {
    std::string in, want;
  };
  const Case cases[] = {
      {"plain", "plain"},
      {"a\"b", "a\\\"b"},
      {"back\\slash", "back\\\\slash"},
      {"line1\nline2", "line1\\nline2"},
      {"\\n literal", "\\\\n literal"},
      {"tab\tand\rcr", "tab\tand\rcr"},
      {"caf\xC3\xA9 \xE2\x9C\x93", "caf\xC3\xA9 \xE2\x9C\x93"},
      {std::string("nul\0byte", 8), std::string("nul\0byte", 8)},
  };
  for (const Case& c : cases) EXPECT_EQ(Escaped(c.in), c.want) << c.in;
}

TEST(ToValidUtf8, ReplacesEachInvalidByte) {
  struct Case {
    std::string in, want;
  };
  const std::string r = "\xEF\xBF\xBD";
  const Case cases[] = {
      {"ok \xF0\x9F\x98\x80", "ok \xF0\x9F\x98\x80"},  // 4-byte emoji
      {"\xFF", r},                                     // never valid
      {"\xC3", r},                                     // truncated 2-byte
      {"\xC0\xAF", r + r},                             // overlong '/'
      {"\xED\xA0\x80", r + r + r},                     // surrogate U+D800
      {"\xF4\x90\x80\x80", r + r + r + r},             // above U+10FFFF
      {"a\x80z", "a" + r + "z"},                       // stray continuation
  };
  for (const Case& c : cases) {
    EXPECT_EQ(ToValidUtf8(c.in), c.want);
    EXPECT_EQ(Escaped(c.in), c.want);
  }
}

TEST(TruncateUtf8, NeverSplitsACharacter) {
  EXPECT_EQ(TruncateUtf8("abcdef", 3), "abc");
  EXPECT_EQ(TruncateUtf8("abc", 10), "abc");
  EXPECT_EQ(TruncateUtf8("ab\xC3\xA9", 3), "ab");
  EXPECT_EQ(TruncateUtf8("\xE2\x9C\x93\xE2\x9C\x93", 5), "\xE2\x9C\x93");
  EXPECT_EQ(TruncateUtf8("\xE2\x9C\x93", 0), "");
}

TEST(FormatSampleValue, MatchesPrometheusForms) {
  EXPECT_EQ(FormatSampleValue(1), "1");
  EXPECT_EQ(FormatSampleValue(0.005), "0.005");
  EXPECT_EQ(FormatSampleValue(-1), "-1");
  EXPECT_EQ(FormatSampleValue(1.0 / 0.0), "+Inf");
  EXPECT_EQ(FormatSampleValue(-1.0 / 0.0), "-Inf");
  EXPECT_EQ(FormatSampleValue(0.0 / 0.0), "NaN");
}

Family Counter() {
  return Family{"x_requests_total",
                MetricType::kCounter,
                "Requests \"served\"\\ by\nroute",
                {Series{{{"route", "/b"}}, 2, {}, {}}, Series{{{"route", "/a"}}, 1, {}, {}}}};
}

TEST(WriteFamily, TextCounterKeepsTotalInHeaderAndSortsSeries) {
  std::string out;
  WriteFamily(Counter(), ExpositionFormat::kText004, out);
  EXPECT_EQ(out,
            "# HELP x_requests_total Requests \"served\"\\\\ by\\nroute\n"
            "# TYPE x_requests_total counter\n"
            "x_requests_total{route=\"/a\"} 1\n"
            "x_requests_total{route=\"/b\"} 2\n");
}

TEST(WriteFamily, OpenMetricsCounterNamesFamilyWithoutTotal) {
  std::string out;
  WriteFamily(Counter(), ExpositionFormat::kOpenMetrics100, out);
  WriteEnd(ExpositionFormat::kOpenMetrics100, out);
  EXPECT_EQ(out,
            "# HELP x_requests Requests \\\"served\\\"\\\\ by\\nroute\n"
            "# TYPE x_requests counter\n"
            "x_requests_total{route=\"/a\"} 1\n"
            "x_requests_total{route=\"/b\"} 2\n"
            "# EOF\n");
}

TEST(WriteFamily, HistogramBoundsPerFormat) {
  HistogramValue h{{0.5, 1}, {1, 2}, 1.25, 3};
  const Family f{"x_seconds", MetricType::kHistogram, "Latency", {Series{{}, 0, {}, h}}};
  std::string text;
  WriteFamily(f, ExpositionFormat::kText004, text);
  EXPECT_EQ(text,
            "# HELP x_seconds Latency\n# TYPE x_seconds histogram\n"
            "x_seconds_bucket{le=\"0.5\"} 1\nx_seconds_bucket{le=\"1\"} 2\n"
            "x_seconds_bucket{le=\"+Inf\"} 3\nx_seconds_sum 1.25\nx_seconds_count 3\n");
  std::string om;
  WriteFamily(f, ExpositionFormat::kOpenMetrics100, om);
  EXPECT_NE(om.find("x_seconds_bucket{le=\"1.0\"} 2\n"), std::string::npos) << om;
  EXPECT_NE(om.find("x_seconds_bucket{le=\"0.5\"} 1\n"), std::string::npos) << om;
}

TEST(WriteFamily, SkipsEmptyFamiliesAndUsesValueText) {
  std::string out;
  WriteFamily(Family{"x_empty", MetricType::kGauge, "Nothing", {}}, ExpositionFormat::kText004,
              out);
  EXPECT_EQ(out, "");
  WriteFamily(Family{"x_g", MetricType::kGauge, "G", {Series{{}, 9, "3.000000", {}}}},
              ExpositionFormat::kText004, out);
  EXPECT_EQ(out, "# HELP x_g G\n# TYPE x_g gauge\nx_g 3.000000\n");
}

}  // namespace
}  // namespace sonde
