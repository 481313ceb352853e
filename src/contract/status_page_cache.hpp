// The status pages ("/" v2, "/json" v3), rendered incrementally. Each check's member of
// CheckDetails/JobDetails and its items of the top-level Errors are kept between requests, keyed
// by what they were rendered from (the spec, the state's version, and for v3 the next run); a
// request re-renders only checks whose inputs changed and copies the others' text. While nothing
// changed (no check, state, next run, load error, instance or metadata, and the same namespace
// filter) the previous body itself is returned: the server sends it without a copy. No value of
// either page depends on the time of the request. Render returns the same bytes as
// RenderStatusV2/V3 given the same snapshot (status_page_cache_test.cpp).
//
// Memory: the kept text is the last unfiltered body itself (each check's member and errors are
// an offset and a size into it), plus about 72 bytes a check of entry; a filtered request's body
// is kept beside it. No copy of any state: a check's text is rendered again when its
// CheckView::state_version differs (or is 0, untracked). About 4.5-4.9 MB for v3 at 10 000 checks
// (micro-benchmark BM_StatusPageCached); Clear() frees it all. The first Render builds it, so a
// daemon nobody reads holds none.
// Thread safety: none; the daemon's event loop owns it. Never fails.
#pragma once

#include <cstddef>
#include <cstdint>
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
  // Heap bytes held (entries and the kept bodies), approximately.
  size_t MemoryBytes() const;

 private:
  struct Entry {
    // The inputs its text was rendered from; no spec until it was rendered. The spec is held,
    // so its address cannot be reused meanwhile, and gives the key.
    std::shared_ptr<const CheckSpec> spec;
    uint64_t state_version = 0;
    std::optional<TimePoint> next_run;  // v3 only: the page shows it
    // Its text in text_ (valid while `kept`): the member "\n    \"ns/name\": {...}" at its
    // indentation, and its items of Errors "\n    \"...\"" joined by commas; neither has the comma
    // before it.
    size_t member_at = 0;
    size_t errors_at = 0;
    uint32_t member_size = 0;
    uint32_t errors_size = 0;
    bool kept = false;
    bool listed = false;  // a member of CheckDetails/JobDetails (v2 hides checks without result)
    bool job = false;
    bool fails = false;  // makes the top-level OK false
  };
  struct Top {
    std::vector<std::string> load_errors;
    std::string instance;
    std::map<std::string, std::string> metadata;
    std::set<std::string> namespaces;
    bool operator==(const Top&) const = default;
  };
  bool Changed(const Entry& e, const CheckView& c) const;
  // Merges the kept entries with the checks (in key order); false when none was added or
  // dropped.
  bool Align(const std::vector<const CheckView*>& checks);
  // The body: kept text for the checks `marks` (status_page_cache.cpp) does not call fresh,
  // new text for the others. `keep`: the body has every check (no filter), so it becomes text_
  // and the entries point into it.
  std::shared_ptr<const std::string> Assemble(const StatusSnapshot& snap,
                                              const std::vector<const CheckView*>& checks,
                                              const std::vector<uint8_t>& marks, bool ok,
                                              bool keep);
  // `jobs`: only jobs (true), only the others (false), or every check (none).
  void AppendGroup(std::string& out, const std::vector<const CheckView*>& checks,
                   const std::vector<uint8_t>& marks, bool keep, std::optional<bool> jobs);

  bool v3_;
  std::vector<Entry> entries_;  // in key order
  // The last unfiltered body: the entries' kept text.
  std::shared_ptr<const std::string> text_;
  std::shared_ptr<const std::string> body_;  // the last body returned (text_ unless filtered)
  Top body_top_;                             // what body_ was rendered from besides the entries
  size_t last_rendered_ = 0;
  bool last_reused_ = false;
};

}  // namespace sonde
