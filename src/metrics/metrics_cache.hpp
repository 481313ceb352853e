// The /metrics body, rendered incrementally. Each check's samples are kept between scrapes, one
// piece per per-check family (the text format groups samples by family, under one HELP/TYPE), and
// only checks whose inputs changed since the last scrape (spec, state, their own series in
// SondeMetrics, uptime) are rendered again. The shared families (daemon-wide counters, cluster
// state, the aggregate histogram, the operator's) and the one per-check value that depends on
// the time (seconds since the last OK result) are rendered at every scrape. Render returns the
// same bytes as RenderMetrics given the same inputs (metrics_cache_test.cpp).
//
// Memory: about one body's worth of kept text plus a copy of each check's state and uptime
// (about 3 KB a check with the default families); Clear() frees it all. The first Render builds
// it, so a daemon nobody scrapes holds none.
// Thread safety: none; the daemon's event loop owns it. Never fails.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "metrics/exposition.hpp"

namespace sonde {

class MetricsCache {
 public:
  explicit MetricsCache(MetricsOptions opts) : opts_(std::move(opts)) {}

  // The same arguments and result as RenderMetrics (with this cache's options).
  std::string Render(const StatusSnapshot& snap, const SondeMetrics& own, ExpositionFormat format,
                     TimePoint now, const UptimeByCheck& uptime = {},
                     std::vector<Family> extra = {});
  void Clear();

  size_t checks() const { return entries_.size(); }
  // Checks the last Render had to render (new or changed).
  size_t last_rendered() const { return last_rendered_; }
  // Heap bytes held (kept text, entries, copied states), approximately.
  size_t MemoryBytes() const;

 private:
  struct Entry {
    std::string name;  // the `check` label, "ns/name"
    // The inputs `text` was rendered from.
    std::shared_ptr<const CheckSpec> spec;  // held, so its address cannot be reused meanwhile
    CheckState state;
    uint64_t own_version = 0;
    std::optional<CheckUptime> uptime;
    // Every per-check family's samples of this check, in body order; ends[i] is where the i-th
    // family's part ends. The SeriesOwner::kCheckLastOkAge part stops before its value.
    std::string text;
    std::vector<uint32_t> ends;
  };

  bool Changed(const Entry& e, const CheckView& c, const SondeMetrics& own,
               const UptimeByCheck& uptime) const;
  void RenderCheck(Entry& e, const CheckView& c, const StatusSnapshot& snap,
                   const SondeMetrics& own, ExpositionFormat format, TimePoint now,
                   const UptimeByCheck& uptime);
  // Merges the kept entries with the checks (sorted by name): keeps those still present, adds
  // new ones (with no text yet), drops the rest.
  void Align(const std::vector<std::pair<std::string, const CheckView*>>& named);

  MetricsOptions opts_;
  std::optional<ExpositionFormat> format_;  // of the kept text
  std::vector<Entry> entries_;              // sorted by name
  size_t last_rendered_ = 0;
};

}  // namespace sonde
