// Renders the status pages: Kuberhealthy v2's JSON at "/" and v3's at "/json".
// Pure: input is a snapshot, output is the response body. Thread-safe.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "core/check.hpp"
#include "core/check_state.hpp"

namespace sonde {

// CheckView::state_version of a check whose state is the empty CheckState{}.
inline constexpr uint64_t kDefaultStateVersion = 1;

// One check as the status pages see it.
struct CheckView {
  std::shared_ptr<const CheckSpec> spec;  // never null
  CheckState state;
  std::optional<TimePoint> next_run;  // none while running, or for a finished job
  std::string heartbeat_url;          // heartbeat checks: where the job reports ("" otherwise)
  // Differs whenever `state` does (the engine stamps every change, versions never repeat within
  // a process), so the incremental caches compare it instead of keeping a copy of the state.
  // 0: not tracked, the caches render the check again every time.
  uint64_t state_version = 0;
};

// The check's state as Sonde's own APIs and the dashboard name it: "running" (a run is in
// flight), "pending" (never had a result), "ok" or "failing".
const char* StateName(const CheckView& check);

struct StatusSnapshot {
  std::vector<CheckView> checks;         // any order; rendering sorts by key
  std::vector<std::string> load_errors;  // check files that failed to load
  std::string instance;  // the leader's name (CurrentMaster): this daemon's, unless it follows
  bool leader = true;    // operator mode: this replica leads (kuberhealthy_controller_leader)
  std::map<std::string, std::string> metadata;  // config stateMetadata
};

// Parses "?namespace=a,b": empty items are dropped; an empty set means all namespaces.
std::set<std::string> ParseNamespaceFilter(std::string_view value);

// v2 "/": OK, Errors, CheckDetails ("ns/name" -> khstate fields), JobDetails, CurrentMaster,
// Metadata; indented with two spaces as Go's MarshalIndent does. Checks without a result yet
// are omitted, as v2 hides khstates nobody has written. Load errors count as errors.
std::string RenderStatusV2(const StatusSnapshot& snap, const std::set<std::string>& namespaces);

// v3 "/json": the same top level with per-check v3 status fields, keyed "ns/name" (v3 keys by
// bare name, so same-named checks of two namespaces overwrite each other there). Zero-valued
// fields are omitted as in v3, except ok and currentUUID. A check that has never run is
// listed with ok=false but does not make the top-level OK false.
std::string RenderStatusV3(const StatusSnapshot& snap, const std::set<std::string>& namespaces);

// The pieces both renderers and StatusPageCache (status_page_cache.hpp) write with.
class JsonWriter;
// One check's member of CheckDetails/JobDetails: its object (v2 khstate or v3 status fields).
void WriteStatusDetails(JsonWriter& w, const CheckView& c, bool v3);
// Whether the check counts toward the top-level OK/Errors at all: v2 counts checks with a
// result; v3 counts failing checks with a result.
bool CountsTowardErrors(const CheckView& c, bool v3);
// Whether the check makes the top-level OK false.
bool FailsStatusPage(const CheckView& c, bool v3);
// Its items of the top-level Errors: the non-blank errors of a check that counts.
void AppendNonBlankErrors(std::vector<std::string>& to, const std::vector<std::string>& from);
void WriteMetadata(JsonWriter& w, const std::map<std::string, std::string>& metadata);

}  // namespace sonde
