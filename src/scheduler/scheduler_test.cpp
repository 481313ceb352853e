#include "scheduler/scheduler.hpp"

#include <gtest/gtest.h>

#include <set>

namespace sonde {
namespace {

using std::chrono::minutes;
using std::chrono::seconds;

const TimePoint kT0 = FromUnixSeconds(1'700'000'000);
const CheckKey kA{"default", "a"};
const CheckKey kB{"default", "b"};
const CheckKey kC{"default", "c"};

std::vector<CheckKey> Keys(const std::vector<DueCheck>& due) {
  std::vector<CheckKey> keys;
  for (const auto& d : due) keys.push_back(d.key);
  return keys;
}

TEST(Scheduler, RunsAtStartThenEveryIntervalFromPreviousStart) {
  Scheduler s(10);
  s.Upsert(kA, minutes(10), false, std::nullopt, kT0);
  EXPECT_EQ(Keys(s.TakeDue(kT0)), std::vector<CheckKey>{kA});
  EXPECT_TRUE(s.IsRunning(kA));
  EXPECT_FALSE(s.NextRun(kA).has_value());
  s.Finished(kA, kT0 + seconds(30));
  EXPECT_EQ(s.NextRun(kA), kT0 + minutes(10));
  EXPECT_TRUE(s.TakeDue(kT0 + minutes(10) - seconds(1)).empty());
  EXPECT_EQ(Keys(s.TakeDue(kT0 + minutes(10))), std::vector<CheckKey>{kA});
}

TEST(Scheduler, NeverOverlapsAndDoesNotBurstAfterALongRun) {
  Scheduler s(10);
  s.Upsert(kA, minutes(1), false, std::nullopt, kT0);
  ASSERT_EQ(s.TakeDue(kT0).size(), 1u);
  // Still running long past several intervals: nothing more starts.
  EXPECT_TRUE(s.TakeDue(kT0 + minutes(5)).empty());
  EXPECT_FALSE(s.RequestNow(kA, kT0 + minutes(5)));
  s.Finished(kA, kT0 + minutes(5));
  // Exactly one run follows at once, then the cadence resumes from its start.
  EXPECT_EQ(Keys(s.TakeDue(kT0 + minutes(5))), std::vector<CheckKey>{kA});
  s.Finished(kA, kT0 + minutes(5) + seconds(1));
  EXPECT_TRUE(s.TakeDue(kT0 + minutes(5) + seconds(2)).empty());
  EXPECT_EQ(s.NextRun(kA), kT0 + minutes(6));
}

TEST(Scheduler, CapsConcurrentRunsAndQueuesByDueTime) {
  Scheduler s(2);
  s.Upsert(kC, minutes(1), false, std::nullopt, kT0);
  s.Upsert(kB, minutes(1), false, std::nullopt, kT0);
  s.Upsert(kA, minutes(1), false, std::nullopt, kT0 + seconds(1));
  EXPECT_EQ(Keys(s.TakeDue(kT0 + seconds(1))), (std::vector<CheckKey>{kB, kC}));
  EXPECT_EQ(s.running(), 2u);
  EXPECT_EQ(s.Waiting(kT0 + seconds(1)), 1u);
  EXPECT_TRUE(s.TakeDue(kT0 + seconds(2)).empty());
  EXPECT_EQ(s.NextDue(), kT0 + seconds(1));  // overdue, waiting for a slot
  s.Finished(kB, kT0 + seconds(3));
  EXPECT_EQ(Keys(s.TakeDue(kT0 + seconds(3))), std::vector<CheckKey>{kA});
}

TEST(Scheduler, JobsRunOnceAndCanBeRequestedAgain) {
  Scheduler s(1);
  s.Upsert(kA, minutes(10), true, std::nullopt, kT0);
  ASSERT_EQ(s.TakeDue(kT0).size(), 1u);
  s.Finished(kA, kT0 + seconds(5));
  EXPECT_FALSE(s.NextRun(kA).has_value());
  EXPECT_FALSE(s.NextDue().has_value());
  EXPECT_TRUE(s.RequestNow(kA, kT0 + minutes(1)));
  EXPECT_EQ(Keys(s.TakeDue(kT0 + minutes(1))), std::vector<CheckKey>{kA});
}

TEST(Scheduler, ReportsWhenEachStartedCheckWasDue) {
  Scheduler s(1);
  s.Upsert(kA, minutes(1), false, std::nullopt, kT0);
  s.Upsert(kB, minutes(1), false, std::nullopt, kT0 + seconds(1));
  EXPECT_EQ(s.TakeDue(kT0 + seconds(5)), (std::vector<DueCheck>{{kA, kT0}}));
  s.Finished(kA, kT0 + seconds(9));
  EXPECT_EQ(s.TakeDue(kT0 + seconds(9)), (std::vector<DueCheck>{{kB, kT0 + seconds(1)}}));
}

TEST(Scheduler, ResumesPersistedSchedule) {
  Scheduler s(5);
  s.Upsert(kA, std::chrono::hours(6), false, kT0 - minutes(10), kT0);  // ran 10 minutes ago
  s.Upsert(kB, minutes(1), false, kT0 - minutes(10), kT0);             // overdue: runs now
  s.Upsert(kC, minutes(1), true, kT0 - minutes(10), kT0);              // job already ran
  EXPECT_EQ(Keys(s.TakeDue(kT0)), std::vector<CheckKey>{kB});
  EXPECT_EQ(s.NextRun(kA), kT0 - minutes(10) + std::chrono::hours(6));
  EXPECT_FALSE(s.NextRun(kC).has_value());
}

TEST(Scheduler, UpdateTakesEffectFromLastStartAndRemoveFreesSlot) {
  Scheduler s(1);
  s.Upsert(kA, minutes(10), false, std::nullopt, kT0);
  ASSERT_EQ(s.TakeDue(kT0).size(), 1u);
  s.Finished(kA, kT0 + seconds(1));
  s.Upsert(kA, minutes(2), false, std::nullopt, kT0 + seconds(2));
  EXPECT_EQ(s.NextRun(kA), kT0 + minutes(2));
  s.Upsert(kB, minutes(1), false, std::nullopt, kT0 + minutes(2));
  EXPECT_EQ(Keys(s.TakeDue(kT0 + minutes(2))), std::vector<CheckKey>{kA});
  s.Remove(kA);
  EXPECT_EQ(s.running(), 0u);
  EXPECT_EQ(Keys(s.TakeDue(kT0 + minutes(2))), std::vector<CheckKey>{kB});
}

TEST(Scheduler, ScalesToManyChecks) {
  Scheduler s(100);
  for (int i = 0; i < 20000; ++i) {
    s.Upsert({"ns", "c" + std::to_string(i)}, seconds(1 + i % 3600), false, std::nullopt, kT0);
  }
  size_t started = 0;
  for (int round = 0; round < 200; ++round) {
    auto keys = s.TakeDue(kT0);
    started += keys.size();
    for (const auto& k : keys) s.Finished(k.key, kT0);
  }
  EXPECT_EQ(started, 20000u);
  EXPECT_EQ(s.running(), 0u);
}

// A run that starts within half its interval of its due time keeps the check's cadence; a
// later one counts the next interval from its start.
TEST(Scheduler, SlightlyLateStartKeepsTheCadence) {
  using std::chrono::milliseconds;
  struct Case {
    const char* name;
    Duration late;
    TimePoint next;
  };
  const Case cases[] = {
      {"on time", Duration{0}, kT0 + seconds(1)},
      {"5 ms late", milliseconds(5), kT0 + seconds(1)},
      {"300 ms late", milliseconds(300), kT0 + seconds(1)},
      {"half late", milliseconds(500), kT0 + seconds(1)},
      {"more than half late", milliseconds(501), kT0 + milliseconds(1501)},
  };
  for (const Case& c : cases) {
    Scheduler s(10);
    s.Upsert(kA, seconds(1), false, std::nullopt, kT0);
    ASSERT_EQ(s.TakeDue(kT0 + c.late), (std::vector<DueCheck>{{kA, kT0}})) << c.name;
    s.Finished(kA, kT0 + c.late + milliseconds(2));
    EXPECT_EQ(s.NextRun(kA), c.next) << c.name;
  }
}

// Checks spread over their interval stay spread when the loop wakes up only every 7 ms, and
// once in a while not for 400 ms: a wake-up that starts several due checks at once must not
// give them one shared cadence (they would then fall due together for ever, and clumps only
// grow).
TEST(Scheduler, CoarseWakeUpsDoNotMergeChecks) {
  using std::chrono::milliseconds;
  Scheduler s(1000);
  constexpr int kChecks = 1000;
  for (int i = 0; i < kChecks; ++i) {
    s.Upsert({"ns", "c" + std::to_string(i)}, seconds(1), false, kT0 - seconds(1) + milliseconds(i),
             kT0);
  }
  TimePoint now = kT0;
  size_t started = 0;
  for (int wakeup = 1; now < kT0 + seconds(20); ++wakeup) {
    now += wakeup % 500 == 0 ? milliseconds(400) : milliseconds(7);
    for (const DueCheck& d : s.TakeDue(now)) {
      s.Finished(d.key, now + milliseconds(1));
      ++started;
    }
  }
  EXPECT_GE(started, 19u * kChecks);
  std::set<TimePoint> due;
  for (int i = 0; i < kChecks; ++i) due.insert(*s.NextRun({"ns", "c" + std::to_string(i)}));
  EXPECT_EQ(due.size(), size_t{kChecks});
}

// A run started elsewhere (a former leader's) holds its check and a slot until it finishes;
// the next run is due an interval after that run's start.
TEST(Scheduler, MarkRunningHoldsTheCheckUntilFinished) {
  Scheduler s(2);
  s.Upsert(kA, minutes(10), false, kT0 - minutes(12), kT0);
  ASSERT_TRUE(s.MarkRunning(kA, kT0 - minutes(1)));
  EXPECT_FALSE(s.MarkRunning(kA, kT0)) << "already running";
  EXPECT_FALSE(s.MarkRunning(kB, kT0)) << "unknown";
  EXPECT_TRUE(s.TakeDue(kT0).empty()) << "due since 2 minutes, but running";
  EXPECT_EQ(s.running(), 1u);
  s.Finished(kA, kT0 + minutes(1));
  EXPECT_EQ(s.NextRun(kA), kT0 + minutes(9));
  EXPECT_EQ(s.running(), 0u);
}

// The queue holds pointers to its entries' keys: checks due at one instant still start in key
// order, also after one was removed and added again, and with keys that are copies the caller
// later drops.
TEST(Scheduler, ChecksDueTogetherStartInKeyOrder) {
  struct Step {
    const char* what;
    std::vector<std::string> added;  // names, added in this order
    std::vector<std::string> removed_and_readded;
    std::vector<std::string> want;
  };
  const std::vector<Step> steps = {
      {"added in order", {"a", "b", "c"}, {}, {"a", "b", "c"}},
      {"added in reverse", {"c", "b", "a"}, {}, {"a", "b", "c"}},
      {"one removed and added again", {"a", "b", "c"}, {"a"}, {"a", "b", "c"}},
      {"two removed and added again", {"b", "a", "c"}, {"c", "a"}, {"a", "b", "c"}},
  };
  for (const Step& step : steps) {
    Scheduler s(10);
    for (const auto& name : step.added) {
      const CheckKey key{"default", name};  // dropped after the call: the queue keeps its own
      s.Upsert(key, minutes(1), false, std::nullopt, kT0);
    }
    for (const auto& name : step.removed_and_readded) {
      s.Remove({"default", name});
      s.Upsert({"default", name}, minutes(1), false, std::nullopt, kT0);
    }
    std::vector<CheckKey> want;
    for (const auto& name : step.want) want.push_back({"default", name});
    EXPECT_EQ(s.NextDue(), kT0) << step.what;
    EXPECT_EQ(s.Waiting(kT0), want.size()) << step.what;
    EXPECT_EQ(Keys(s.TakeDue(kT0)), want) << step.what;
    for (const auto& key : want) s.Finished(key, kT0 + seconds(1));
    EXPECT_EQ(Keys(s.TakeDue(kT0 + minutes(1) + seconds(1))), want) << step.what;
  }
}

}  // namespace
}  // namespace sonde
