// The status pages ("/" v2, "/json" v3), rendered incrementally. Each check's member of
// CheckDetails/JobDetails and its items of the top-level Errors are kept between requests as
// text, keyed by what they were rendered from (the spec, the state, and for v3 the next run);
// a request re-renders only checks whose inputs changed and joins the kept text. While nothing
// changed (no check, state, next run, load error, instance or metadata, and the same namespace
// filter) the previous body itself is returned: the server sends it without a copy. No value of
// either page depends on the time of the request. Render returns the same bytes as
// RenderStatusV2/V3 given the same snapshot (status_page_cache_test.cpp).
//
// Memory: the kept members, a copy of each check's state and the last body: about 1.1 KB a check
// (10.5 MB for v2, 11.5 MB for v3 at 10 000 checks, micro-benchmark BM_StatusPageCached);
// Clear() frees it all. The first Render builds it, so a daemon nobody reads holds none.
// Thread safety: none; the daemon's event loop owns it. Never fails.
#pragma once

#include <cstddef>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "contract/status_page.hpp"

namespace sonde {

class StatusPageCache {
 public:
  explicit StatusPageCache(bool v3) : v3_(v3) {}

  // RenderStatusV3 (v3) or RenderStatusV2's bytes. The body is immutable: later renders make a
  // new one rather than change it, so it may be held (and sent) while the cache moves on.
  std::shared_ptr<const std::string> Render(const StatusSnapshot& snap,
                                            const std::set<std::string>& namespaces);
  void Clear();

  size_t checks() const { return entries_.size(); }
  // Checks the last Render had to render (new or changed); 0 when it reused the last body.
  size_t last_rendered() const { return last_rendered_; }
  // Whether the last Render returned the previous body unchanged.
  bool last_reused() const { return last_reused_; }
  // Heap bytes held (kept text, entries, copied states, the last body), approximately.
  size_t MemoryBytes() const;

 private:
  struct Entry {
    CheckKey key;
    // The inputs its text was rendered from.
    std::shared_ptr<const CheckSpec> spec;  // held, so its address cannot be reused meanwhile
    CheckState state;
    std::optional<TimePoint> next_run;  // v3 only: the page shows it
    bool listed = false;  // a member of CheckDetails/JobDetails (v2 hides checks without result)
    bool job = false;
    bool fails = false;  // makes the top-level OK false
    // "\n    \"ns/name\": {...}": the member at its indentation, without the comma before it.
    std::string member;
    // Its items of Errors, each ",\n    \"...\"".
    std::string errors;
  };
  struct Top {
    std::vector<std::string> load_errors;
    std::string instance;
    std::map<std::string, std::string> metadata;
    std::set<std::string> namespaces;
    bool operator==(const Top&) const = default;
  };

  bool Changed(const Entry& e, const CheckView& c) const;
  void RenderCheck(Entry& e, const CheckView& c) const;
  // Merges the kept entries with the checks (in key order); false when none was added or
  // dropped.
  bool Align(const std::vector<const CheckView*>& checks);
  std::string Assemble(const StatusSnapshot& snap, const std::set<std::string>& namespaces) const;
  void AppendGroup(std::string& out, const std::set<std::string>& namespaces,
                   std::optional<bool> jobs) const;

  bool v3_;
  std::vector<Entry> entries_;  // in key order
  std::shared_ptr<const std::string> body_;
  Top body_top_;  // what body_ was rendered from besides the entries
  size_t last_rendered_ = 0;
  bool last_reused_ = false;
};

}  // namespace sonde
