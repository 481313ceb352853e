// Every check's uptime per window (kUptimeWindows), as /metrics and /api/checks list them,
// reused for a while. Each check's windows cost about ten indexed queries, which these
// endpoints ran for every check at every request: at thousands of checks that stalled the event
// loop (and so every probe and report) for most of a second per scrape. The windows are an hour
// and longer, so an answer up to a minute old changes nothing a user can see; one check's own
// answer (GET /api/uptime) still asks the store.
//
// An entry lives `max_age` plus a per-check share of `max_age`, so that entries computed
// together at the first request expire over time and later requests each refresh a slice. A new
// committed result of the check (its `last_run` changed) refreshes its entry at once: its first
// result shows at the next request, not a minute later.
// Ownership: borrows the store. Thread safety: none; the event loop's only.
#pragma once

#include <array>
#include <map>
#include <optional>

#include "store/store.hpp"

namespace sonde {

class UptimeCache {
 public:
  // One ratio per kUptimeWindows entry, in order; nullopt when nothing was observed in it (or
  // the store could not answer).
  using Ratios = std::array<std::optional<double>, std::size(kUptimeWindows)>;

  UptimeCache(Store& store, Duration max_age) : store_(store), max_age_(max_age) {}
  UptimeCache(const UptimeCache&) = delete;  // next_ points into entries_
  UptimeCache& operator=(const UptimeCache&) = delete;

  // `last_result` is the check's committed state's last_run: the entry is asked afresh when it
  // differs from the one the entry was computed with.
  const Ratios& Get(const CheckKey& key, TimePoint now, std::optional<TimePoint> last_result) {
    return GetVersioned(key, now, last_result).first;
  }
  // The same, with the entry's version: it changes whenever the entry is computed again (and is
  // never given to two computations), so a caller can tell "unchanged" without comparing.
  std::pair<const Ratios&, uint64_t> GetVersioned(const CheckKey& key, TimePoint now,
                                                  std::optional<TimePoint> last_result);
  // Drops the entries of checks not in `keep` (removed checks). Every key of `keep` must have
  // been asked for (Get) since the last Retain: then equal sizes mean nothing to drop.
  template <class Keys>
  void Retain(const Keys& keep) {
    if (keep.size() == entries_.size()) return;
    next_ = entries_.end();
    std::erase_if(entries_, [&](const auto& e) { return keep.count(e.first) == 0; });
  }

 private:
  struct Entry {
    TimePoint expires;
    std::optional<TimePoint> last_result;  // what it was computed after
    Ratios ratios;
    uint64_t version = 0;
  };
  Store& store_;
  uint64_t computed_ = 0;  // computations so far: the next entry version
  Duration max_age_;
  std::map<CheckKey, Entry> entries_;
  // The entry after the last one asked for: callers walk the checks in key order, so the next
  // key is usually this one and needs no search (10 000 searches a scrape at 10 000 checks).
  std::map<CheckKey, Entry>::iterator next_ = entries_.end();
};

}  // namespace sonde
