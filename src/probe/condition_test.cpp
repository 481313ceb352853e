#include "probe/condition.hpp"

#include <gtest/gtest.h>

namespace sonde {
namespace {

const TimePoint kNow = FromUnixSeconds(1'800'000'000);

Observation Http(int status, std::string body, int ms = 12) {
  Observation o;
  o.connected = true;
  o.status = status;
  o.body = std::move(body);
  o.response_time = std::chrono::milliseconds(ms);
  o.ip = "127.0.0.1";
  return o;
}

struct Case {
  const char* condition;
  Observation observation;
  const char* error;  // nullptr: the condition holds
};

class ConditionCheck : public ::testing::TestWithParam<Case> {};

TEST_P(ConditionCheck, HoldsOrSaysWhatWasSeen) {
  const Case& c = GetParam();
  auto parsed = Condition::Parse(c.condition);
  ASSERT_TRUE(parsed.ok()) << parsed.error();
  auto failed = parsed.value().Check(c.observation, kNow);
  if (c.error == nullptr) {
    EXPECT_FALSE(failed.has_value()) << *failed;
  } else {
    ASSERT_TRUE(failed.has_value()) << c.condition << " held";
    EXPECT_EQ(*failed, c.error);
  }
}

Observation Cert(int64_t seconds_left) {
  Observation o = Http(200, "");
  o.certificate_not_after = kNow + std::chrono::seconds(seconds_left);
  return o;
}

Observation Dns(std::string rcode, std::vector<std::string> answers) {
  Observation o;
  o.connected = true;
  o.dns_rcode = std::move(rcode);
  o.dns_answers = std::move(answers);
  for (const auto& a : o.dns_answers) o.body += (o.body.empty() ? "" : ", ") + a;
  return o;
}

INSTANTIATE_TEST_SUITE_P(
    Table, ConditionCheck,
    ::testing::Values(
        Case{"[STATUS] == 200", Http(200, ""), nullptr},
        Case{"[STATUS] == 200", Http(503, ""), "[STATUS] == 200: got 503"},
        Case{"[STATUS] != 500", Http(500, ""), "[STATUS] != 500: got 500"},
        Case{"[STATUS] == 2xx", Http(204, ""), nullptr},
        Case{"[STATUS] == 2xx", Http(301, ""), "[STATUS] == 2xx: got 301"},
        Case{"[STATUS] == any(200, 3xx, 500-503)", Http(502, ""), nullptr},
        Case{"[STATUS] == any(200, 3xx, 500-503)", Http(504, ""),
             "[STATUS] == any(200, 3xx, 500-503): got 504"},
        Case{"[STATUS] < 400", Http(399, ""), nullptr},
        Case{"[STATUS] < 400", Http(404, ""), "[STATUS] < 400: got 404"},
        Case{"[STATUS] >= 200", Http(200, ""), nullptr},
        // A number compared as text (pattern, regex) or shown in a message: its text is
        // formatted only then, and must read as before.
        Case{"[STATUS] == pat(2*)", Http(204, ""), nullptr},
        Case{"[STATUS] == pat(2*)", Http(404, ""), "[STATUS] == pat(2*): got 404"},
        Case{"[STATUS] =~ \"^5\"", Http(503, ""), nullptr},
        Case{"[STATUS] !~ \"^5\"", Http(503, ""), "[STATUS] !~ \"^5\": got 503"},
        Case{"len([BODY].items) == pat(1?)", Http(200, R"({"items":[1,2,3,4,5,6,7,8,9,10,11]})"),
             nullptr},
        Case{"[BODY].n == 2.5", Http(200, R"({"n":2.5})"), nullptr},
        Case{"[BODY].n == pat(2.*)", Http(200, R"({"n":3.25})"), "[BODY].n == pat(2.*): got 3.25"},
        Case{"[BODY] == pat(*healthy*)", Http(200, "all healthy here"), nullptr},
        Case{"[BODY] == pat(*healthy*)", Http(200, "degraded\n"),
             "[BODY] == pat(*healthy*): got \"degraded \""},
        Case{"[BODY] == ok", Http(200, "ok"), nullptr},
        Case{"[BODY] =~ \"^ok\\b\"", Http(200, "ok then"), nullptr},
        Case{"[BODY] !~ error", Http(200, "an error"), "[BODY] !~ error: got \"an error\""},
        Case{"[BODY].status == UP", Http(200, R"({"status":"UP"})"), nullptr},
        Case{"[BODY].status == UP", Http(200, R"({"status":"DOWN"})"),
             "[BODY].status == UP: got DOWN"},
        Case{"[BODY].status == UP", Http(200, R"({"state":"UP"})"),
             "[BODY].status == UP: the body has no .status"},
        Case{"[BODY].status == UP", Http(200, "<html>"),
             "[BODY].status == UP: the body is not JSON (syntax error)"},
        Case{"[BODY].data[1].id == 7", Http(200, R"({"data":[{"id":1},{"id":7}]})"), nullptr},
        Case{"[BODY].data[1].id > 5", Http(200, R"({"data":[{"id":1},{"id":3}]})"),
             "[BODY].data[1].id > 5: got 3"},
        Case{"[BODY].ready == true", Http(200, R"({"ready":false})"),
             "[BODY].ready == true: got false"},
        Case{"len([BODY].items) > 0", Http(200, R"({"items":[]})"), "len([BODY].items) > 0: got 0"},
        Case{"len([BODY].items) == 2", Http(200, R"({"items":[1,2]})"), nullptr},
        Case{"has([BODY].version) == true", Http(200, R"({"v":1})"),
             "has([BODY].version) == true: got false"},
        Case{"[RESPONSE_TIME] < 300", Http(200, "", 12), nullptr},
        Case{"[RESPONSE_TIME] < 300", Http(200, "", 812), "[RESPONSE_TIME] < 300: took 812 ms"},
        Case{"[RESPONSE_TIME] < 1s", Http(200, "", 812), nullptr},
        Case{"[CERTIFICATE_EXPIRATION] > 30d", Cert(100 * 86400), nullptr},
        Case{"[CERTIFICATE_EXPIRATION] > 30d", Cert(3 * 86400),
             "[CERTIFICATE_EXPIRATION] > 30d: the certificate expires in 3.0 days "
             "(2027-01-18T08:00:00Z)"},
        Case{"[CERTIFICATE_EXPIRATION] > 48h", Cert(-86400),
             "[CERTIFICATE_EXPIRATION] > 48h: the certificate expired 1.0 days ago "
             "(2027-01-14T08:00:00Z)"},
        Case{"[CERTIFICATE_EXPIRATION] > 48h", Http(200, ""),
             "[CERTIFICATE_EXPIRATION] > 48h: no certificate was presented"},
        Case{"[CONNECTED] == true", Http(200, ""), nullptr},
        Case{"[IP] == 127.0.0.1", Http(200, ""), nullptr},
        Case{"[DNS_RCODE] == NOERROR", Dns("NXDOMAIN", {}), "[DNS_RCODE] == NOERROR: got NXDOMAIN"},
        Case{"[DNS_ANSWERS] == 10.0.0.2", Dns("NOERROR", {"10.0.0.1", "10.0.0.2"}), nullptr},
        Case{"[DNS_ANSWERS] == 10.0.0.3", Dns("NOERROR", {"10.0.0.1", "10.0.0.2"}),
             "[DNS_ANSWERS] == 10.0.0.3: got 10.0.0.1, 10.0.0.2"},
        Case{"[DNS_ANSWERS] == 10.0.0.3", Dns("NOERROR", {}),
             "[DNS_ANSWERS] == 10.0.0.3: got no answers"},
        Case{"len([DNS_ANSWERS]) >= 1", Dns("NOERROR", {"a"}), nullptr}));

struct BadCase {
  const char* condition;
  const char* error;
};

class ConditionParse : public ::testing::TestWithParam<BadCase> {};

TEST_P(ConditionParse, RejectsWithPosition) {
  auto parsed = Condition::Parse(GetParam().condition);
  ASSERT_FALSE(parsed.ok()) << GetParam().condition;
  EXPECT_EQ(parsed.error(), GetParam().error);
}

INSTANTIATE_TEST_SUITE_P(
    Table, ConditionParse,
    ::testing::Values(
        BadCase{"[STATUS] == abc",
                "column 13: \"[STATUS] == abc\": [STATUS] compares with a number, a class like "
                "2xx or a range like 200-299, found \"abc\""},
        BadCase{"[STATUS] = 200",
                "column 10: \"[STATUS] = 200\": expected an operator: ==, !=, <, <=, >, >=, =~ "
                "or !~"},
        BadCase{"[STATS] == 200",
                "column 1: \"[STATS] == 200\": expected a placeholder: [STATUS], [BODY], "
                "[RESPONSE_TIME], [CONNECTED], [IP], [CERTIFICATE_EXPIRATION], [DNS_RCODE] or "
                "[DNS_ANSWERS], optionally in len() or has()"},
        BadCase{"[STATUS] ==", "column 12: \"[STATUS] ==\": expected a value after the operator"},
        BadCase{"[BODY] < any(1, 2)", "column 10: \"[BODY] < any(1, 2)\": any(...) needs == or !="},
        BadCase{
            "[BODY] =~ \"(\"",
            "column 11: \"[BODY] =~ \"(\"\": invalid regular expression: Mismatched '(' and ')' in "
            "regular expression"},
        BadCase{"[STATUS].x == 1", "column 9: \"[STATUS].x == 1\": only [BODY] takes a JSON path"},
        BadCase{"[BODY].a[x] == 1",
                "column 7: \"[BODY].a[x] == 1\": array index must be a number, found [x]"},
        BadCase{"[CONNECTED] == yes",
                "column 16: \"[CONNECTED] == yes\": compares with true or false"},
        BadCase{"[RESPONSE_TIME] < fast",
                "column 19: \"[RESPONSE_TIME] < fast\": [RESPONSE_TIME] compares with a time, "
                "e.g. 500 (ms), 2s or 30d, found \"fast\""},
        BadCase{"[BODY] > ok",
                "column 10: \"[BODY] > ok\": <, <=, > and >= need a number on the right"}));

TEST(EvaluateConditions, TransportErrorIsTheErrorUnlessConnectionIsAsserted) {
  Observation refused;
  refused.error = "tcp://127.0.0.1:1: connect 127.0.0.1:1: Connection refused";
  const auto status = Condition::Parse("[STATUS] == 200").value();
  const auto connected = Condition::Parse("[CONNECTED] == true").value();
  const auto unreachable = Condition::Parse("[CONNECTED] == false").value();

  EXPECT_EQ(EvaluateConditions(std::vector{status}, refused, kNow),
            std::vector<std::string>{refused.error});
  EXPECT_TRUE(EvaluateConditions(std::vector{unreachable, status}, refused, kNow).empty());
  EXPECT_EQ(EvaluateConditions(std::vector{connected}, refused, kNow),
            std::vector<std::string>{refused.error});

  const Observation ok = Http(200, "");
  EXPECT_TRUE(EvaluateConditions(std::vector{status, connected}, ok, kNow).empty());
  EXPECT_EQ(EvaluateConditions(std::vector{unreachable}, ok, kNow),
            std::vector<std::string>{"[CONNECTED] == false: got true"});
}

}  // namespace
}  // namespace sonde
