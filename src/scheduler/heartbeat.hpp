// Heartbeat checks' pure rules: when the next report is due (every run_interval after the last
// one, or at the next instant of a cron schedule), and the per-check report rate limit.
// No I/O and no clock: callers pass `now`. Values; not thread-safe to mutate concurrently.
#pragma once

#include <cstdint>
#include <optional>

#include "core/check.hpp"
#include "core/result.hpp"
#include "core/time.hpp"
#include "scheduler/cron.hpp"

namespace sonde {

class HeartbeatSchedule {
 public:
  // REQUIRES: spec.IsHeartbeat(). Fails only for a schedule or zone the loader would reject.
  static Result<HeartbeatSchedule> For(const CheckSpec& spec);

  // When the report after one at `after` is due: after + run_interval, or the schedule's first
  // instant strictly after `after` (far in the future if it has none).
  TimePoint NextDue(TimePoint after) const;
  Duration grace() const { return grace_; }

 private:
  HeartbeatSchedule(Duration interval, Duration grace, std::optional<CronSchedule> cron,
                    TimeZone zone)
      : interval_(interval), grace_(grace), cron_(std::move(cron)), zone_(std::move(zone)) {}
  Duration interval_;
  Duration grace_;
  std::optional<CronSchedule> cron_;
  TimeZone zone_;
};

// A token bucket: holds up to `burst` tokens and refills at a steady rate, so a caller may send
// a burst of that many and then one every 1/rate. Heartbeat checks use it per check (reports a
// minute); the Kubernetes client uses it for its QPS/burst limit.
class RateLimiter {
 public:
  // REQUIRES: per_minute >= 1. Starts full: a burst of per_minute, then per_minute a minute.
  explicit RateLimiter(int64_t per_minute)
      : RateLimiter(static_cast<double>(per_minute) / 60.0, per_minute) {}
  // REQUIRES: per_second > 0, burst >= 1. Starts full: a burst of `burst`, then per_second.
  RateLimiter(double per_second, int64_t burst)
      : per_second_(per_second), burst_(static_cast<double>(burst)), tokens_(burst_) {}
  // Takes a token if there is one at `now`; false when over the limit.
  bool Allow(TimePoint now);
  // How long from `now` until Allow would succeed (0 if it would now).
  Duration RetryAfter(TimePoint now) const;

 private:
  double TokensAt(TimePoint now) const;
  double per_second_;
  double burst_;
  double tokens_;
  std::optional<TimePoint> last_;
};

}  // namespace sonde
