// The /metrics body: Kuberhealthy's v2 and v3 families from the status snapshot, then Sonde's
// own families, in the Prometheus text format 0.0.4 or OpenMetrics 1.0.0.
// Pure: input is a snapshot, the daemon's instruments and the store's uptime figures; output is
// the response body. Thread-safe as long as `own` is not updated meanwhile (the daemon renders
// on its one loop thread). Never fails: any error text or label value renders validly.
// Families and their meaning: docs/metrics.md.
#pragma once

#include <cstddef>
#include <map>
#include <set>
#include <string>
#include <string_view>

#include "contract/status_page.hpp"
#include "metrics/family.hpp"
#include "metrics/registry.hpp"

namespace sonde {

// Kuberhealthy's exporter options (v2 promMetricsConfig, v3 KH_PROM_*).
struct MetricsOptions {
  bool suppress_error_label = false;  // drop `error` from kuberhealthy_check / _job
  size_t error_label_max_length = 0;  // bytes, cut at a character boundary; 0 = unlimited
  // Extra per-check labels exposed (severity, category, run_uuid, label_<key>); an empty
  // allowlist allows every candidate. The denylist wins over the allowlist.
  std::set<std::string> label_allowlist = {"severity", "category"};
  std::set<std::string> label_denylist;
  size_t label_value_max_length = 256;  // bytes; 0 = unlimited

  bool operator==(const MetricsOptions&) const = default;
};

// The store's view of one check, for sonde_check_uptime_ratio and
// sonde_check_open_downtime_events.
struct CheckUptime {
  std::map<std::string, double> ratio_by_window;  // "1h" -> 0.9986; only observed windows
  bool open_downtime = false;                     // a downtime event is open (check failing)
  // 0, or a version its maker never gives two different contents (the daemon's kept map bumps
  // it at every change): MetricsCache then sees "unchanged" without comparing the windows.
  uint64_t version = 0;
  // The contents; the version is not compared.
  bool operator==(const CheckUptime& o) const {
    return open_downtime == o.open_downtime && ratio_by_window == o.ratio_by_window;
  }
};
using UptimeByCheck = std::map<CheckKey, CheckUptime>;

// OpenMetrics 1.0.0 when the Accept header asks for application/openmetrics-text (version
// 1.0.0, 0.0.1 or none) at least as strongly as for text/plain; otherwise text 0.0.4.
ExpositionFormat ChooseFormat(std::string_view accept_header);

// The whole /metrics body; serve it with ContentTypeOf(format). Checks without a result yet
// are left out of the per-check families (as v2 leaves out khstates nobody wrote), and so are
// checks no longer in `snap`, whatever `own` and `uptime` still hold. `extra` families (the
// operator's) come last.
std::string RenderMetrics(const StatusSnapshot& snap, const SondeMetrics& own,
                          const MetricsOptions& opts, ExpositionFormat format, TimePoint now,
                          const UptimeByCheck& uptime = {}, std::vector<Family> extra = {});

// Kuberhealthy's bucket bounds for kuberhealthy_check_run_duration_seconds.
inline constexpr double kKuberhealthyRunBounds[] = {1, 5, 10, 30, 60, 120, 300};

}  // namespace sonde
