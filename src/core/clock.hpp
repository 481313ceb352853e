// The injected source of time. The pure core (scheduler, report policy, status rendering)
// never reads the system clock itself, so tests drive it with ManualClock.
#pragma once

#include <chrono>

#include "core/time.hpp"

namespace sonde {

class Clock {
 public:
  virtual ~Clock() = default;
  // Thread-safe in every implementation.
  virtual TimePoint Now() const = 0;
};

class SystemClock final : public Clock {
 public:
  TimePoint Now() const override {
    return std::chrono::time_point_cast<Duration>(std::chrono::system_clock::now());
  }
};

// A clock that only moves when told. Not thread-safe: for single-threaded tests.
class ManualClock final : public Clock {
 public:
  explicit ManualClock(TimePoint start) : now_(start) {}
  TimePoint Now() const override { return now_; }
  void Advance(Duration d) { now_ += d; }
  void Set(TimePoint t) { now_ = t; }

 private:
  TimePoint now_;
};

}  // namespace sonde
