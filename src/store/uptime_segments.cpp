// Store::UptimeSegments' default: one Uptime query per segment. Correct for any store; stores
// with roll-ups override it (see SqliteStore).
#include "store/store.hpp"

namespace sonde {

Result<std::vector<UptimeSegment>> Store::UptimeSegments(const CheckKey& key, TimePoint from,
                                                         Duration segment, size_t count,
                                                         TimePoint now) {
  std::vector<UptimeSegment> out(count);
  for (size_t i = 0; i < count; ++i) {
    const TimePoint start = from + segment * static_cast<int64_t>(i);
    const TimePoint end = std::min(start + segment, now);
    if (end <= start) continue;
    // Uptime counts runs at both ends of its window: a whole segment stops 1ns short of the
    // next one's start, so a run right on the boundary is counted once, in the later segment.
    const Duration cut = start + segment <= now ? Duration(1) : Duration::zero();
    auto u = Uptime(key, end - start - cut, end - cut);
    if (!u.ok()) return Result<std::vector<UptimeSegment>>::Error(u.error());
    UptimeSegment& s = out[i];
    s.observed = u.value().observed;
    if (u.value().uptime) {
      s.ok = std::chrono::duration_cast<Duration>(
          std::chrono::duration<double, Duration::period>(s.observed.count() * *u.value().uptime));
    }
    s.runs = u.value().runs;
    if (u.value().mean_duration) s.duration_sum = *u.value().mean_duration * s.runs;
  }
  return out;
}

}  // namespace sonde
