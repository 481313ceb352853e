// The Kuberhealthy-compatible families (v2's and v3's exporters), built from the snapshot.
// Internal to the metrics module; RenderMetrics is the public entry. Pure; thread-safe.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "contract/status_page.hpp"
#include "metrics/exposition.hpp"
#include "metrics/family.hpp"
#include "metrics/registry.hpp"

namespace sonde {

// Which families a builder fills: all, or only those of one owner. The others come out in their
// place without series, so that every build lists the same families in the same order.
enum class FamilyParts { kAll, kShared, kChecks };

// kuberhealthy_* in their fixed order. `checks` are the snapshot's checks that have a result,
// sorted by their `check` label.
std::vector<Family> KuberhealthyFamilies(const StatusSnapshot& snap,
                                         const std::vector<const CheckView*>& checks,
                                         const SondeMetrics& own, const MetricsOptions& opts,
                                         TimePoint now, FamilyParts parts = FamilyParts::kAll);

// kuberhealthy_check_seconds_since_success: seconds since the last OK result, -1 when none.
double SecondsSinceLastOk(std::optional<TimePoint> last_ok, TimePoint now);
inline double SecondsSinceLastOk(const CheckState& state, TimePoint now) {
  return SecondsSinceLastOk(state.last_ok, now);
}

// v2's error label: errors joined with "|", '"' replaced by '\'', made valid UTF-8 and cut to
// opts.error_label_max_length at a character boundary.
std::string ErrorLabelValue(const std::vector<std::string>& errors, const MetricsOptions& opts);

// v3's extra-label value sanitising: '"' -> '\'', CR and LF -> ' ', valid UTF-8, cut to
// `max_bytes` (0 = unlimited) at a character boundary.
std::string SanitizeExtraLabelValue(std::string_view value, size_t max_bytes);

// The extra labels of one check, sorted by name, after the allow and deny lists:
// severity <- kuberhealthy.io/severity, category <- kuberhealthy.io/category (from extraLabels,
// else the pod template's labels), run_uuid <- current_uuid (empty between runs), and
// label_<key> for every other label, its key sanitised to [a-zA-Z0-9_].
Labels ExtraLabels(const CheckView& check, const MetricsOptions& opts);

}  // namespace sonde
