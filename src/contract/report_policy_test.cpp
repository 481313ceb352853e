#include "contract/report_policy.hpp"

#include <gtest/gtest.h>

namespace sonde {
namespace {

TEST(JudgeReport, DecidesEveryCase) {
  const TimePoint now = FromUnixSeconds(1000);
  const std::string id = "1d309ed7-4b7a-4fd5-9706-d04f53c9ed30";
  struct Case {
    RunEnd end;
    TimePoint deadline;
    int status;
    const char* reason;
  };
  const Case cases[] = {
      {RunEnd::kActive, now + std::chrono::seconds(1), 200,
       "report accepted for run 1d309ed7-4b7a-4fd5-9706-d04f53c9ed30 of ns/c"},
      {RunEnd::kActive, now - std::chrono::seconds(1), 410,
       "run 1d309ed7-4b7a-4fd5-9706-d04f53c9ed30 of ns/c timed out before this report arrived"},
      {RunEnd::kReported, now + std::chrono::seconds(1), 410,
       "run 1d309ed7-4b7a-4fd5-9706-d04f53c9ed30 of ns/c has already reported"},
      {RunEnd::kTimedOut, now + std::chrono::seconds(1), 410,
       "run 1d309ed7-4b7a-4fd5-9706-d04f53c9ed30 of ns/c timed out before this report arrived"},
      {RunEnd::kExited, now, 410,
       "run 1d309ed7-4b7a-4fd5-9706-d04f53c9ed30 of ns/c ended: its checker exited without "
       "reporting"},
      {RunEnd::kSuperseded, now, 410,
       "run 1d309ed7-4b7a-4fd5-9706-d04f53c9ed30 of ns/c is no longer the current run of its "
       "check"},
      {RunEnd::kRemoved, now, 410,
       "run 1d309ed7-4b7a-4fd5-9706-d04f53c9ed30 of ns/c belongs to a check that was removed"},
      {RunEnd::kInterrupted, now, 410,
       "run 1d309ed7-4b7a-4fd5-9706-d04f53c9ed30 of ns/c was interrupted by a daemon restart"},
  };
  for (const Case& c : cases) {
    RunView v{"ns/c", c.end, c.deadline};
    const ReportVerdict verdict = JudgeReport(&v, id, now);
    EXPECT_EQ(verdict.http_status, c.status) << c.reason;
    EXPECT_EQ(verdict.reason, c.reason);
  }
  const ReportVerdict unknown = JudgeReport(nullptr, id, now);
  EXPECT_EQ(unknown.http_status, 400);
  EXPECT_EQ(unknown.reason, "run uuid 1d309ed7-4b7a-4fd5-9706-d04f53c9ed30 is invalid or expired");
}

}  // namespace
}  // namespace sonde
