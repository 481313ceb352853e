// One suite, every Store implementation: behaviour cannot drift between backends.
#include <gtest/gtest.h>

#include <filesystem>
#include <functional>
#include <memory>
#include <thread>
#include <tuple>

#include "store/memory_store.hpp"
#include "store/sqlite_store.hpp"
#include "store/store_test_util.hpp"
#include "store/uptime.hpp"

namespace sonde {
namespace {

using std::chrono::hours;
using std::chrono::minutes;
using std::chrono::seconds;

const CheckKey kA{"default", "a"};
const CheckKey kB{"other", "b"};
const TimePoint kT0 = FromUnixSeconds(1'700'000'000);

struct Backend {
  const char* name;
  std::function<std::unique_ptr<Store>(const std::string& dir, const Clock& clock)> make;
};

class StoreTest : public ::testing::TestWithParam<Backend> {
 protected:
  TempDir dir_;
  TestClock clock_{kT0};
  std::unique_ptr<Store> store_ = GetParam().make(dir_.path(), clock_);
};

TEST_P(StoreTest, SavesLoadsAndDeletesStates) {
  CheckState s;
  s.ok = true;
  s.errors = {"x", "y \"quoted\""};
  s.run_duration = seconds(3);
  s.node = "host";
  s.authoritative_pod = "sonde-1";
  s.last_run = FromUnixSeconds(100);
  s.run_uuid = "u1";
  s.current_uuid = "u2";
  s.last_run_start = FromUnixSeconds(90) + std::chrono::nanoseconds(7);
  s.last_ok = FromUnixSeconds(80);
  s.last_failure = FromUnixSeconds(70);
  s.consecutive_failures = 2;
  s.success_count = 3;
  s.failure_count = 4;
  ASSERT_TRUE(store_->SaveState(kA, s).ok());
  ASSERT_TRUE(store_->SaveState(kB, CheckState{}).ok());
  auto all = store_->LoadStates();
  ASSERT_EQ(all.size(), 2u);
  EXPECT_EQ(all.at(kA), s);
  EXPECT_EQ(all.at(kB), CheckState{});
  s.ok = false;
  ASSERT_TRUE(store_->SaveState(kA, s).ok());
  EXPECT_FALSE(store_->LoadStates().at(kA).ok);
  ASSERT_TRUE(store_->DeleteState(kA).ok());
  EXPECT_EQ(store_->LoadStates().count(kA), 0u);
  EXPECT_TRUE(store_->DeleteState(kA).ok());  // deleting twice is fine
}

TEST_P(StoreTest, CommitRunStoresRunAndState) {
  RunRecord r = MakeRun(kA, "r1", kT0, seconds(2), false, {"boom", "second"});
  r.instance = "host-1";
  CheckState s;
  s.errors = r.errors;
  s.last_run = r.finished;
  ASSERT_TRUE(CommitSync(*store_, r, s).ok());
  EXPECT_EQ(store_->LoadStates().at(kA), s);
  auto history = store_->History({kA});
  ASSERT_TRUE(history.ok());
  ASSERT_EQ(history.value().size(), 1u);
  EXPECT_EQ(history.value()[0], r);
}

TEST_P(StoreTest, HistoryIsNewestFirstWithRangeAndPaging) {
  for (int i = 0; i < 10; ++i) {
    ASSERT_TRUE(CommitSync(*store_, MakeRun(kA, "a" + std::to_string(i), kT0 + minutes(i),
                                            seconds(1), i % 2 == 0))
                    .ok());
  }
  ASSERT_TRUE(CommitSync(*store_, MakeRun(kB, "b0", kT0, seconds(1), true)).ok());
  auto all = store_->History({kA, std::nullopt, std::nullopt, 100, 0}).value();
  ASSERT_EQ(all.size(), 10u);
  EXPECT_EQ(all.front().run_uuid, "a9");
  EXPECT_EQ(all.back().run_uuid, "a0");
  auto page = store_->History({kA, std::nullopt, std::nullopt, 3, 2}).value();
  ASSERT_EQ(page.size(), 3u);
  EXPECT_EQ(page[0].run_uuid, "a7");
  EXPECT_EQ(page[2].run_uuid, "a5");
  // finished = kT0 + i min + 1s; [since, until) picks runs 3..5.
  auto range = store_->History({kA, kT0 + minutes(3), kT0 + minutes(6), 100, 0}).value();
  ASSERT_EQ(range.size(), 3u);
  EXPECT_EQ(range[0].run_uuid, "a5");
  EXPECT_EQ(range[2].run_uuid, "a3");
  auto exact = store_->History({kA, kT0 + minutes(3) + seconds(1), std::nullopt, 100, 0});
  EXPECT_EQ(exact.value().back().run_uuid, "a3");  // since is inclusive
  EXPECT_TRUE(store_->History({kA, std::nullopt, std::nullopt, 100, 50}).value().empty());
  EXPECT_TRUE(store_->History({CheckKey{"x", "y"}}).value().empty());
}

TEST_P(StoreTest, HistoryLimitIsCapped) {
  for (size_t i = 0; i < kMaxQueryLimit + 5; ++i) {
    store_->CommitRun(MakeRun(kA, "r" + std::to_string(i), kT0 + seconds(i), seconds(0), true),
                      CheckState{}, nullptr);
  }
  ASSERT_TRUE(CommitSync(*store_, MakeRun(kA, "last", kT0 + hours(1), seconds(0), true)).ok());
  auto runs = store_->History({kA, std::nullopt, std::nullopt, 1'000'000, 0}).value();
  EXPECT_EQ(runs.size(), kMaxQueryLimit);
}

TEST_P(StoreTest, EventsOpenExtendAndClose) {
  ASSERT_TRUE(CommitSync(*store_, MakeRun(kA, "1", kT0, seconds(1), true)).ok());
  EXPECT_FALSE(store_->OpenEvent(kA).value().has_value());
  ASSERT_TRUE(
      CommitSync(*store_, MakeRun(kA, "2", kT0 + minutes(1), seconds(1), false, {"first", "x"}))
          .ok());
  ASSERT_TRUE(
      CommitSync(*store_, MakeRun(kA, "3", kT0 + minutes(2), seconds(1), false, {"second"})).ok());
  auto open = store_->OpenEvent(kA).value();
  ASSERT_TRUE(open.has_value());
  EXPECT_EQ(open->key, kA);
  EXPECT_EQ(open->start, kT0 + minutes(1) + seconds(1));
  EXPECT_FALSE(open->end.has_value());
  EXPECT_EQ(open->first_error, "first");
  EXPECT_EQ(open->last_error, "second");
  EXPECT_EQ(open->failed_runs, 2);
  ASSERT_TRUE(CommitSync(*store_, MakeRun(kA, "4", kT0 + minutes(3), seconds(1), true)).ok());
  EXPECT_FALSE(store_->OpenEvent(kA).value().has_value());
  auto events = store_->Events(kA, std::nullopt, 10).value();
  ASSERT_EQ(events.size(), 1u);
  EXPECT_EQ(events[0].id, open->id);
  EXPECT_EQ(events[0].end, kT0 + minutes(3) + seconds(1));
  EXPECT_EQ(events[0].failed_runs, 2);
}

TEST_P(StoreTest, FlappingMakesSeparateEventsAndNeverRunIsNotDown) {
  EXPECT_FALSE(store_->OpenEvent(kB).value().has_value());
  for (int i = 0; i < 6; ++i) {
    ASSERT_TRUE(CommitSync(*store_, MakeRun(kA, std::to_string(i), kT0 + minutes(i), seconds(1),
                                            i % 2 == 1, {"e" + std::to_string(i)}))
                    .ok());
  }
  ASSERT_TRUE(CommitSync(*store_, MakeRun(kB, "b", kT0, seconds(1), false)).ok());
  auto a = store_->Events(kA, std::nullopt, 10).value();
  ASSERT_EQ(a.size(), 3u);
  EXPECT_GT(a[0].id, a[1].id);
  EXPECT_EQ(a[0].first_error, "e4");
  EXPECT_EQ(a[2].first_error, "e0");
  for (const auto& e : a) EXPECT_EQ(e.failed_runs, 1);
  auto all = store_->Events(std::nullopt, std::nullopt, 10).value();
  ASSERT_EQ(all.size(), 4u);
  EXPECT_EQ(all[0].key, kB);
  EXPECT_EQ(all[0].first_error, "");
  EXPECT_EQ(store_->Events(std::nullopt, std::nullopt, 2).value().size(), 2u);
  // since: those ended at or after it, and every open one.
  auto recent = store_->Events(std::nullopt, kT0 + minutes(3) + seconds(1), 10).value();
  ASSERT_EQ(recent.size(), 3u);
  EXPECT_EQ(recent[2].end, kT0 + minutes(3) + seconds(1));
}

TEST_P(StoreTest, DeleteStateKeepsHistoryAndEvents) {
  ASSERT_TRUE(CommitSync(*store_, MakeRun(kA, "1", kT0, seconds(1), false)).ok());
  ASSERT_TRUE(store_->DeleteState(kA).ok());
  EXPECT_EQ(store_->History({kA}).value().size(), 1u);
  EXPECT_TRUE(store_->OpenEvent(kA).value().has_value());
}

TEST_P(StoreTest, HeartbeatTokensAreSavedReplacedAndOutliveTheState) {
  EXPECT_TRUE(store_->LoadHeartbeatTokens().value().empty());
  ASSERT_TRUE(SaveTokenSync(*store_, kA, "token-a1").ok());
  ASSERT_TRUE(SaveTokenSync(*store_, kB, "token-b").ok());
  ASSERT_TRUE(SaveTokenSync(*store_, kA, "token-a2").ok());  // rotated
  ASSERT_TRUE(store_->SaveState(kA, CheckState{}).ok());
  ASSERT_TRUE(store_->DeleteState(kA).ok());
  const auto tokens = store_->LoadHeartbeatTokens();
  ASSERT_TRUE(tokens.ok()) << tokens.error();
  EXPECT_EQ(tokens.value(), (std::map<CheckKey, std::string>{{kA, "token-a2"}, {kB, "token-b"}}));
}

TEST_P(StoreTest, UptimeIsTimeWeighted) {
  // OK at t0, fails at t0+10m, OK again at t0+40m; now = t0+60m.
  const TimePoint s = kT0 - seconds(5);
  ASSERT_TRUE(CommitSync(*store_, MakeRun(kA, "1", s, seconds(5), true)).ok());
  ASSERT_TRUE(CommitSync(*store_, MakeRun(kA, "2", s + minutes(10), seconds(5), false)).ok());
  ASSERT_TRUE(CommitSync(*store_, MakeRun(kA, "3", s + minutes(20), seconds(5), false)).ok());
  ASSERT_TRUE(CommitSync(*store_, MakeRun(kA, "4", s + minutes(40), seconds(5), true)).ok());
  const auto u = store_->Uptime(kA, hours(1), kT0 + minutes(60)).value();
  EXPECT_EQ(u.window, hours(1));
  EXPECT_EQ(u.observed, hours(1));
  ASSERT_TRUE(u.uptime.has_value());
  EXPECT_DOUBLE_EQ(*u.uptime, 30.0 / 60.0);
  EXPECT_EQ(u.runs, 4);
  EXPECT_EQ(u.mean_duration, seconds(5));
  EXPECT_EQ(u.p95_duration, seconds(5));
  // Half an hour: [t0+30m, t0+60m]: 10m failing (state of run 3), then 20m OK; 1 run.
  const auto half = store_->Uptime(kA, minutes(30), kT0 + minutes(60)).value();
  EXPECT_DOUBLE_EQ(*half.uptime, 20.0 / 30.0);
  EXPECT_EQ(half.runs, 1);
}

TEST_P(StoreTest, UptimeOfUnknownOrUnobservedCheckIsEmpty) {
  auto none = store_->Uptime(kB, hours(1), kT0).value();
  EXPECT_FALSE(none.uptime.has_value());
  EXPECT_EQ(none.runs, 0);
  EXPECT_FALSE(none.mean_duration.has_value());
  ASSERT_TRUE(CommitSync(*store_, MakeRun(kA, "1", kT0, seconds(1), true)).ok());
  // A window that ends before the first run observes nothing.
  auto before = store_->Uptime(kA, hours(1), kT0).value();
  EXPECT_FALSE(before.uptime.has_value());
  EXPECT_EQ(before.observed, Duration::zero());
}

TEST_P(StoreTest, OutOfOrderRunTakesEffectAtPreviousPoint) {
  ASSERT_TRUE(CommitSync(*store_, MakeRun(kA, "1", kT0, seconds(0), true)).ok());
  ASSERT_TRUE(CommitSync(*store_, MakeRun(kA, "2", kT0 - minutes(5), seconds(0), false)).ok());
  auto open = store_->OpenEvent(kA).value();
  ASSERT_TRUE(open.has_value());
  EXPECT_EQ(open->start, kT0);
  auto u = store_->Uptime(kA, hours(1), kT0 + minutes(10)).value();
  EXPECT_EQ(u.observed, minutes(10));
  EXPECT_DOUBLE_EQ(*u.uptime, 0.0);
  // History keeps the run as given.
  EXPECT_EQ(store_->History({kA}).value()[1].finished, kT0 - minutes(5));
}

TEST_P(StoreTest, ConcurrentCommitsAreAllAcknowledgedAndStored) {
  constexpr int kThreads = 4;
  constexpr int kRuns = 100;
  std::atomic<int> acked{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      const CheckKey key{"ns", "c" + std::to_string(t)};
      for (int i = 0; i < kRuns; ++i) {
        store_->CommitRun(MakeRun(key, std::to_string(t) + "-" + std::to_string(i),
                                  kT0 + seconds(i), seconds(0), i % 3 != 0),
                          CheckState{}, [&](Status s) {
                            if (s.ok()) ++acked;
                          });
      }
    });
  }
  for (auto& th : threads) th.join();
  WaitFor([&] { return acked.load() == kThreads * kRuns; });
  ASSERT_EQ(acked.load(), kThreads * kRuns);
  for (int t = 0; t < kThreads; ++t) {
    const CheckKey key{"ns", "c" + std::to_string(t)};
    EXPECT_EQ(store_->History({key, std::nullopt, std::nullopt, 1000, 0}).value().size(),
              static_cast<size_t>(kRuns));
  }
}

struct SegmentCase {
  const char* name;
  Duration segment;
  size_t count;
  // Expected per segment: observed and OK minutes, runs.
  std::vector<std::tuple<int, int, int>> want;
};

TEST_P(StoreTest, UptimeSegmentsMatchTheTimeline) {
  // Hour-aligned: OK at +10m, fails at +70m and +100m, OK at +130m and +200m; now = +230m.
  const TimePoint h = BucketStart(kT0, hours(1));
  const std::vector<std::pair<int, bool>> runs = {
      {10, true}, {70, false}, {100, false}, {130, true}, {200, true}};
  for (const auto& [at, ok] : runs) {
    const RunRecord r =
        MakeRun(kA, std::to_string(at), h + minutes(at) - seconds(5), seconds(5), ok,
                ok ? std::vector<std::string>{} : std::vector<std::string>{"x"});
    ASSERT_TRUE(CommitSync(*store_, r).ok());
  }
  const TimePoint now = h + minutes(230);
  const SegmentCase cases[] = {
      {"hours", hours(1), 5, {{50, 50, 1}, {60, 10, 2}, {60, 50, 1}, {50, 50, 1}, {0, 0, 0}}},
      {"two hours", hours(2), 2, {{110, 60, 3}, {110, 100, 2}}},
      {"half hours (no roll-up)", minutes(30), 3, {{20, 20, 1}, {30, 30, 0}, {30, 10, 1}}},
  };
  for (const SegmentCase& c : cases) {
    SCOPED_TRACE(c.name);
    auto got = store_->UptimeSegments(kA, h, c.segment, c.count, now);
    ASSERT_TRUE(got.ok()) << got.error();
    ASSERT_EQ(got.value().size(), c.count);
    for (size_t i = 0; i < c.count; ++i) {
      SCOPED_TRACE(i);
      const auto& [observed, ok, n] = c.want[i];
      const UptimeSegment& seg = got.value()[i];
      EXPECT_NEAR(std::chrono::duration<double>(seg.observed).count(), observed * 60.0, 1e-3);
      EXPECT_NEAR(std::chrono::duration<double>(seg.ok).count(), ok * 60.0, 1e-3);
      EXPECT_EQ(seg.runs, n);
      EXPECT_NEAR(std::chrono::duration<double>(seg.duration_sum).count(), n * 5.0, 1e-3);
    }
  }
  // A check with no runs: every segment empty.
  auto none = store_->UptimeSegments(kB, h, hours(1), 3, now);
  ASSERT_TRUE(none.ok());
  EXPECT_EQ(none.value(), std::vector<UptimeSegment>(3));
}

std::vector<Backend> Backends() {
  return {
      {"memory",
       [](const std::string&, const Clock&) -> std::unique_ptr<Store> {
         return std::make_unique<MemoryStore>();
       }},
      {"sqlite",
       [](const std::string& dir, const Clock& clock) -> std::unique_ptr<Store> {
         SqliteOptions options;
         options.clock = &clock;
         auto store = SqliteStore::Open(dir, options);
         EXPECT_TRUE(store.ok()) << store.error();
         return store.ok() ? std::move(store.value()) : nullptr;
       }},
  };
}

INSTANTIATE_TEST_SUITE_P(AllStores, StoreTest, ::testing::ValuesIn(Backends()),
                         [](const auto& param_info) { return std::string(param_info.param.name); });

}  // namespace
}  // namespace sonde
