#include "store/downtime.hpp"

#include <gtest/gtest.h>

#include "store/store_test_util.hpp"

namespace sonde {
namespace {

using std::chrono::seconds;

const CheckKey kKey{"ns", "c"};
const TimePoint kT = FromUnixSeconds(1000);

DowntimeEvent OpenAt(TimePoint start, int64_t failed, std::string first, std::string last) {
  DowntimeEvent e;
  e.id = 7;
  e.key = kKey;
  e.start = start;
  e.first_error = std::move(first);
  e.last_error = std::move(last);
  e.failed_runs = failed;
  return e;
}

struct Case {
  const char* name;
  std::optional<DowntimeEvent> open;
  bool ok;
  std::vector<std::string> errors;
  EventChangeKind kind;
  DowntimeEvent want;  // compared unless kind is kNone
};

TEST(DowntimeTest, Rules) {
  const TimePoint at = kT + seconds(30);
  DowntimeEvent closed = OpenAt(kT, 2, "a", "b");
  closed.end = at;
  DowntimeEvent opened = OpenAt(at, 1, "x", "x");
  opened.id = 0;
  DowntimeEvent opened_silent = OpenAt(at, 1, "", "");
  opened_silent.id = 0;
  const std::vector<Case> cases = {
      {"ok without event", std::nullopt, true, {}, EventChangeKind::kNone, {}},
      {"failure opens", std::nullopt, false, {"x", "y"}, EventChangeKind::kOpen, opened},
      {"failure without message", std::nullopt, false, {}, EventChangeKind::kOpen, opened_silent},
      {"failure extends",
       OpenAt(kT, 1, "a", "a"),
       false,
       {"b"},
       EventChangeKind::kExtend,
       OpenAt(kT, 2, "a", "b")},
      {"ok closes", OpenAt(kT, 2, "a", "b"), true, {}, EventChangeKind::kClose, closed},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.name);
    RunRecord run = MakeRun(kKey, "u", kT, seconds(1), c.ok, c.errors);
    const EventChange change = ApplyRunToEvent(c.open, run, at);
    EXPECT_EQ(change.kind, c.kind);
    if (c.kind != EventChangeKind::kNone) {
      EXPECT_EQ(change.event, c.want);
    }
  }
}

TEST(DowntimeTest, TimelinePointNeverGoesBack) {
  EXPECT_EQ(TimelinePoint(std::nullopt, kT), kT);
  EXPECT_EQ(TimelinePoint(kT, kT + seconds(1)), kT + seconds(1));
  EXPECT_EQ(TimelinePoint(kT, kT - seconds(1)), kT);
}

}  // namespace
}  // namespace sonde
