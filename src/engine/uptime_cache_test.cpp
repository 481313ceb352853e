// UptimeCache: answers from the store, reuses them until they expire, drops removed checks.
#include "engine/uptime_cache.hpp"

#include <gtest/gtest.h>

#include "store/memory_store.hpp"

namespace sonde {
namespace {

using std::chrono::minutes;
using std::chrono::seconds;

const TimePoint kT0 = FromUnixSeconds(1'800'000'000);
const CheckKey kA{"ns", "a"};

void Record(MemoryStore& store, const std::string& uuid, TimePoint at, bool ok) {
  RunRecord r{kA,       uuid,  at - seconds(1),
              at,       ok,    ok ? std::vector<std::string>{} : std::vector<std::string>{"down"},
              "report", "test"};
  CheckState s;
  s.ok = ok;
  s.last_run = at;
  bool done = false;
  store.CommitRun(r, s, [&](Status st) {
    EXPECT_TRUE(st.ok());
    done = true;
  });
  ASSERT_TRUE(done);
}

TEST(UptimeCache, ReusesAnAnswerUntilItExpires) {
  MemoryStore store;
  Record(store, "1", kT0, true);
  UptimeCache cache(store, seconds(30));
  const TimePoint t1 = kT0 + minutes(1);
  ASSERT_TRUE(cache.Get(kA, t1)[0].has_value());
  EXPECT_DOUBLE_EQ(*cache.Get(kA, t1)[0], 1.0);

  Record(store, "2", t1 + seconds(1), false);
  // Within max_age the earlier answer stands...
  EXPECT_DOUBLE_EQ(*cache.Get(kA, t1 + seconds(20))[0], 1.0);
  // ...and after at most twice max_age the store is asked again.
  const double later = *cache.Get(kA, t1 + seconds(61))[0];
  EXPECT_LT(later, 1.0);
}

TEST(UptimeCache, UnknownCheckHasNoRatiosAndRemovedChecksAreDropped) {
  MemoryStore store;
  UptimeCache cache(store, seconds(30));
  for (const auto& r : cache.Get({"ns", "never"}, kT0)) EXPECT_FALSE(r.has_value());
  Record(store, "1", kT0, true);
  cache.Get(kA, kT0);                       // cached with the run's answer
  cache.Retain(std::map<CheckKey, int>{});  // kA was removed
  Record(store, "2", kT0 + seconds(1), false);
  EXPECT_LT(*cache.Get(kA, kT0 + seconds(2))[0], 1.0) << "a dropped entry is asked afresh";
}

}  // namespace
}  // namespace sonde
