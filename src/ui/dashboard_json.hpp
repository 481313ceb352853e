// The dashboard's two aggregated reads, rendered as compact JSON:
//   /api/dashboard?window=24h       every check's state, first error, last run, and its uptime
//                                   bar (per-segment uptime, runs and mean duration) for 24h,
//                                   7d or 30d: one answer for the whole overview, O(checks).
//   /api/dashboard/check?namespace=&healthcheck=
//                                   one check's state, spec summary and uptime per window.
// Bars come from Store::UptimeSegments (roll-ups), cached per check: a check's bar is computed
// again only when it has a new result, the bar's grid moved on, or kBarRefresh passed (the
// current segment keeps growing in the last run's state). Not thread-safe: one per HttpApi,
// used on its executor.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "contract/status_page.hpp"
#include "store/store.hpp"

namespace sonde::ui {

struct BarWindow {
  const char* name;
  Duration length;
  Duration segment;  // aligned to the Unix epoch (UTC hours and days)
};
inline constexpr BarWindow kBarWindows[] = {
    {"24h", std::chrono::hours(24), std::chrono::hours(1)},
    {"7d", std::chrono::hours(24 * 7), std::chrono::hours(6)},
    {"30d", std::chrono::hours(24 * 30), std::chrono::hours(24)}};
inline constexpr Duration kBarRefresh = std::chrono::seconds(30);

// The window named `name`; none if it is not one of kBarWindows.
const BarWindow* FindBarWindow(std::string_view name);
// The first segment's start of `window`'s bar ending at `now` (the last segment holds now).
TimePoint BarStart(const BarWindow& window, TimePoint now);

class BarCache {
 public:
  // `check`'s bar for `window` ending at `now`.
  Result<std::vector<UptimeSegment>> Get(Store& store, const CheckView& check,
                                         const BarWindow& window, TimePoint now);
  // Forgets checks not in `snap` (removed ones).
  void Retain(const StatusSnapshot& snap);

 private:
  struct Entry {
    TimePoint start;
    std::optional<TimePoint> last_run;
    TimePoint computed;
    std::vector<UptimeSegment> segments;
  };
  std::map<std::pair<CheckKey, std::string>, Entry> entries_;
};

// The /api/dashboard body. Checks sorted by key; the client sorts and filters.
std::string RenderDashboard(const StatusSnapshot& snap, Store& store, BarCache& bars,
                            const BarWindow& window, TimePoint now);

// The /api/dashboard/check body for `check`.
std::string RenderCheckDetail(const CheckView& check, Store& store, TimePoint now);

}  // namespace sonde::ui
