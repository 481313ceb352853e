// The /metrics body, rendered incrementally. Each check's samples are kept between scrapes, one
// piece per per-check family (the text format groups samples by family, under one HELP/TYPE), and
// only checks whose inputs changed since the last scrape (spec, state, their own series in
// SondeMetrics, uptime) are rendered again. The shared families (daemon-wide counters, cluster
// state, the aggregate histogram, the operator's) and the one per-check value that depends on
// the time (seconds since the last OK result) are rendered at every scrape. Render returns the
// same bytes as RenderMetrics given the same inputs (metrics_cache_test.cpp).
//
// Memory: about one body's worth of kept text plus each check's entry and a copy of its uptime
// (about 2.3 KB a check with the default families); no copy of any state: a check is rendered
// again when its CheckView::state_version differs (or is 0, untracked). Clear() frees it all. The
// first Render builds it, so a daemon nobody scrapes holds none. Thread safety: none; the daemon's
// event loop owns it. Never fails.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "metrics/exposition.hpp"

namespace sonde {

class MetricsCache {
 public:
  explicit MetricsCache(MetricsOptions opts) : opts_(std::move(opts)) {}

  // Text shared with the cache: `owner` keeps it alive, and the cache never changes text a body
  // still holds (it changes a copy instead), so a body may be sent while later scrapes render.
  struct BodyPart {
    std::shared_ptr<const std::string> owner;
    std::string_view text;
  };
  // The body as parts to write one after the other, most of them the kept text itself (no copy
  // of the tens of megabytes a scrape of 10 000 checks is). Joined: Render's bytes.
  std::vector<BodyPart> RenderParts(const StatusSnapshot& snap, const SondeMetrics& own,
                                    ExpositionFormat format, TimePoint now,
                                    const UptimeByCheck& uptime = {},
                                    std::vector<Family> extra = {});
  // The same arguments and result as RenderMetrics (with this cache's options).
  std::string Render(const StatusSnapshot& snap, const SondeMetrics& own, ExpositionFormat format,
                     TimePoint now, const UptimeByCheck& uptime = {},
                     std::vector<Family> extra = {});
  void Clear();

  size_t checks() const { return entries_.size(); }
  // Checks the last Render had to render (new or changed).
  size_t last_rendered() const { return last_rendered_; }
  // Heap bytes held (kept text, entries, copied uptimes), approximately.
  size_t MemoryBytes() const;

 private:
  struct Piece {
    uint32_t begin = 0;  // in columns_[part]
    uint32_t size = 0;
  };
  struct Entry {
    std::string name;  // the `check` label, "ns/name"
    // The inputs its pieces were rendered from.
    std::shared_ptr<const CheckSpec> spec;  // held, so its address cannot be reused meanwhile
    uint64_t state_version = 0;
    std::optional<TimePoint> last_ok;  // the state's, for the value written at every scrape
    uint64_t own_version = 0;
    std::optional<CheckUptime> uptime;
    std::vector<Piece> pieces;  // one per per-check family, in body order
    // Rendered at this scrape, not yet in the columns: every part's text, and where each ends.
    std::string fresh;
    std::vector<uint32_t> fresh_ends;
  };

  // Whether `e` must be rendered again; `version` is own's CheckVersion of the check.
  static bool Changed(const Entry& e, const CheckView& c, uint64_t version,
                      const CheckUptime* uptime);
  void RenderCheck(Entry& e, const CheckView& c, const StatusSnapshot& snap,
                   const SondeMetrics& own, ExpositionFormat format, TimePoint now,
                   const UptimeByCheck& uptime);
  // Merges the kept entries with the checks (sorted by name): keeps those still present, adds
  // new ones (with no pieces yet), drops the rest. False when nothing was added or dropped.
  bool Align(const std::vector<std::pair<std::string, const CheckView*>>& named);
  // Writes the entries' fresh text of `part` over their old pieces when every one has its old
  // piece's size (a counter or a timestamp moved); false, changing nothing, otherwise.
  bool OverwriteInPlace(size_t part);
  // Rebuilds columns_[part] from the entries: their fresh text or their piece of the old column.
  void RebuildColumn(size_t part);

  MetricsOptions opts_;
  std::optional<ExpositionFormat> format_;  // of the kept text
  std::vector<Entry> entries_;              // sorted by name
  // One per per-check family, in body order: every entry's piece of it, in entry order, so that
  // a family's samples are written with one copy. The SeriesOwner::kCheckLastOkAge family's
  // pieces stop before their value, which is written at every scrape.
  std::vector<std::shared_ptr<std::string>> columns_;
  size_t last_rendered_ = 0;
};

}  // namespace sonde
