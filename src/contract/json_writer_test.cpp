#include "contract/json_writer.hpp"

#include <gtest/gtest.h>

namespace sonde {
namespace {

TEST(AppendGoJsonString, EscapesLikeGo) {
  struct Case {
    std::string in;
    const char* want;
  };
  const Case cases[] = {
      {"plain", R"("plain")"},
      {"q\"b\\", R"("q\"b\\")"},
      {"a\nb\tc\r", R"("a\nb\tc\r")"},
      {std::string("\x01\x1f", 2), R"("\u0001\u001f")"},
      {"<a&b>", R"("\u003ca\u0026b\u003e")"},
      {"\xE5\xAE\x95\xE6\x9C\xBA", "\"\xE5\xAE\x95\xE6\x9C\xBA\""},  // valid UTF-8 passes
      {"\xE2\x80\xA8", R"("\u2028")"},
      {"\xff", R"("\ufffd")"},
      {"\xC0\xAF", R"("\ufffd\ufffd")"},  // overlong
      {"\xED\xA0\x80", R"("\ufffd\ufffd\ufffd")"},  // surrogate
  };
  for (const auto& c : cases) {
    std::string out;
    AppendGoJsonString(out, c.in);
    EXPECT_EQ(out, c.want);
  }
}

TEST(JsonWriter, IndentsLikeMarshalIndent) {
  JsonWriter w(true);
  w.BeginObject();
  w.Key("a");
  w.BeginArray();
  w.EndArray();
  w.Key("b");
  w.BeginObject();
  w.EndObject();
  w.Key("c");
  w.StringArray({"x", "y"});
  w.Key("d");
  w.Null();
  w.EndObject();
  EXPECT_EQ(w.str(), "{\n  \"a\": [],\n  \"b\": {},\n  \"c\": [\n    \"x\",\n    \"y\"\n  ],\n"
                     "  \"d\": null\n}");
  JsonWriter compact(false);
  compact.BeginObject();
  compact.Key("n");
  compact.Int(-3);
  compact.Key("t");
  compact.Bool(true);
  compact.EndObject();
  EXPECT_EQ(compact.str(), R"({"n":-3,"t":true})");
}

}  // namespace
}  // namespace sonde
