#include "contract/status_page.hpp"

#include <algorithm>

#include "contract/json_writer.hpp"

namespace sonde {
namespace {

std::vector<const CheckView*> Selected(const StatusSnapshot& snap,
                                       const std::set<std::string>& namespaces) {
  std::vector<const CheckView*> out;
  for (const auto& c : snap.checks) {
    if (namespaces.empty() || namespaces.count(c.spec->key.ns) > 0) out.push_back(&c);
  }
  const auto by_key = [](const CheckView* a, const CheckView* b) {
    return a->spec->key < b->spec->key;
  };
  // The engine's snapshot is in key order already: checking is n comparisons, sorting n log n.
  if (!std::is_sorted(out.begin(), out.end(), by_key)) std::sort(out.begin(), out.end(), by_key);
  return out;
}

void WriteV2Details(JsonWriter& w, const CheckView& c) {
  const CheckState& s = c.state;
  w.BeginObject();
  w.Key("OK");
  w.Bool(s.ok);
  w.Key("Errors");
  w.StringArray(s.errors);
  w.Key("RunDuration");
  w.String(FormatGoDuration(s.run_duration));
  w.Key("Namespace");
  w.String(c.spec->key.ns);
  w.Key("Node");
  w.String(s.node);
  w.Key("LastRun");
  w.String(FormatRfc3339Nano(*s.last_run));
  w.Key("AuthoritativePod");
  w.String(s.authoritative_pod);
  w.Key("uuid");
  w.String(s.run_uuid);
  w.EndObject();
}

void WriteV2Group(JsonWriter& w, const char* name, const std::vector<const CheckView*>& checks,
                  bool jobs) {
  w.Key(name);
  w.BeginObject();
  for (const CheckView* c : checks) {
    if (c->spec->IsJob() != jobs || !c->state.HasResult()) continue;
    w.Key(c->spec->key.str());
    WriteStatusDetails(w, *c, /*v3=*/false);
  }
  w.EndObject();
}

// Writes `key: value` unless value is zero, like Go's omitempty.
void IntIfSet(JsonWriter& w, const char* key, int64_t value) {
  if (value == 0) return;
  w.Key(key);
  w.Int(value);
}

int64_t UnixOrZero(const std::optional<TimePoint>& t) { return t ? UnixSeconds(*t) : 0; }

void WriteV3Details(JsonWriter& w, const CheckView& c) {
  const CheckState& s = c.state;
  w.BeginObject();
  w.Key("ok");
  w.Bool(s.ok);
  if (!s.errors.empty()) {
    w.Key("errors");
    w.StringArray(s.errors);
  }
  IntIfSet(w, "consecutiveFailures", s.consecutive_failures);
  IntIfSet(w, "runDuration", s.run_duration.count());
  w.Key("namespace");
  w.String(c.spec->key.ns);
  w.Key("currentUUID");
  w.String(s.current_uuid);
  IntIfSet(w, "lastRunUnix", UnixOrZero(s.last_run_start));
  IntIfSet(w, "nextRunUnix", UnixOrZero(c.next_run));
  IntIfSet(w, "successCount", s.success_count);
  IntIfSet(w, "failureCount", s.failure_count);
  IntIfSet(w, "lastOKUnix", UnixOrZero(s.last_ok));
  IntIfSet(w, "lastFailureUnix", UnixOrZero(s.last_failure));
  IntIfSet(w, "timeoutSeconds",
           std::chrono::duration_cast<std::chrono::seconds>(c.spec->timeout).count());
  if (!c.spec->IsJob()) {
    IntIfSet(w, "runIntervalSeconds",
             std::chrono::duration_cast<std::chrono::seconds>(c.spec->run_interval).count());
  }
  w.EndObject();
}

}  // namespace

void AppendNonBlankErrors(std::vector<std::string>& to, const std::vector<std::string>& from) {
  for (const auto& e : from) {
    if (e.find_first_not_of(" \t\r\n") != std::string::npos) to.push_back(e);
  }
}

void WriteMetadata(JsonWriter& w, const std::map<std::string, std::string>& metadata) {
  w.Key("Metadata");
  w.BeginObject();
  for (const auto& [k, v] : metadata) {
    w.Key(k);
    w.String(v);
  }
  w.EndObject();
}

void WriteStatusDetails(JsonWriter& w, const CheckView& c, bool v3) {
  if (v3) {
    WriteV3Details(w, c);
  } else {
    WriteV2Details(w, c);
  }
}

bool CountsTowardErrors(const CheckView& c, bool v3) {
  return c.state.HasResult() && (!v3 || !c.state.ok);
}

bool FailsStatusPage(const CheckView& c, bool v3) {
  if (!CountsTowardErrors(c, v3)) return false;
  if (v3) return true;
  // v2: a check fails the page by having a non-blank error, whatever its OK says.
  return std::any_of(c.state.errors.begin(), c.state.errors.end(), [](const std::string& e) {
    return e.find_first_not_of(" \t\r\n") != std::string::npos;
  });
}

std::set<std::string> ParseNamespaceFilter(std::string_view value) {
  std::set<std::string> out;
  while (!value.empty()) {
    const size_t comma = value.find(',');
    std::string_view item = value.substr(0, comma);
    while (!item.empty() && item.front() == ' ') item.remove_prefix(1);
    while (!item.empty() && item.back() == ' ') item.remove_suffix(1);
    if (!item.empty()) out.emplace(item);
    if (comma == std::string_view::npos) break;
    value.remove_prefix(comma + 1);
  }
  return out;
}

std::string RenderStatusV2(const StatusSnapshot& snap, const std::set<std::string>& namespaces) {
  const auto checks = Selected(snap, namespaces);
  std::vector<std::string> errors = snap.load_errors;
  bool ok = errors.empty();
  for (const CheckView* c : checks) {
    if (!CountsTowardErrors(*c, /*v3=*/false)) continue;
    AppendNonBlankErrors(errors, c->state.errors);
    if (FailsStatusPage(*c, /*v3=*/false)) ok = false;
  }
  JsonWriter w(/*pretty=*/true);
  w.BeginObject();
  w.Key("OK");
  w.Bool(ok);
  w.Key("Errors");
  w.StringArray(errors);
  WriteV2Group(w, "CheckDetails", checks, /*jobs=*/false);
  WriteV2Group(w, "JobDetails", checks, /*jobs=*/true);
  w.Key("CurrentMaster");
  w.String(snap.instance);
  WriteMetadata(w, snap.metadata);
  w.EndObject();
  return w.str() + "\n";
}

std::string RenderStatusV3(const StatusSnapshot& snap, const std::set<std::string>& namespaces) {
  const auto checks = Selected(snap, namespaces);
  std::vector<std::string> errors = snap.load_errors;
  bool ok = errors.empty();
  for (const CheckView* c : checks) {
    if (!CountsTowardErrors(*c, /*v3=*/true)) continue;
    AppendNonBlankErrors(errors, c->state.errors);
    if (FailsStatusPage(*c, /*v3=*/true)) ok = false;
  }
  JsonWriter w(/*pretty=*/true);
  w.BeginObject();
  w.Key("OK");
  w.Bool(ok);
  w.Key("Errors");
  w.StringArray(errors);
  w.Key("CheckDetails");
  w.BeginObject();
  for (const CheckView* c : checks) {
    w.Key(c->spec->key.str());
    WriteStatusDetails(w, *c, /*v3=*/true);
  }
  w.EndObject();
  w.Key("CurrentMaster");
  w.String(snap.instance);
  WriteMetadata(w, snap.metadata);
  w.EndObject();
  return w.str() + "\n";
}

const char* StateName(const CheckView& c) {
  if (!c.state.current_uuid.empty()) return "running";
  if (!c.state.HasResult()) return "pending";
  return c.state.ok ? "ok" : "failing";
}

}  // namespace sonde
