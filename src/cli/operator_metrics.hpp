// The operator's own families on /metrics: what it costs the API server and what its reaper
// and event recorder did. `kuberhealthy_reaper_*` are Kuberhealthy v3's (same names, HELP and
// `reason` values); the `sonde_kube_*` ones are Sonde's. Built from counters the kube module
// keeps, at each scrape.
//
// Pure: no I/O. Thread safety: pure functions. Failure: none.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "core/time.hpp"
#include "metrics/family.hpp"

namespace sonde {

struct InformerCounters {
  uint64_t lists = 0, watches = 0, gone = 0, errors = 0;
};

struct OperatorCounters {
  uint64_t api_requests = 0;                          // sent by the operator's client
  std::map<std::string, InformerCounters> informers;  // by resource ("pods", "khchecks", ...)
  // Only on a replica whose reaper has been started (the leader, or a former one).
  std::optional<Duration> reaper_last_sweep;
  std::map<std::string, uint64_t> reaper_deleted_pods;  // by reason
  uint64_t events_recorded = 0, events_dropped = 0;
};

std::vector<Family> OperatorFamilies(const OperatorCounters& counters);

}  // namespace sonde
