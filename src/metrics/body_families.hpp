// Every family of the /metrics body, in body order, built from its inputs. Internal to the
// metrics module: RenderMetrics writes a whole build; MetricsCache builds the shared families at
// every scrape and one check's families when that check changed. Pure; thread-safe as long as
// `own` is not updated meanwhile.
#pragma once

#include <set>
#include <string>
#include <vector>

#include "metrics/exposition.hpp"
#include "metrics/kuberhealthy_families.hpp"

namespace sonde {

struct BodyInputs {
  const StatusSnapshot& snap;
  const std::vector<const CheckView*>& checks;       // sorted by their `check` label
  const std::vector<const CheckView*>& with_result;  // those of `checks` that have a result
  const SondeMetrics& own;
  const MetricsOptions& opts;
  TimePoint now;
  const UptimeByCheck& uptime;
  const std::set<std::string>& live_names;  // kAll only: the `check` labels of `checks`
};

// kAll: the whole body's families, `extra` last. kShared: the same list with the per-check
// families (Family::owner != kShared) left without series, `extra` last. kChecks: only per-check
// series, of the one check in `in.checks` (REQUIRES: exactly one); no `extra`. Every build lists
// the same families in the same order (apart from `extra`).
std::vector<Family> BodyFamilies(const BodyInputs& in, FamilyParts parts,
                                 std::vector<Family> extra);

}  // namespace sonde
