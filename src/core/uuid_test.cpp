#include "core/uuid.hpp"

#include <gtest/gtest.h>

#include <cstdio>
#include <functional>
#include <random>
#include <set>

namespace sonde {
namespace {

TEST(NewUuidV4, IsCanonicalVersion4AndUnique) {
  UuidSource source;
  const struct {
    const char* name;
    std::function<std::string()> next;
  } sources[] = {{"NewUuidV4", [] { return NewUuidV4(); }},
                 // Over several refills of its pool.
                 {"UuidSource", [&source] { return source.Next(); }}};
  for (const auto& from : sources) {
    SCOPED_TRACE(from.name);
    std::set<std::string> seen;
    for (int i = 0; i < 1000; ++i) {
      const std::string u = from.next();
      ASSERT_TRUE(LooksLikeUuid(u)) << u;
      EXPECT_EQ(u[14], '4') << u;
      EXPECT_NE(std::string("89ab").find(u[19]), std::string::npos) << u;
      EXPECT_TRUE(seen.insert(u).second) << "duplicate " << u;
    }
  }
}

// The hand-written formatting gives what the printf format it replaced gave.
TEST(FormatUuid, MatchesThePrintfFormat) {
  std::vector<std::array<uint8_t, 16>> cases = {{}, {}};
  cases[1].fill(0xFF);
  std::mt19937 random(7);
  for (int i = 0; i < 200; ++i) {
    std::array<uint8_t, 16> b;
    for (auto& byte : b) byte = static_cast<uint8_t>(random());
    cases.push_back(b);
  }
  for (const auto& b : cases) {
    char want[37];
    std::snprintf(want, sizeof want,
                  "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x", b[0],
                  b[1], b[2], b[3], b[4], b[5], b[6], b[7], b[8], b[9], b[10], b[11], b[12], b[13],
                  b[14], b[15]);
    EXPECT_EQ(FormatUuid(b), std::string(want));
  }
}

TEST(LooksLikeUuid, RejectsMalformed) {
  const char* bad[] = {"", "1d309ed7-4b7a-4fd5-9706-d04f53c9ed3",
                       "1d309ed7x4b7a-4fd5-9706-d04f53c9ed30",
                       "1d309ed7-4b7a-4fd5-9706-d04f53c9ed3g", "../../etc/passwd"};
  for (const char* b : bad) EXPECT_FALSE(LooksLikeUuid(b)) << b;
  EXPECT_TRUE(LooksLikeUuid("1D309ED7-4b7a-4fd5-9706-d04f53c9ed30"));
}

}  // namespace
}  // namespace sonde
