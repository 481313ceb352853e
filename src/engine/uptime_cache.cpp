#include "engine/uptime_cache.hpp"

#include <functional>

namespace sonde {

std::pair<const UptimeCache::Ratios&, uint64_t> UptimeCache::GetVersioned(
    const CheckKey& key, TimePoint now, std::optional<TimePoint> last_result) {
  const bool hit = next_ != entries_.end() && next_->first == key;
  auto [it, added] = hit ? std::pair(next_, false) : entries_.try_emplace(key);
  next_ = std::next(it);
  Entry& e = it->second;
  if (!added && now < e.expires && e.last_result == last_result) return {e.ratios, e.version};
  e.last_result = last_result;
  for (size_t i = 0; i < std::size(kUptimeWindows); ++i) {
    auto stats = store_.Uptime(key, kUptimeWindows[i].length, now);
    e.ratios[i] = stats.ok() ? stats.value().uptime : std::nullopt;
  }
  const auto spread =
      max_age_.count() > 0 ? std::hash<std::string>{}(key.str()) % max_age_.count() : 0;
  e.expires = now + max_age_ + Duration(spread);
  e.version = ++computed_;
  return {e.ratios, e.version};
}

}  // namespace sonde
