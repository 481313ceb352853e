#include "scheduler/heartbeat.hpp"

#include <algorithm>
#include <cmath>

namespace sonde {
namespace {

constexpr Duration kNever = std::chrono::hours(24 * 365 * 100);

}  // namespace

Result<HeartbeatSchedule> HeartbeatSchedule::For(const CheckSpec& spec) {
  using R = Result<HeartbeatSchedule>;
  const HeartbeatSpec& hb = *spec.heartbeat;
  if (hb.schedule.empty())
    return HeartbeatSchedule(spec.run_interval, hb.grace, {}, TimeZone::Utc());
  auto cron = CronSchedule::Parse(hb.schedule);
  if (!cron.ok()) return R::Error("schedule: " + cron.error());
  auto zone = hb.timezone.empty() ? Result<TimeZone>(TimeZone::Utc()) : TimeZone::Load(hb.timezone);
  if (!zone.ok()) return R::Error("timezone: " + zone.error());
  return HeartbeatSchedule(spec.run_interval, hb.grace, std::move(cron.value()),
                           std::move(zone.value()));
}

TimePoint HeartbeatSchedule::NextDue(TimePoint after) const {
  if (!cron_) return after + interval_;
  return cron_->Next(after, zone_).value_or(after + kNever);
}

double RateLimiter::TokensAt(TimePoint now) const {
  if (!last_ || now <= *last_) return tokens_;
  const double seconds = std::chrono::duration<double>(now - *last_).count();
  return std::min(burst_, tokens_ + seconds * per_second_);
}

bool RateLimiter::Allow(TimePoint now) {
  tokens_ = TokensAt(now);
  if (!last_ || now > *last_) last_ = now;
  if (tokens_ < 1) return false;
  tokens_ -= 1;
  return true;
}

Duration RateLimiter::RetryAfter(TimePoint now) const {
  const double missing = 1 - TokensAt(now);
  if (missing <= 0) return Duration{0};
  return std::chrono::duration_cast<Duration>(
      std::chrono::duration<double>(std::ceil(missing / per_second_ * 1000) / 1000));
}

}  // namespace sonde
