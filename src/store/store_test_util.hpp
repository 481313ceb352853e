// Helpers shared by the store tests: temp dirs, run builders, synchronous commits.
#pragma once

#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <functional>
#include <future>
#include <string>
#include <thread>
#include <vector>

#include "core/clock.hpp"
#include "store/store.hpp"

namespace sonde {

// A fresh directory under the system temp dir, removed with everything in it on destruction.
class TempDir {
 public:
  TempDir() {
    std::string tmpl = (std::filesystem::temp_directory_path() / "sonde-store-XXXXXX").string();
    path_ = ::mkdtemp(tmpl.data());
  }
  ~TempDir() {
    std::error_code ec;
    std::filesystem::permissions(path_, std::filesystem::perms::owner_all,
                                 std::filesystem::perm_options::add, ec);
    std::filesystem::remove_all(path_, ec);
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

// A manual clock that a test thread may move while the store's writer thread reads it.
class TestClock final : public Clock {
 public:
  explicit TestClock(TimePoint start) : ns_(start.time_since_epoch().count()) {}
  TimePoint Now() const override { return TimePoint(Duration(ns_.load())); }
  void Set(TimePoint t) { ns_ = t.time_since_epoch().count(); }
  void Advance(Duration d) { ns_ += d.count(); }

 private:
  std::atomic<int64_t> ns_;
};

inline RunRecord MakeRun(const CheckKey& key, const std::string& uuid, TimePoint started,
                         Duration duration, bool ok, std::vector<std::string> errors = {}) {
  RunRecord r;
  r.key = key;
  r.run_uuid = uuid;
  r.started = started;
  r.finished = started + duration;
  r.ok = ok;
  r.errors = std::move(errors);
  r.ended_by = "report";
  r.instance = "test";
  return r;
}

// Commits and waits for `done` (at most 10 s).
inline Status CommitSync(Store& store, const RunRecord& run, const CheckState& state = {}) {
  auto promise = std::make_shared<std::promise<Status>>();
  auto future = promise->get_future();
  store.CommitRun(run, state, [promise](Status s) { promise->set_value(std::move(s)); });
  if (future.wait_for(std::chrono::seconds(10)) != std::future_status::ready) {
    return Status::Error("commit timed out");
  }
  return future.get();
}

// Commits `per_thread` runs of check NS/c<t> from each of `threads` threads at once (run i
// starts at t0 + i s and fails when i % fail_every == 0); `done` gets each uuid ("<t>-<i>") and
// its status.
inline void CommitFromThreads(Store& store, const std::string& ns, TimePoint t0, int threads,
                              int per_thread, int fail_every,
                              std::function<void(const std::string&, Status)> done) {
  std::vector<std::thread> pool;
  for (int t = 0; t < threads; ++t) {
    pool.emplace_back([&, t] {
      const CheckKey key{ns, "c" + std::to_string(t)};
      for (int i = 0; i < per_thread; ++i) {
        const std::string uuid = std::to_string(t) + "-" + std::to_string(i);
        store.CommitRun(MakeRun(key, uuid, t0 + std::chrono::seconds(i),
                                std::chrono::milliseconds(5), i % fail_every != 0),
                        CheckState{}, [done, uuid](Status s) { done(uuid, std::move(s)); });
      }
    });
  }
  for (auto& th : pool) th.join();
}

// Saves a heartbeat token and waits for `done` (at most 10 s).
inline Status SaveTokenSync(Store& store, const CheckKey& key, const std::string& token) {
  auto promise = std::make_shared<std::promise<Status>>();
  auto future = promise->get_future();
  store.SaveHeartbeatToken(key, token, [promise](Status s) { promise->set_value(std::move(s)); });
  if (future.wait_for(std::chrono::seconds(10)) != std::future_status::ready) {
    return Status::Error("token save timed out");
  }
  return future.get();
}

template <class Pred>
void WaitFor(Pred pred, std::chrono::milliseconds limit = std::chrono::seconds(10)) {
  const auto deadline = std::chrono::steady_clock::now() + limit;
  while (!pred() && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
}

}  // namespace sonde
