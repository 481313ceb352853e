#include "contract/report.hpp"

#include <gtest/gtest.h>

namespace sonde {
namespace {

struct Case {
  const char* body;
  bool accepted;
  bool ok;
  size_t errors;
  const char* reason;  // exact rejection reason
};

const Case kCases[] = {
    {R"({"OK": true})", true, true, 0, ""},
    {R"({ "OK": true })", true, true, 0, ""},
    {R"({"Errors":[],"OK":true})", true, true, 0, ""},
    {R"({"ok":true,"errors":[],"currentUUID":""})", true, true, 0, ""},
    {R"({"OK": true, "Errors": null})", true, true, 0, ""},
    {R"({"oK": false, "ERRORS": ["a", "b"]})", true, false, 2, ""},
    {R"({"OK": false, "Errors": ["Error 1 here", "Error 2 here"], "extra": 1})", true, false, 2,
     ""},
    {"", false, false, 0, "empty body: expected JSON like {\"OK\": true}"},
    {"{\"OK\": tru", false, false, 0, "malformed JSON: "},
    {"[true]", false, false, 0, "expected a JSON object like {\"OK\": true}"},
    {R"({"Errors": []})", false, false, 0, "missing \"OK\": expected true or false"},
    {R"({"OK": "true"})", false, false, 0, "\"OK\" must be true or false"},
    {R"({"OK": false, "Errors": "boom"})", false, false, 0,
     "\"Errors\" must be an array of strings"},
    {R"({"OK": false, "Errors": [1]})", false, false, 0, "\"Errors\" must be an array of strings"},
    {R"({"OK": true, "Errors": ["x"]})", false, false, 0,
     "\"OK\" is true but \"Errors\" is not empty: a passing check has no errors"},
    {R"({"OK": false})", false, false, 0, "\"OK\" is false but \"Errors\" is empty: say what failed"},
    {R"({"OK": false, "Errors": []})", false, false, 0,
     "\"OK\" is false but \"Errors\" is empty: say what failed"},
    {R"({"OK": false, "Errors": ["x", " "]})", false, false, 0,
     "\"Errors\" contains an empty error string: say what failed"},
};

TEST(ParseReport, AcceptsValidAndExplainsRejections) {
  for (const Case& c : kCases) {
    auto r = ParseReport(c.body);
    ASSERT_EQ(r.ok(), c.accepted) << c.body << (r.ok() ? "" : " -> " + r.error());
    if (c.accepted) {
      EXPECT_EQ(r.value().ok, c.ok) << c.body;
      EXPECT_EQ(r.value().errors.size(), c.errors) << c.body;
    } else {
      EXPECT_EQ(r.error().rfind(c.reason, 0), 0u) << c.body << " -> " << r.error();
    }
  }
}

TEST(ParseReport, SurvivesHostileInput) {
  std::string deep(100000, '[');
  EXPECT_FALSE(ParseReport(deep).ok());
  std::string binary("\x00\xff\xfe{\"OK\":true}", 14);
  EXPECT_FALSE(ParseReport(binary).ok());
  std::string big = R"({"OK": false, "Errors": [")" + std::string(100000, 'x') + "\"]}";
  auto r = ParseReport(big);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r.value().errors[0].size(), 100000u);
}

}  // namespace
}  // namespace sonde
