// Scheduling decisions, with no I/O and no clock of its own: the caller passes `now`.
// Rules: a check runs when added (or when its persisted schedule says so), then every
// run_interval measured from the start of its previous run (from when that run was due if it
// started at most half an interval late, so late wake-ups do not merge checks); runs of one
// check never overlap; a run that outlasts its interval is followed by the next right after it ends
// (never a burst of catch-up runs); jobs run once; at most `max_concurrent` runs at a time, the
// rest wait in due-time order. Not thread-safe: owned by the engine's event loop.
#pragma once

#include <cstddef>
#include <map>
#include <optional>
#include <set>
#include <utility>
#include <vector>

#include "core/check.hpp"
#include "core/time.hpp"

namespace sonde {

// A check TakeDue started, and when it was due (its lateness is start - due).
struct DueCheck {
  CheckKey key;
  TimePoint due;
  bool operator==(const DueCheck&) const = default;
};

class Scheduler {
 public:
  // REQUIRES: max_concurrent >= 1.
  explicit Scheduler(size_t max_concurrent) : max_concurrent_(max_concurrent) {}

  // Adds a check or updates its interval/job flag. A new check is due at
  // last_start + interval when a previous start is known, else now; a job with a known
  // previous start is not due again. Updating keeps the check's last start and running state.
  void Upsert(const CheckKey& key, Duration interval, bool job, std::optional<TimePoint> last_start,
              TimePoint now);
  // Forgets a check, running or not.
  void Remove(const CheckKey& key);
  // Makes a check due now. False when unknown or running.
  bool RequestNow(const CheckKey& key, TimePoint now);

  // Starts due checks, earliest due first (ties by key), up to the free slots, and returns
  // them; each is marked running with its start time = now.
  std::vector<DueCheck> TakeDue(TimePoint now);
  // A run of `key` that this scheduler did not start is in flight (operator mode: a run the
  // former leader started, which this one follows to its end): running, started at `start`.
  // False when the check is unknown or already running.
  bool MarkRunning(const CheckKey& key, TimePoint start);
  // The run of `key` ended (all its processes are gone). Schedules its next run.
  void Finished(const CheckKey& key, TimePoint now);

  // The earliest due time among waiting checks, if any. May be in the past when every slot is
  // busy: the caller then waits for Finished() rather than a timer.
  std::optional<TimePoint> NextDue() const;
  // When `key` runs next; none while running, for a finished job, or an unknown check.
  std::optional<TimePoint> NextRun(const CheckKey& key) const;
  bool IsRunning(const CheckKey& key) const;
  bool Contains(const CheckKey& key) const { return entries_.count(key) > 0; }
  size_t running() const { return running_; }
  size_t free_slots() const { return max_concurrent_ - running_; }
  // Checks due at `now` that wait for a slot.
  size_t Waiting(TimePoint now) const;
  void set_max_concurrent(size_t n) { max_concurrent_ = n; }

 private:
  struct Entry {
    Duration interval{};
    bool job = false;
    std::optional<TimePoint> last_start;
    std::optional<TimePoint> due;  // none: running, or a job that has run
    bool running = false;
  };
  using Entries = std::map<CheckKey, Entry>;
  // (due, key) in due order, ties by key. The key points into entries_ (map nodes do not move),
  // so the queue holds no copy of it: 56 bytes less per check.
  using Queued = std::pair<TimePoint, const CheckKey*>;
  struct DueOrder {
    bool operator()(const Queued& a, const Queued& b) const {
      return a.first != b.first ? a.first < b.first : *a.second < *b.second;
    }
  };
  void SetDue(Entries::value_type& entry, std::optional<TimePoint> due);
  // What the next due time of a run due at `due` and started at `start` counts from.
  static TimePoint CadenceBase(TimePoint due, TimePoint start, Duration interval);

  size_t max_concurrent_;
  size_t running_ = 0;
  Entries entries_;
  std::set<Queued, DueOrder> queue_;  // waiting checks
};

}  // namespace sonde
