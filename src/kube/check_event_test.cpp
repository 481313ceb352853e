#include "kube/check_event.hpp"

#include <gtest/gtest.h>

#include "kube/kube_test_support.hpp"

namespace sonde::kube {
namespace {

using testing::ExpectGolden;

const TimePoint kNow = FromUnixSeconds(1704164645) + std::chrono::microseconds(123456);

RunOutcome Outcome(bool ok, std::vector<std::string> errors = {}, std::string ended_by = "report",
                   CheckKind kind = CheckKind::kKhCheck) {
  return {.key = {"kuberhealthy", "gear-check"},
          .kind = kind,
          .ok = ok,
          .errors = std::move(errors),
          .ended_by = std::move(ended_by)};
}

struct Case {
  std::string name;
  RunOutcome run;
  std::optional<bool> previous_ok;
  // Empty: no event.
  std::string want_reason, want_type, want_message;
};

TEST(CheckEventTest, WhichRunsRecordWhat) {
  const std::string long_error(2000, 'x');
  const Case cases[] = {
      {"OkWhileHealthy", Outcome(true), true, "", "", ""},
      {"OkWithNothingKnown", Outcome(true), std::nullopt, "", "", ""},
      {"OkAfterAFailure", Outcome(true), false, "CheckReported", "Normal", "check reported OK"},
      {"FailedReport", Outcome(false, {"a", "b"}), true, "CheckReported", "Warning", "a; b"},
      {"FailedAgain", Outcome(false, {"a"}), false, "CheckReported", "Warning", "a"},
      {"FailedWithoutErrors", Outcome(false), std::nullopt, "CheckReported", "Warning",
       "check failed"},
      {"TimedOut", Outcome(false, {"timed out after 2s"}, "timeout"), true, "CheckRunTimedOut",
       "Warning", "timed out after 2s"},
      {"Removed", Outcome(false, {"gone"}, "removed"), true, "", "", ""},
      {"LongErrorsCut", Outcome(false, {long_error}), true, "CheckReported", "Warning",
       std::string(1021, 'x') + "..."},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.name);
    const auto event = CheckEvent(c.run, c.previous_ok, kNow, "sonde-a");
    if (c.want_reason.empty()) {
      EXPECT_FALSE(event.has_value());
      continue;
    }
    ASSERT_TRUE(event.has_value());
    EXPECT_EQ(event->at("reason"), c.want_reason.c_str());
    EXPECT_EQ(event->at("type"), c.want_type.c_str());
    EXPECT_EQ(event->at("message"), c.want_message.c_str());
  }
}

TEST(CheckEventTest, NamesStayWithinTheLimit) {
  RunOutcome run = Outcome(false, {"x"});
  // 253 characters, the most a name may have; cut before the suffix, the '-' would end it.
  run.key.name = std::string(235, 'a') + "-" + std::string(17, 'b');
  const auto event = CheckEvent(run, true, kNow, "sonde-a");
  ASSERT_TRUE(event.has_value());
  const std::string name(event->at("metadata").at("name").as_string());
  EXPECT_LE(name.size(), 253u);
  EXPECT_EQ(name.substr(0, 236), std::string(235, 'a') + ".") << name;
  EXPECT_EQ(event->at("involvedObject").at("name"), run.key.name.c_str());
}

TEST(CheckEventTest, EventObjectsAsTheApiTakesThem) {
  ExpectGolden("event_khcheck_failed.json",
               *CheckEvent(Outcome(false, {"pod not ready"}), true, kNow, "sonde-a"));
  ExpectGolden("event_healthcheck_timeout.json",
               *CheckEvent(Outcome(false, {"timed out"}, "timeout", CheckKind::kHealthCheck),
                           std::nullopt, kNow, "sonde-b"));
}

}  // namespace
}  // namespace sonde::kube
