// StatusPageCache: after any sequence of changes its bodies (v2 and v3, with and without a
// namespace filter) are byte-identical to a full RenderStatusV2/V3 of the same snapshot, it
// renders again only the checks that changed, and it returns the previous body while nothing
// changed. The cache sees a changed state by its version (CheckView::state_version), as the
// engine stamps it: World stamps every change it makes the same way.
#include "contract/status_page_cache.hpp"

#include <gtest/gtest.h>

#include <functional>
#include <random>

namespace sonde {
namespace {

using std::chrono::minutes;
using std::chrono::seconds;

const TimePoint kT = FromUnixSeconds(1614578889) + std::chrono::nanoseconds(357930490);

struct World {
  StatusSnapshot snap;
  std::set<std::string> namespaces;
  uint64_t versions = kDefaultStateVersion;

  World() {
    snap.instance = "sonde-host";
    snap.metadata = {{"cluster", "lab"}};
    Add("kuberhealthy", "dns", CheckKind::kKhCheck, true);
    Add("default", "dns", CheckKind::kHealthCheck, true);
    Report("dns", false, {"lookup: no such host", "<html> & \"quotes\""}, "default");
    Add("default", "never", CheckKind::kKhCheck, false);
    Add("default", "migrate", CheckKind::kKhJob, true);
  }
  CheckView& Check(const std::string& name, const std::string& ns = "") {
    for (CheckView& c : snap.checks) {
      if (c.spec->key.name == name && (ns.empty() || c.spec->key.ns == ns)) return c;
    }
    throw std::runtime_error("no check " + name);
  }
  // The check's state, to be changed: a new version, as the engine's ChangeState gives.
  CheckState& State(CheckView& c) {
    c.state_version = ++versions;
    return c.state;
  }
  CheckState& State(const std::string& name) { return State(Check(name)); }
  // A changed spec is a new object, as the engine's reload makes it.
  CheckSpec& EditSpec(const std::string& name) {
    CheckView& c = Check(name);
    auto copy = std::make_shared<CheckSpec>(*c.spec);
    c.spec = copy;
    return *copy;
  }
  // Keeps the snapshot in key order, as the engine makes it.
  void Add(const std::string& ns, const std::string& name, CheckKind kind, bool with_result) {
    auto spec = std::make_shared<CheckSpec>();
    spec->key = {ns, name};
    spec->kind = kind;
    spec->run_interval = minutes(10);
    spec->timeout = minutes(5);
    CheckView c{spec, {}, kT + minutes(10)};
    c.state_version = kDefaultStateVersion;
    auto at =
        std::lower_bound(snap.checks.begin(), snap.checks.end(), spec->key,
                         [](const CheckView& v, const CheckKey& k) { return v.spec->key < k; });
    at = snap.checks.insert(at, std::move(c));
    if (with_result) Report(name, true, {}, ns);
  }
  void Remove(std::string name) {  // a copy: callers pass a name from the check removed
    std::erase_if(snap.checks, [&](const CheckView& c) { return c.spec->key.name == name; });
  }
  void Report(const std::string& name, bool ok, std::vector<std::string> errors = {},
              const std::string& ns = "") {
    CheckState& s = State(Check(name, ns));
    s.ok = ok;
    s.errors = std::move(errors);
    s.last_run = kT;
    s.last_run_start = kT - seconds(3);
    (ok ? s.last_ok : s.last_failure) = kT;
    ++(ok ? s.success_count : s.failure_count);
    s.consecutive_failures = ok ? 0 : s.consecutive_failures + 1;
    s.run_duration = seconds(7);
    s.authoritative_pod = "sonde-host";
    s.run_uuid = "run-" + std::to_string(s.success_count + s.failure_count);
  }
};

struct Step {
  const char* what;
  std::function<void(World&)> change;
  // Checks the v3 cache must render again (v2 renders the same ones); -1: do not check.
  int rendered;
  bool reused;                                   // the previous body comes back
  std::optional<bool> v2_reused = std::nullopt;  // when v2's differs (it shows no next run)
};

const Step kSteps[] = {
    {"first request renders every check", [](World&) {}, 4, false},
    {"nothing changed: the same body", [](World&) {}, 0, true},
    {"a check reports OK", [](World& w) { w.Report("never", true); }, 1, false},
    {"a check fails with quotes, a backslash, a newline and a blank error",
     [](World& w) {
       w.Report("dns", false, {"say \"hi\"\\", "line\nbreak", "  "}, "kuberhealthy");
     },
     1, false},
    {"a failing check recovers", [](World& w) { w.Report("dns", true, {}, "default"); }, 1, false},
    {"OK with an error (v2 fails the page, v3 does not)",
     [](World& w) { w.Report("never", true, {"odd but allowed"}); }, 1, false},
    {"a run starts (current_uuid)", [](World& w) { w.State("migrate").current_uuid = "run-9"; }, 1,
     false},
    {"a new run of the same length (the same size, other bytes)",
     [](World& w) { w.State("migrate").current_uuid = "run-8"; }, 1, false},
    {"a state changed to the same contents (a new version): rendered, the same bytes",
     [](World& w) { w.State("migrate"); }, 1, false},
    {"the next run moves (v3 shows it)",
     [](World& w) { w.Check("migrate").next_run = kT + minutes(20); }, 1, false, true},
    {"a check is added", [](World& w) { w.Add("zz", "added", CheckKind::kKhCheck, true); }, 1,
     false},
    {"a check without a result is added",
     [](World& w) { w.Add("aa", "pending", CheckKind::kKhCheck, false); }, 1, false},
    {"a job is added", [](World& w) { w.Add("default", "job2", CheckKind::kKhJob, true); }, 1,
     false},
    {"a check is removed", [](World& w) { w.Remove("never"); }, 0, false},
    {"a check is renamed",
     [](World& w) {
       w.Remove("added");
       w.Add("zz", "added-renamed", CheckKind::kKhCheck, true);
     },
     1, false},
    {"a spec changes its interval",
     [](World& w) { w.EditSpec("pending").run_interval = minutes(3); }, 1, false},
    {"a load error", [](World& w) { w.snap.load_errors = {"bad.yaml: \"x\""}; }, 0, false},
    {"the instance and metadata change",
     [](World& w) {
       w.snap.instance = "other";
       w.snap.metadata["region"] = "eu";
     },
     0, false},
    {"a namespace filter", [](World& w) { w.namespaces = {"default"}; }, 0, false},
    {"the same filter again", [](World&) {}, 0, true},
    {"a filter with no check", [](World& w) { w.namespaces = {"none"}; }, 0, false},
    {"no filter, load errors gone",
     [](World& w) {
       w.namespaces.clear();
       w.snap.load_errors.clear();
     },
     0, false},
    {"every check removed", [](World& w) { w.snap.checks.clear(); }, 0, false},
    {"nothing again", [](World&) {}, 0, true},
    {"checks again", [](World& w) { w = World(); }, 4, false},
};

TEST(StatusPageCache, BodiesAreByteIdenticalToAFullRenderAfterEveryChange) {
  World w;
  StatusPageCache v2(/*v3=*/false);
  StatusPageCache v3(/*v3=*/true);
  for (const Step& step : kSteps) {
    SCOPED_TRACE(step.what);
    step.change(w);
    const std::shared_ptr<const std::string> before = v3.Render(w.snap, w.namespaces);
    ASSERT_EQ(*v2.Render(w.snap, w.namespaces), RenderStatusV2(w.snap, w.namespaces));
    ASSERT_EQ(*before, RenderStatusV3(w.snap, w.namespaces));
    if (step.rendered >= 0) {
      EXPECT_EQ(v3.last_rendered(), static_cast<size_t>(step.rendered));
    }
    EXPECT_EQ(v3.last_reused(), step.reused);
    EXPECT_EQ(v2.last_reused(), step.v2_reused.value_or(step.reused));
    // Asking again with nothing changed returns the very same body.
    EXPECT_EQ(v3.Render(w.snap, w.namespaces), before);
    EXPECT_TRUE(v3.last_reused());
  }
}

// Many checks, random changes of every kind between requests (a fixed seed: reproducible).
TEST(StatusPageCache, RandomChangesOverManyRequestsStayIdentical) {
  World w;
  for (int i = 0; i < 300; ++i) {
    w.Add("ns" + std::to_string(i % 7), "c" + std::to_string(i),
          i % 11 == 0 ? CheckKind::kKhJob : CheckKind::kKhCheck, i % 3 != 0);
  }
  std::mt19937 rng(7);
  auto pick = [&]() -> CheckView& { return w.snap.checks[rng() % w.snap.checks.size()]; };
  StatusPageCache v2(false);
  StatusPageCache v3(true);
  int added = 0;
  for (int round = 0; round < 60; ++round) {
    SCOPED_TRACE("round " + std::to_string(round));
    const int changes = static_cast<int>(rng() % 20);
    for (int i = 0; i < changes; ++i) {
      CheckView& c = pick();
      switch (rng() % 7) {
        case 0:
          w.Report(c.spec->key.name, rng() % 2, {"e" + std::to_string(rng() % 5)}, c.spec->key.ns);
          break;
        case 1:
          w.Add("ns" + std::to_string(rng() % 9), "new" + std::to_string(added++),
                rng() % 4 ? CheckKind::kKhCheck : CheckKind::kKhJob, rng() % 2);
          break;
        case 2:
          if (w.snap.checks.size() > 10) {
            const CheckKey key = c.spec->key;
            std::erase_if(w.snap.checks, [&](const CheckView& v) { return v.spec->key == key; });
          }
          break;
        case 3:
          c.next_run = kT + seconds(rng() % 1000);
          break;
        case 4:
          w.State(c).current_uuid = rng() % 2 ? "running" : "";
          break;
        case 5:  // the same size, other bytes
          w.State(c).run_uuid = "run-" + std::to_string(rng() % 10);
          break;
        default:
          w.EditSpec(c.spec->key.name).timeout = seconds(1 + rng() % 60);
      }
    }
    w.namespaces.clear();
    if (rng() % 4 == 0) w.namespaces = {"ns" + std::to_string(rng() % 9), "ns1"};
    ASSERT_EQ(*v2.Render(w.snap, w.namespaces), RenderStatusV2(w.snap, w.namespaces));
    ASSERT_EQ(*v3.Render(w.snap, w.namespaces), RenderStatusV3(w.snap, w.namespaces));
  }
}

// A snapshot not in key order (the renderers accept any order) gives the same bytes.
TEST(StatusPageCache, UnsortedSnapshot) {
  World w;
  std::reverse(w.snap.checks.begin(), w.snap.checks.end());
  StatusPageCache v3(true);
  EXPECT_EQ(*v3.Render(w.snap, {}), RenderStatusV3(w.snap, {}));
}

TEST(StatusPageCache, ClearFreesEverythingAndTheNextRenderRebuilds) {
  World w;
  StatusPageCache cache(true);
  EXPECT_EQ(cache.MemoryBytes(), 0u);
  const std::string first = *cache.Render(w.snap, {});
  EXPECT_EQ(cache.checks(), 4u);
  EXPECT_GT(cache.MemoryBytes(), first.size()) << "the body (the kept text) and the entries";
  cache.Clear();
  EXPECT_EQ(cache.checks(), 0u);
  EXPECT_EQ(cache.MemoryBytes(), 0u);
  EXPECT_EQ(*cache.Render(w.snap, {}), first);
  EXPECT_EQ(cache.last_rendered(), 4u);
}

// Checks whose state is not tracked (version 0) are rendered at every request; tracked ones
// only when their version moves, whatever their state's bytes.
TEST(StatusPageCache, VersionsDecideWhatIsRenderedAgain) {
  World w;
  StatusPageCache cache(true);
  cache.Render(w.snap, {});
  w.Check("migrate").state_version = 0;
  for (int i = 0; i < 2; ++i) {
    w.Check("migrate").state.run_uuid = "untracked-" + std::to_string(i);
    EXPECT_EQ(*cache.Render(w.snap, {}), RenderStatusV3(w.snap, {}));
    EXPECT_EQ(cache.last_rendered(), 1u);
    EXPECT_FALSE(cache.last_reused());
  }
  w.State("migrate").run_uuid = "tracked";
  EXPECT_EQ(*cache.Render(w.snap, {}), RenderStatusV3(w.snap, {}));
  EXPECT_EQ(cache.last_rendered(), 1u);
  // Only the version is compared: a state changed behind the cache's back (the engine never
  // does) keeps the text rendered for its version.
  const std::string kept = *cache.Render(w.snap, {});
  EXPECT_TRUE(cache.last_reused());
  w.Check("migrate").state.run_uuid = "behind";
  EXPECT_EQ(*cache.Render(w.snap, {}), kept);
  EXPECT_EQ(cache.last_rendered(), 0u);
}

// A filtered request leaves the kept text alone: checks it renders are rendered again by the
// next unfiltered one, the others are not.
TEST(StatusPageCache, FilteredRequestsKeepTheUnfilteredText) {
  World w;
  StatusPageCache cache(true);
  cache.Render(w.snap, {});
  w.Report("dns", false, {"x"}, "kuberhealthy");
  w.Report("dns", true, {}, "default");
  const std::set<std::string> only{"default"};
  EXPECT_EQ(*cache.Render(w.snap, only), RenderStatusV3(w.snap, only));
  EXPECT_EQ(cache.last_rendered(), 1u);
  EXPECT_EQ(*cache.Render(w.snap, only), RenderStatusV3(w.snap, only));
  EXPECT_EQ(cache.last_rendered(), 1u) << "not kept: rendered again";
  EXPECT_EQ(*cache.Render(w.snap, {}), RenderStatusV3(w.snap, {}));
  EXPECT_EQ(cache.last_rendered(), 2u);
  EXPECT_EQ(*cache.Render(w.snap, only), RenderStatusV3(w.snap, only));
  EXPECT_EQ(cache.last_rendered(), 0u);
}

}  // namespace
}  // namespace sonde
