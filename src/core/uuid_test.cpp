#include "core/uuid.hpp"

#include <gtest/gtest.h>

#include <set>

namespace sonde {
namespace {

TEST(NewUuidV4, IsCanonicalVersion4AndUnique) {
  std::set<std::string> seen;
  for (int i = 0; i < 1000; ++i) {
    const std::string u = NewUuidV4();
    ASSERT_TRUE(LooksLikeUuid(u)) << u;
    EXPECT_EQ(u[14], '4') << u;
    EXPECT_NE(std::string("89ab").find(u[19]), std::string::npos) << u;
    EXPECT_TRUE(seen.insert(u).second) << "duplicate " << u;
  }
}

TEST(LooksLikeUuid, RejectsMalformed) {
  const char* bad[] = {"", "1d309ed7-4b7a-4fd5-9706-d04f53c9ed3", "1d309ed7x4b7a-4fd5-9706-d04f53c9ed30",
                       "1d309ed7-4b7a-4fd5-9706-d04f53c9ed3g", "../../etc/passwd"};
  for (const char* b : bad) EXPECT_FALSE(LooksLikeUuid(b)) << b;
  EXPECT_TRUE(LooksLikeUuid("1D309ED7-4b7a-4fd5-9706-d04f53c9ed30"));
}

}  // namespace
}  // namespace sonde
