// UptimeCache: answers from the store, reuses them until they expire or the check has a new
// result, drops removed checks.
#include "engine/uptime_cache.hpp"

#include <gtest/gtest.h>

#include <map>
#include <set>
#include <vector>

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
  ASSERT_TRUE(cache.Get(kA, t1, kT0)[0].has_value());
  EXPECT_DOUBLE_EQ(*cache.Get(kA, t1, kT0)[0], 1.0);

  // A run the caller has not seen committed yet (its last result is still kT0)...
  Record(store, "2", t1 + seconds(1), false);
  // ...changes nothing within max_age...
  EXPECT_DOUBLE_EQ(*cache.Get(kA, t1 + seconds(20), kT0)[0], 1.0);
  // ...and after at most twice max_age the store is asked again.
  const double later = *cache.Get(kA, t1 + seconds(61), kT0)[0];
  EXPECT_LT(later, 1.0);
}

TEST(UptimeCache, UnknownCheckHasNoRatiosAndRemovedChecksAreDropped) {
  MemoryStore store;
  UptimeCache cache(store, seconds(30));
  for (const auto& r : cache.Get({"ns", "never"}, kT0, std::nullopt)) EXPECT_FALSE(r.has_value());
  Record(store, "1", kT0, true);
  cache.Get(kA, kT0, kT0);                  // cached with the run's answer
  cache.Retain(std::map<CheckKey, int>{});  // kA was removed
  Record(store, "2", kT0 + seconds(1), false);
  EXPECT_LT(*cache.Get(kA, kT0 + seconds(2), kT0)[0], 1.0) << "a dropped entry is asked afresh";
}

// The entry of a check whose committed state changed is asked afresh at once, however young:
// a check's first result used to show no uptime until its "nothing observed" entry expired.
TEST(UptimeCache, ANewResultRefreshesTheEntryAtOnce) {
  struct Case {
    const char* what;
    std::optional<TimePoint> cached_after;  // the check's last result when the entry was made
    bool ok;                                // the new result
    std::optional<double> want_1h;
  };
  const Case cases[] = {
      {"first result after nothing observed", std::nullopt, true, 1.0},
      {"first result, failing", std::nullopt, false, 0.0},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.what);
    MemoryStore store;
    UptimeCache cache(store, seconds(30));
    EXPECT_FALSE(cache.Get(kA, kT0, c.cached_after)[0].has_value()) << "nothing observed yet";
    const TimePoint at = kT0 + seconds(1);
    Record(store, "1", at, c.ok);
    const TimePoint soon = at + seconds(1);  // far within max_age
    EXPECT_FALSE(cache.Get(kA, soon, c.cached_after)[0].has_value())
        << "the same committed state keeps the entry";
    const auto ratio = cache.Get(kA, soon, at)[0];
    ASSERT_EQ(ratio.has_value(), c.want_1h.has_value());
    EXPECT_DOUBLE_EQ(*ratio, *c.want_1h);
  }
}

// The version moves exactly when the entry is computed again: /metrics keeps each check's
// uptime between scrapes and rebuilds it only then.
TEST(UptimeCache, VersionMovesOnlyWhenTheEntryIsComputedAgain) {
  MemoryStore store;
  Record(store, "1", kT0, true);
  UptimeCache cache(store, seconds(30));
  const CheckKey kB{"ns", "b"};
  struct Ask {
    const char* what;
    CheckKey key;
    TimePoint now;
    std::optional<TimePoint> last_result;
    bool moves;
  };
  const Ask asks[] = {
      {"first", kA, kT0, kT0, true},
      {"again", kA, kT0 + seconds(10), kT0, false},
      {"another check", kB, kT0, std::nullopt, true},
      {"the first, unchanged by the other", kA, kT0 + seconds(11), kT0, false},
      {"a new result", kA, kT0 + seconds(12), kT0 + seconds(12), true},
      {"expired", kA, kT0 + minutes(2), kT0 + seconds(12), true},
      {"the other, expired too", kB, kT0 + minutes(2), std::nullopt, true},
  };
  std::map<CheckKey, uint64_t> last;
  std::set<uint64_t> seen;
  for (const Ask& a : asks) {
    SCOPED_TRACE(a.what);
    const uint64_t v = cache.GetVersioned(a.key, a.now, a.last_result).second;
    EXPECT_NE(v, 0u);
    EXPECT_EQ(v != last[a.key], a.moves);
    if (a.moves) {
      EXPECT_TRUE(seen.insert(v).second) << "a version is never given twice";
    }
    last[a.key] = v;
  }
}

// Callers ask in key order, and the cache tries the entry after the last one before searching:
// whatever the order of the asks (and after checks are dropped), each key must get its own
// entry, the same one each time while it is young.
TEST(UptimeCache, EachKeyGetsItsOwnEntryInAnyOrder) {
  MemoryStore store;
  Record(store, "1", kT0, true);  // only kA ("ns/a") has a run
  UptimeCache cache(store, seconds(30));
  const std::vector<CheckKey> keys = {kA, {"ns", "b"}, {"ns", "c"}, {"ns", "d"}, {"ot", "a"}};
  std::map<CheckKey, uint64_t> version;
  const TimePoint t = kT0 + minutes(1);
  for (const CheckKey& k : keys) version[k] = cache.GetVersioned(k, t, std::nullopt).second;
  struct Pass {
    const char* what;
    std::vector<size_t> order;  // indexes into keys
  };
  const Pass passes[] = {
      {"key order", {0, 1, 2, 3, 4}},    {"reverse", {4, 3, 2, 1, 0}},
      {"skipping", {0, 2, 4, 1, 3}},     {"one key twice", {1, 1, 2, 2, 0}},
      {"last then first", {4, 0, 1, 4}},
  };
  for (const Pass& pass : passes) {
    SCOPED_TRACE(pass.what);
    for (size_t i : pass.order) {
      const auto [ratios, v] = cache.GetVersioned(keys[i], t + seconds(1), std::nullopt);
      EXPECT_EQ(v, version[keys[i]]) << keys[i].str();
      EXPECT_EQ(ratios[0].has_value(), i == 0) << keys[i].str();
    }
  }
  // Dropping b and d: the others keep their entries, the dropped ones are computed afresh.
  cache.Retain(std::set<CheckKey>{keys[0], keys[2], keys[4]});
  for (size_t i = 0; i < keys.size(); ++i) {
    const uint64_t v = cache.GetVersioned(keys[i], t + seconds(2), std::nullopt).second;
    EXPECT_EQ(v == version[keys[i]], i % 2 == 0) << keys[i].str();
  }
}

}  // namespace
}  // namespace sonde
