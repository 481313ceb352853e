// MetricsCache: after any sequence of changes its body is byte-identical to a full RenderMetrics
// of the same inputs, and it renders again only the checks that changed. The cache sees a changed
// state by its version (CheckView::state_version), as the engine stamps it: World stamps every
// change it makes the same way.
#include "metrics/metrics_cache.hpp"

#include <gtest/gtest.h>

#include <functional>
#include <random>

#include "metrics/metrics_test_support.hpp"

namespace sonde {
namespace {

using std::chrono::minutes;
using std::chrono::seconds;

// Everything a scrape renders from, as the daemon would hold it.
struct World {
  StatusSnapshot snap = metrics_test::SampleSnapshot();
  SondeMetrics own = metrics_test::SampleOwnMetrics();
  UptimeByCheck uptime = metrics_test::SampleUptime();
  TimePoint now = metrics_test::SampleNow();
  ExpositionFormat format = ExpositionFormat::kText004;
  std::vector<Family> extra;
  uint64_t versions = kDefaultStateVersion;

  World() {
    for (CheckView& c : snap.checks) c.state_version = ++versions;
  }
  // The check's state, to be changed: a new version, as the engine's ChangeState gives.
  CheckState& State(CheckView& c) {
    c.state_version = ++versions;
    return c.state;
  }
  CheckView& Check(const std::string& name) {
    for (CheckView& c : snap.checks) {
      if (c.spec->key.name == name) return c;
    }
    throw std::runtime_error("no check " + name);
  }
  // A changed spec is a new object, as the engine's reload makes it.
  CheckSpec& EditSpec(std::string name) {
    CheckView& c = Check(name);
    auto copy = std::make_shared<CheckSpec>(*c.spec);
    c.spec = copy;
    return *copy;
  }
  void Add(const std::string& ns, const std::string& name, bool with_result) {
    auto spec = std::make_shared<CheckSpec>();
    spec->key = {ns, name};
    spec->run_interval = minutes(1);
    spec->timeout = seconds(30);
    CheckView c{spec, {}, {}};
    c.state_version = ++versions;
    if (with_result) {
      c.state.ok = true;
      c.state.last_run = now;
      c.state.last_ok = now;
      c.state.success_count = 1;
    }
    snap.checks.push_back(std::move(c));
  }
  void Remove(std::string name) {  // a copy: callers pass a name from the check removed
    std::erase_if(snap.checks, [&](const CheckView& c) { return c.spec->key.name == name; });
  }
  void Report(const std::string& name, bool ok, std::vector<std::string> errors = {}) {
    CheckState& s = State(Check(name));
    s.ok = ok;
    s.errors = std::move(errors);
    s.last_run = now;
    (ok ? s.last_ok : s.last_failure) = now;
    ++(ok ? s.success_count : s.failure_count);
    s.consecutive_failures = ok ? 0 : s.consecutive_failures + 1;
    s.run_duration = seconds(7);
  }
};

struct Step {
  const char* what;
  std::function<void(World&)> change;
  // Checks the cache must render again; -1: do not check (the format or the fallback changed).
  int rendered;
};

const Step kSteps[] = {
    {"first scrape renders every check", [](World&) {}, 4},
    {"nothing changed", [](World&) {}, 0},
    {"time passes: seconds_since_success moves, nothing is rendered again",
     [](World& w) { w.now += minutes(7) + std::chrono::milliseconds(123); }, 0},
    {"a check reports OK", [](World& w) { w.Report("db-replica", true); }, 1},
    {"a check fails with quotes, a backslash and a newline",
     [](World& w) {
       w.Report("dns-status-internal", false, {"say \"hi\"\\", "line\nbreak"});
     },
     1},
    {"a never-run check gets its first result", [](World& w) { w.Report("new-check", true); }, 1},
    {"a run starts (current_uuid)",
     [](World& w) { w.State(w.Check("migrate-once")).current_uuid = "run-2"; }, 1},
    {"the last OK moves by a second (the same size, another value)",
     [](World& w) { *w.State(w.Check("db-replica")).last_ok -= seconds(1); }, 1},
    {"a check is added", [](World& w) { w.Add("zz", "added", true); }, 1},
    {"a check without a result is added", [](World& w) { w.Add("aa", "pending", false); }, 1},
    {"a check is removed", [](World& w) { w.Remove("db-replica"); }, 0},
    {"a check is renamed",
     [](World& w) {
       w.Remove("added");
       w.Add("zz", "added-renamed", true);
     },
     1},
    {"a spec changes its interval and labels",
     [](World& w) {
       CheckSpec& s = w.EditSpec("new-check");
       s.run_interval = minutes(3);
       (*s.extra_labels)["kuberhealthy.io/severity"] = "warning";
     },
     1},
    {"own per-check series: a run finishes, a heartbeat report, a certificate",
     [](World& w) {
       w.own.RunFinished({"default", "new-check"}, RunOutcome::kOk, seconds(3));
       w.own.HeartbeatReport({"zz", "added-renamed"}, "stored");
       w.own.CertificateExpiry({"aa", "pending"}, FromUnixSeconds(1'900'000'000));
     },
     3},
    {"own shared series change (HTTP counters, scheduler loop)",
     [](World& w) {
       w.own.HttpAnswered("/metrics", 200);
       w.own.SchedulerLoop(std::chrono::milliseconds(3), 5);
     },
     0},
    {"a certificate is forgotten and a check's series dropped",
     [](World& w) {
       w.own.CertificateExpiry({"aa", "pending"}, std::nullopt);
       w.own.ForgetCheck({"default", "new-check"});
     },
     2},
    {"uptime refreshes for one check and appears for another",
     [](World& w) {
       w.uptime[{"kuberhealthy", "dns-status-internal"}].ratio_by_window["1h"] = 0.5;
       w.uptime[{"zz", "added-renamed"}] = {{{"1h", 1.0}}, false};
     },
     2},
    {"uptime goes",
     [](World& w) {
       w.uptime.erase({"zz", "added-renamed"});
     },
     1},
    {"a load error turns the cluster state", [](World& w) { w.snap.load_errors = {"bad.yaml"}; },
     0},
    {"leadership and instance change",
     [](World& w) {
       w.snap.leader = false;
       w.snap.instance = "other";
     },
     0},
    {"the operator's families",
     [](World& w) {
       w.extra.push_back(
           Family{"sonde_kube_x_total", MetricType::kCounter, "x", {{{}, 3, {}, {}}}});
     },
     0},
    {"OpenMetrics", [](World& w) { w.format = ExpositionFormat::kOpenMetrics100; }, -1},
    {"OpenMetrics, time passes", [](World& w) { w.now += seconds(1); }, 0},
    {"back to text", [](World& w) { w.format = ExpositionFormat::kText004; }, -1},
    {"every check removed", [](World& w) { w.snap.checks.clear(); }, 0},
    {"checks again", [](World& w) { w.snap = metrics_test::SampleSnapshot(); }, 4},
    {"two checks share a `check` label (a '/' in a namespace): full render",
     [](World& w) {
       w.Add("default/db", "x", true);
       w.Add("default", "db/x", true);
     },
     -1},
    {"and apart again", [](World& w) { w.Remove("db/x"); }, -1},
};

TEST(MetricsCache, BodyIsByteIdenticalToAFullRenderAfterEveryChange) {
  World w;
  MetricsCache cache(MetricsOptions{});
  for (const Step& step : kSteps) {
    SCOPED_TRACE(step.what);
    step.change(w);
    const std::string want =
        RenderMetrics(w.snap, w.own, MetricsOptions{}, w.format, w.now, w.uptime, w.extra);
    const std::string got = cache.Render(w.snap, w.own, w.format, w.now, w.uptime, w.extra);
    ASSERT_EQ(got, want);
    if (step.rendered >= 0) {
      EXPECT_EQ(cache.last_rendered(), static_cast<size_t>(step.rendered));
    }
  }
}

// Many checks, random changes of every kind at every scrape (a fixed seed: reproducible).
TEST(MetricsCache, RandomChangesOverManyScrapesStayIdentical) {
  World w;
  for (int i = 0; i < 300; ++i) w.Add("ns" + std::to_string(i % 7), "c" + std::to_string(i), i % 3);
  std::mt19937 rng(7);
  auto pick = [&]() -> CheckView& { return w.snap.checks[rng() % w.snap.checks.size()]; };
  MetricsCache cache(MetricsOptions{});
  int added = 0;
  for (int round = 0; round < 40; ++round) {
    SCOPED_TRACE("round " + std::to_string(round));
    const int changes = static_cast<int>(rng() % 20);
    for (int i = 0; i < changes; ++i) {
      switch (rng() % 8) {
        case 0:
          w.Report(pick().spec->key.name, rng() % 2, {"e" + std::to_string(rng() % 5)});
          break;
        case 1:
          w.Add("ns" + std::to_string(rng() % 9), "new" + std::to_string(added++), rng() % 2);
          break;
        case 2:
          if (w.snap.checks.size() > 10) w.Remove(pick().spec->key.name);
          break;
        case 3:
          w.own.RunFinished(pick().spec->key, RunOutcome::kOk, seconds(rng() % 100));
          break;
        case 4:
          w.uptime[pick().spec->key] = {{{"1h", (rng() % 100) / 100.0}}, rng() % 2 == 0};
          break;
        case 5:
          w.EditSpec(pick().spec->key.name).timeout = seconds(1 + rng() % 60);
          break;
        case 6:  // the value written at every scrape from the kept last OK
          w.State(pick()).last_ok = w.now - seconds(rng() % 100);
          break;
        default:
          w.own.HeartbeatReport(pick().spec->key, rng() % 2 ? "stored" : "rate_limited");
      }
    }
    w.now += std::chrono::milliseconds(rng() % 5000);
    ASSERT_EQ(cache.Render(w.snap, w.own, w.format, w.now, w.uptime),
              RenderMetrics(w.snap, w.own, MetricsOptions{}, w.format, w.now, w.uptime));
  }
}

TEST(MetricsCache, OptionsApplyAsInAFullRender) {
  MetricsOptions opts;
  opts.suppress_error_label = true;
  opts.label_allowlist = {};  // every candidate label, run_uuid too
  opts.label_value_max_length = 5;
  World w;
  MetricsCache cache(opts);
  for (int i = 0; i < 2; ++i) {
    EXPECT_EQ(cache.Render(w.snap, w.own, w.format, w.now, w.uptime),
              RenderMetrics(w.snap, w.own, opts, w.format, w.now, w.uptime));
    w.State(w.Check("db-replica")).current_uuid = "another-run";
  }
}

TEST(MetricsCache, ClearFreesEverythingAndTheNextRenderRebuilds) {
  World w;
  MetricsCache cache(MetricsOptions{});
  EXPECT_EQ(cache.MemoryBytes(), 0u);
  const std::string first = cache.Render(w.snap, w.own, w.format, w.now, w.uptime);
  EXPECT_EQ(cache.checks(), 4u);
  EXPECT_GT(cache.MemoryBytes(), first.size() / 2) << "the kept pieces are most of a body";
  cache.Clear();
  EXPECT_EQ(cache.checks(), 0u);
  EXPECT_EQ(cache.MemoryBytes(), 0u);
  EXPECT_EQ(cache.Render(w.snap, w.own, w.format, w.now, w.uptime), first);
  EXPECT_EQ(cache.last_rendered(), 4u);
}

// Versioned uptime (as the daemon's kept map has it): an unchanged version skips comparing the
// windows, a new version with the same windows renders nothing, new windows render the check;
// the body stays identical to a full render throughout.
TEST(MetricsCache, UptimeVersionsSkipTheComparisonButNotAChange) {
  World w;
  uint64_t next = 1;
  for (auto& [key, u] : w.uptime) u.version = next++;
  MetricsCache cache(MetricsOptions{});
  const CheckKey key = w.uptime.begin()->first;
  struct Change {
    const char* what;
    std::function<void(CheckUptime&)> apply;
    size_t rendered;
  };
  const Change changes[] = {
      {"nothing", [](CheckUptime&) {}, 0},
      {"recomputed, same windows", [&](CheckUptime& u) { u.version = next++; }, 0},
      {"recomputed, a window moved",
       [&](CheckUptime& u) {
         u.ratio_by_window["1h"] = 0.25;
         u.version = next++;
       },
       1},
      {"the downtime flag moved",
       [&](CheckUptime& u) {
         u.open_downtime = !u.open_downtime;
         u.version = next++;
       },
       1},
  };
  cache.Render(w.snap, w.own, w.format, w.now, w.uptime);
  for (const Change& c : changes) {
    SCOPED_TRACE(c.what);
    c.apply(w.uptime[key]);
    ASSERT_EQ(cache.Render(w.snap, w.own, w.format, w.now, w.uptime),
              RenderMetrics(w.snap, w.own, MetricsOptions{}, w.format, w.now, w.uptime));
    EXPECT_EQ(cache.last_rendered(), c.rendered);
  }
}

// A body's parts are the cache's kept text: later scrapes that change it (in place or rebuilt)
// must leave a body still being sent as it was.
TEST(MetricsCache, PartsOfAnEarlierBodyStayAsTheyWere) {
  World w;
  MetricsCache cache(MetricsOptions{});
  const auto join = [](const std::vector<MetricsCache::BodyPart>& parts) {
    std::string s;
    for (const auto& p : parts) s += p.text;
    return s;
  };
  std::vector<std::pair<std::vector<MetricsCache::BodyPart>, std::string>> held;
  const std::function<void(World&)> changes[] = {
      [](World&) {},
      // A count moves by one digit: the same length, written over the kept text in place.
      [](World& x) { x.Report("db-replica", true); },
      [](World& x) { x.Report("db-replica", true); },
      [](World& x) { x.now += seconds(90); },  // only the values that depend on the time
      [](World& x) { x.Report("new-check", true); },
      [](World& x) { x.Add("zz", "added", true); },
      [](World& x) { x.Remove("db-replica"); },
  };
  for (const auto& change : changes) {
    change(w);
    auto parts = cache.RenderParts(w.snap, w.own, w.format, w.now, w.uptime);
    std::string text = join(parts);
    ASSERT_EQ(text, RenderMetrics(w.snap, w.own, MetricsOptions{}, w.format, w.now, w.uptime));
    held.emplace_back(std::move(parts), std::move(text));
    for (const auto& [parts_then, text_then] : held) ASSERT_EQ(join(parts_then), text_then);
  }
}

}  // namespace
}  // namespace sonde
