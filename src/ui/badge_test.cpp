#include "ui/badge.hpp"

#include <gtest/gtest.h>

#include <cstdlib>
#include <fstream>
#include <sstream>

namespace sonde::ui {
namespace {

void ExpectGolden(const std::string& name, const std::string& got) {
  const std::string path = std::string(SONDE_SOURCE_DIR) + "/src/ui/testdata/" + name;
  if (std::getenv("UPDATE_GOLDEN") != nullptr) std::ofstream(path) << got;
  std::ifstream in(path);
  ASSERT_TRUE(in) << "missing golden file " << path << " (run with UPDATE_GOLDEN=1)";
  std::stringstream want;
  want << in.rdbuf();
  EXPECT_EQ(got, want.str()) << "golden " << name << " differs (UPDATE_GOLDEN=1 rewrites)";
}

struct GoldenCase {
  const char* file;
  Badge badge;
};

TEST(Badge, MatchesGoldenFiles) {
  const GoldenCase cases[] = {
      {"status_ok.svg", StatusBadge("ok")},
      {"status_failing.svg", StatusBadge("failing")},
      {"status_pending.svg", StatusBadge("pending")},
      {"uptime_7d.svg", UptimeBadge("7d", 0.99953)},
      {"uptime_no_data.svg", UptimeBadge("30d", std::nullopt)},
      {"escaped.svg", Badge{"<a&b>", "\"x\" 'y'", "#000000\"/><script>"}},
  };
  for (const GoldenCase& c : cases) {
    SCOPED_TRACE(c.file);
    ExpectGolden(c.file, RenderBadge(c.badge));
  }
}

TEST(Badge, UptimeMessageAndColour) {
  struct Case {
    std::optional<double> uptime;
    const char* message;
    const char* color;
  };
  const Case cases[] = {
      {1.0, "100.00%", "#2e7d32"},  {0.99996, "99.99%", "#2e7d32"},
      {0.999, "99.90%", "#2e7d32"}, {0.995, "99.50%", "#5f7f0e"},
      {0.96, "96.00%", "#b45309"},  {0.5, "50.00%", "#c62828"},
      {0.0, "0.00%", "#c62828"},    {std::nullopt, "no data", "#616161"},
  };
  for (const Case& c : cases) {
    const Badge b = UptimeBadge("24h", c.uptime);
    EXPECT_EQ(b.label, "uptime 24h");
    EXPECT_EQ(b.message, c.message);
    EXPECT_EQ(b.color, c.color) << c.message;
  }
}

TEST(Badge, WidthGrowsWithText) {
  EXPECT_EQ(TextWidth(""), 0);
  EXPECT_LT(TextWidth("ok"), TextWidth("failing"));
  EXPECT_LT(TextWidth("iii"), TextWidth("mmm"));
  const std::string svg = RenderBadge(StatusBadge("ok"));
  EXPECT_NE(svg.find("role=\"img\""), std::string::npos);
  EXPECT_NE(svg.find("aria-label=\"status: ok\""), std::string::npos);
}

}  // namespace
}  // namespace sonde::ui
