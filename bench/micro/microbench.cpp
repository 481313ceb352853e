// Micro-benchmarks of the hot pure functions: what one status page, one /metrics scrape, one
// report parse and one scheduling pass cost, without sockets or processes.
#include <benchmark/benchmark.h>

#include <algorithm>

#include "contract/report.hpp"
#include "contract/status_page.hpp"
#include "contract/status_page_cache.hpp"
#include "metrics/exposition.hpp"
#include "metrics/metrics_cache.hpp"
#include "metrics/registry.hpp"
#include "scheduler/scheduler.hpp"

namespace sonde {
namespace {

const TimePoint kNow = FromUnixSeconds(1'800'000'000);

// `n` checks with results, a tenth of them failing with a two-error report.
StatusSnapshot Snapshot(int n) {
  StatusSnapshot snap;
  snap.instance = "bench";
  for (int i = 0; i < n; ++i) {
    auto spec = std::make_shared<CheckSpec>();
    spec->key = {"ns" + std::to_string(i % 20), "check-" + std::to_string(i)};
    spec->run_interval = std::chrono::minutes(5);
    spec->timeout = std::chrono::seconds(30);
    CheckView v{spec, {}, kNow + std::chrono::minutes(5)};
    v.state.ok = i % 10 != 0;
    if (!v.state.ok) v.state.errors = {"GET http://svc/health: 503 Service Unavailable", "db down"};
    v.state.run_duration = std::chrono::milliseconds(100 + i % 900);
    v.state.last_run = v.state.last_run_start = v.state.last_ok =
        kNow - std::chrono::seconds(i % 300);
    v.state.run_uuid = "1d309ed7-4b7a-4fd5-9706-d04f53c9ed30";
    v.state.authoritative_pod = "bench";
    v.state.success_count = 1000;
    v.state_version = 2 + static_cast<uint64_t>(i);  // as the engine stamps them
    snap.checks.push_back(std::move(v));
  }
  // In key order, as the engine's snapshot is (it walks a map).
  std::sort(snap.checks.begin(), snap.checks.end(),
            [](const CheckView& a, const CheckView& b) { return a.spec->key < b.spec->key; });
  return snap;
}

void BM_FormatGoDuration(benchmark::State& state) {
  int64_t ns = 68486351014;
  for (auto _ : state) benchmark::DoNotOptimize(FormatGoDuration(Duration{ns++}));
}
BENCHMARK(BM_FormatGoDuration);

void BM_ParseReport(benchmark::State& state) {
  const std::string body =
      R"({"OK": false, "Errors": ["disk /data is full", "db replica lag 30s"]})";
  for (auto _ : state) benchmark::DoNotOptimize(ParseReport(body));
}
BENCHMARK(BM_ParseReport);

void BM_RenderStatusV2(benchmark::State& state) {
  const StatusSnapshot snap = Snapshot(static_cast<int>(state.range(0)));
  for (auto _ : state) benchmark::DoNotOptimize(RenderStatusV2(snap, {}));
}
BENCHMARK(BM_RenderStatusV2)->Arg(1000)->Arg(10000)->Unit(benchmark::kMillisecond);

void BM_RenderStatusV3(benchmark::State& state) {
  const StatusSnapshot snap = Snapshot(static_cast<int>(state.range(0)));
  for (auto _ : state) benchmark::DoNotOptimize(RenderStatusV3(snap, {}));
}
BENCHMARK(BM_RenderStatusV3)->Arg(1000)->Arg(10000)->Unit(benchmark::kMillisecond);

void BM_RenderMetrics(benchmark::State& state) {
  const StatusSnapshot snap = Snapshot(static_cast<int>(state.range(0)));
  SondeMetrics own("bench");
  // As in a daemon whose checks have run: a run-duration histogram per check.
  for (const CheckView& c : snap.checks) {
    own.RunFinished(c.spec->key, RunOutcome::kOk, c.state.run_duration);
  }
  size_t bytes = 0;
  for (auto _ : state) {
    const std::string out =
        RenderMetrics(snap, own, MetricsOptions{}, ExpositionFormat::kText004, kNow);
    bytes = out.size();
    benchmark::DoNotOptimize(out.data());
  }
  state.counters["bytes"] = static_cast<double>(bytes);
}
BENCHMARK(BM_RenderMetrics)->Arg(1000)->Arg(10000)->Unit(benchmark::kMillisecond);

// Gives `count` checks of `snap` a new result at `now`, round-robin from `next`, each with a
// new state version (above any Snapshot gives) as the engine stamps a changed state.
void ChangeStates(StatusSnapshot& snap, size_t count, size_t& next, TimePoint now) {
  for (size_t i = 0; i < count; ++i) {
    CheckView& c = snap.checks[next++ % snap.checks.size()];
    c.state_version = snap.checks.size() + 2 + next;
    ++c.state.success_count;
    c.state.last_run = c.state.last_ok = now;
  }
}

// The daemon's /metrics path: MetricsCache, scraped once per iteration a second later, with
// range(1) checks' states changed between scrapes (each a new result), out of range(0).
void BM_RenderMetricsCached(benchmark::State& state) {
  StatusSnapshot snap = Snapshot(static_cast<int>(state.range(0)));
  SondeMetrics own("bench");
  for (const CheckView& c : snap.checks) {
    own.RunFinished(c.spec->key, RunOutcome::kOk, c.state.run_duration);
  }
  MetricsCache cache(MetricsOptions{});
  TimePoint now = kNow;
  cache.Render(snap, own, ExpositionFormat::kText004, now);  // the first scrape fills it
  const size_t changed = static_cast<size_t>(state.range(1));
  size_t next = 0;
  size_t bytes = 0;
  for (auto _ : state) {
    ChangeStates(snap, changed, next, now);
    now += std::chrono::seconds(1);
    // As the daemon sends it: the kept text as parts, not joined.
    const auto parts = cache.RenderParts(snap, own, ExpositionFormat::kText004, now);
    bytes = 0;
    for (const auto& part : parts) bytes += part.text.size();
    benchmark::DoNotOptimize(parts.data());
  }
  state.counters["bytes"] = static_cast<double>(bytes);
  state.counters["cache_bytes"] = static_cast<double>(cache.MemoryBytes());
}
BENCHMARK(BM_RenderMetricsCached)
    ->Args({1000, 0})
    ->Args({10000, 0})
    ->Args({10000, 100})
    ->Args({10000, 1000})
    ->Unit(benchmark::kMillisecond);

// The daemon's "/" (range(2) 0) and "/json" (1) path: StatusPageCache, read once per iteration,
// with range(1) checks' states changed between reads (each a new result), out of range(0).
void BM_StatusPageCached(benchmark::State& state) {
  StatusSnapshot snap = Snapshot(static_cast<int>(state.range(0)));
  StatusPageCache cache(/*v3=*/state.range(2) == 1);
  cache.Render(snap, {});  // the first request fills it
  const size_t changed = static_cast<size_t>(state.range(1));
  size_t next = 0;
  TimePoint now = kNow;
  for (auto _ : state) {
    ChangeStates(snap, changed, next, now);
    now += std::chrono::seconds(1);
    benchmark::DoNotOptimize(cache.Render(snap, {}));
  }
  state.counters["cache_bytes"] = static_cast<double>(cache.MemoryBytes());
}
BENCHMARK(BM_StatusPageCached)
    ->Args({10000, 0, 0})
    ->Args({10000, 100, 0})
    ->Args({10000, 0, 1})
    ->Args({10000, 100, 1})
    ->Args({10000, 1000, 1})
    ->Unit(benchmark::kMillisecond);

// One due check taken and finished per iteration, among range(0) scheduled checks.
void BM_SchedulerTakeAndFinish(benchmark::State& state) {
  Scheduler s(32);
  const int n = static_cast<int>(state.range(0));
  for (int i = 0; i < n; ++i) {
    s.Upsert({"ns", "c" + std::to_string(i)}, std::chrono::seconds(1 + i % 3600), false,
             std::nullopt, kNow);
  }
  // Every check is due at load: run that burst before timing, or its one pass of n checks is
  // averaged into however many iterations the run happens to make.
  for (auto due = s.TakeDue(kNow); !due.empty(); due = s.TakeDue(kNow)) {
    for (const auto& d : due) s.Finished(d.key, kNow);
  }
  TimePoint now = kNow;
  for (auto _ : state) {
    auto due = s.TakeDue(now);
    for (const auto& d : due) s.Finished(d.key, now);
    now += std::chrono::microseconds(50);
    benchmark::DoNotOptimize(due);
  }
}
BENCHMARK(BM_SchedulerTakeAndFinish)->Arg(10000)->Arg(100000);

}  // namespace
}  // namespace sonde
