#include "core/boxed.hpp"

#include <gtest/gtest.h>

#include <map>
#include <string>

namespace sonde {
namespace {

using Map = std::map<std::string, std::string>;

TEST(Boxed, ReadsAsEmptyWithoutAllocatingAndCopiesDeeply) {
  const Boxed<Map> unset;
  EXPECT_TRUE(unset->empty());
  EXPECT_EQ(unset, Map{});

  Boxed<Map> a;
  (*a)["k"] = "v";  // non-const access allocates
  Boxed<Map> b = a;
  (*b)["k"] = "changed";
  EXPECT_EQ(a->at("k"), "v") << "a copy must not share its pointee";
  EXPECT_NE(a, b);
  b = a;
  EXPECT_EQ(a, b);
  b = Map{};  // equal to the default: freed, still equal to an unset box
  EXPECT_EQ(b, unset);
}

TEST(BoxedOptional, BehavesAsStdOptional) {
  struct Case {
    std::optional<int> left, right;
  };
  const Case cases[] = {{{}, {}}, {1, {}}, {{}, 2}, {3, 3}, {3, 4}};
  for (const Case& c : cases) {
    BoxedOptional<int> l = c.left ? BoxedOptional<int>(*c.left) : BoxedOptional<int>();
    BoxedOptional<int> r =
        c.right ? BoxedOptional<int>(*c.right) : BoxedOptional<int>(std::nullopt);
    EXPECT_EQ(l.has_value(), c.left.has_value());
    EXPECT_EQ(static_cast<bool>(r), c.right.has_value());
    EXPECT_EQ(l == r, c.left == c.right) << c.left.value_or(-1) << " " << c.right.value_or(-1);
    BoxedOptional<int> copy = l;
    if (copy) ++*copy;
    EXPECT_EQ(l == copy, !c.left.has_value()) << "a copy must not share its pointee";
  }
  BoxedOptional<std::string> s;
  s.emplace("abc");
  EXPECT_EQ(s->size(), 3u);
  s.reset();
  EXPECT_FALSE(s.has_value());
}

TEST(SharedString, CopiesShareOneStringAndCompareByValue) {
  const SharedString a(std::string("/etc/sonde/checks/a.yaml"));
  const SharedString b = a;
  EXPECT_EQ(&a.str(), &b.str()) << "copies share the allocation";
  EXPECT_EQ(a, SharedString("/etc/sonde/checks/a.yaml")) << "equal by value, not by pointer";
  EXPECT_EQ(a, std::string("/etc/sonde/checks/a.yaml"));
  EXPECT_EQ(a, "/etc/sonde/checks/a.yaml");
  EXPECT_NE(a, "other");
  const SharedString empty;
  EXPECT_TRUE(empty.empty());
  EXPECT_EQ(empty, "");
  EXPECT_EQ(empty, SharedString(std::string()));
  const std::string& as_string = a;  // reads as a std::string
  EXPECT_EQ(as_string.size(), 24u);
}

}  // namespace
}  // namespace sonde
