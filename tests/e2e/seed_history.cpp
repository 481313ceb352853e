// Test support for the dashboard's scale test: writes N check files and a state directory
// holding a year of their history, through SqliteStore itself (so roll-ups and events are what
// the daemon would have written). Each check's state says it started 10 minutes ago, so a daemon
// started on this state directory runs none of them during the test.
//
//   sonde_seed_history STATE_DIR CHECKS_DIR N
//
// History per check: one run every two weeks for a year, then one an hour for the last day;
// every 10th check fails now and then, every 100th is failing now.
#include <atomic>
#include <chrono>
#include <cstdio>
#include <fstream>
#include <string>
#include <thread>

#include "store/sqlite_store.hpp"

namespace {

using namespace std::chrono;
using sonde::CheckKey;
using sonde::CheckState;
using sonde::RunRecord;

int Seed(const std::string& state_dir, const std::string& checks_dir, int n) {
  std::ofstream(checks_dir + "/ok.sh")
      << "curl -sS --fail -X POST \"$KH_REPORTING_URL\" "
         "-H 'Content-Type: application/json' -d '{\"OK\":true}'\n";
  sonde::SqliteOptions options;
  options.max_batch = 20000;  // few, large transactions: seeding is bound by fsync otherwise
  options.max_queue = 200000;
  auto opened = sonde::SqliteStore::Open(state_dir, options);
  if (!opened.ok()) {
    std::fprintf(stderr, "%s\n", opened.error().c_str());
    return 1;
  }
  sonde::SqliteStore& store = *opened.value();
  const auto now =
      sonde::TimePoint(duration_cast<sonde::Duration>(system_clock::now().time_since_epoch()));
  std::atomic<int64_t> pending{0};
  std::atomic<int64_t> failed{0};
  for (int i = 0; i < n; ++i) {
    char ns[32];
    char name[32];
    std::snprintf(ns, sizeof ns, "team-%02d", i % 20);
    std::snprintf(name, sizeof name, "check-%04d", i);
    const CheckKey key{ns, name};
    std::ofstream(checks_dir + "/" + name + ".yaml")
        << "apiVersion: comcast.github.io/v1\nkind: KuberhealthyCheck\nmetadata:\n  name: " << name
        << "\n  namespace: " << ns
        << "\nspec:\n  runInterval: 1h\n  timeout: 30s\n  podSpec:\n    containers:\n"
           "      - name: main\n        command: [\"/bin/bash\", \"ok.sh\"]\n";
    std::vector<sonde::TimePoint> starts;
    for (int w = 52; w >= 2; w -= 2) starts.push_back(now - hours(24 * 7 * w) - minutes(i % 60));
    for (int h = 24; h >= 0; --h) starts.push_back(now - hours(h) - minutes(10));
    CheckState state;
    for (size_t k = 0; k < starts.size(); ++k) {
      const bool last = k + 1 == starts.size();
      const bool ok = last ? i % 100 != 0 : !(i % 10 == 0 && k % 5 == 3);
      RunRecord r{
          key,
          name + std::to_string(k),
          starts[k],
          starts[k] + milliseconds(20 + (i * 7 + static_cast<int>(k) * 13) % 400),
          ok,
          ok ? std::vector<std::string>{} : std::vector<std::string>{"upstream returned 503"},
          "report",
          "seed"};
      state.ok = ok;
      state.errors = r.errors;
      state.run_duration = r.finished - r.started;
      state.last_run = r.finished;
      state.last_run_start = r.started;
      state.run_uuid = r.run_uuid;
      (ok ? state.success_count : state.failure_count)++;
      state.consecutive_failures = ok ? 0 : state.consecutive_failures + 1;
      while (pending.load() > 100000) std::this_thread::sleep_for(milliseconds(5));
      ++pending;
      store.CommitRun(r, state, [&](sonde::Status s) {
        if (!s.ok()) ++failed;
        --pending;
      });
    }
  }
  while (pending.load() > 0) std::this_thread::sleep_for(milliseconds(5));
  if (failed.load() > 0) {
    std::fprintf(stderr, "%lld commits failed\n", static_cast<long long>(failed.load()));
    return 1;
  }
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 4) {
    std::fprintf(stderr, "usage: %s STATE_DIR CHECKS_DIR N\n", argv[0]);
    return 2;
  }
  return Seed(argv[1], argv[2], std::atoi(argv[3]));
}
