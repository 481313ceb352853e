#include "kube/kube_state.hpp"

#include <algorithm>
#include <cctype>

#include "kube/json_fields.hpp"

namespace sonde::kube {
namespace {

namespace json = boost::json;
using internal::ArrayAt;
using internal::BoolAt;
using internal::IntAt;
using internal::ObjectAt;
using internal::StringAt;

std::string RefOf(std::string_view plural, const json::object& obj) {
  const json::object* meta = ObjectAt(obj, "metadata");
  if (meta == nullptr) return std::string(plural);
  return std::string(plural) + "/" + StringAt(*meta, "namespace") + "/" + StringAt(*meta, "name");
}

json::array StringArray(const std::vector<std::string>& items) {
  json::array out;
  for (const std::string& s : items) out.emplace_back(s);
  return out;
}

// Strings of a JSON array; nullopt when it holds anything else.
std::optional<std::vector<std::string>> ReadStrings(const json::object& obj, std::string_view key) {
  std::vector<std::string> out;
  const json::value* v = obj.if_contains(key);
  if (v == nullptr || v->is_null()) return out;
  if (!v->is_array()) return std::nullopt;
  for (const json::value& item : v->get_array()) {
    if (!item.is_string()) return std::nullopt;
    out.emplace_back(item.get_string());
  }
  return out;
}

// An optional RFC 3339 instant; "" and null read as unset.
Result<std::optional<TimePoint>> ReadTime(const json::object& obj, std::string_view key) {
  const std::string text = StringAt(obj, key);
  if (text.empty()) return std::optional<TimePoint>{};
  auto t = ParseRfc3339(text);
  if (!t.ok()) return Result<std::optional<TimePoint>>::Error(t.error());
  return std::optional<TimePoint>{t.value()};
}

void PutTime(json::object& obj, std::string_view key, const std::optional<TimePoint>& t) {
  if (t) obj[key] = FormatRfc3339Nano(*t);
}

// What v2's khstate has no field for, as the sonde.dev/state annotation's JSON.
std::string SondeStateJson(const CheckState& s) {
  json::object o{{"currentUUID", s.current_uuid}};
  PutTime(o, "lastRunStart", s.last_run_start);
  PutTime(o, "lastOK", s.last_ok);
  PutTime(o, "lastFailure", s.last_failure);
  o["consecutiveFailures"] = s.consecutive_failures;
  o["successCount"] = s.success_count;
  o["failureCount"] = s.failure_count;
  return json::serialize(o);
}

Status ReadSondeState(const std::string& text, CheckState& s) {
  boost::system::error_code ec;
  const json::value v = json::parse(text, ec);
  if (ec || !v.is_object()) return Status::Error("not a JSON object");
  const json::object& o = v.get_object();
  s.current_uuid = StringAt(o, "currentUUID");
  for (auto [key, field] :
       {std::pair{"lastRunStart", &s.last_run_start}, std::pair{"lastOK", &s.last_ok},
        std::pair{"lastFailure", &s.last_failure}}) {
    auto t = ReadTime(o, key);
    if (!t.ok()) return Status::Error(std::string(key) + ": " + t.error());
    *field = t.value();
  }
  s.consecutive_failures = IntAt(o, "consecutiveFailures").value_or(0);
  s.success_count = IntAt(o, "successCount").value_or(0);
  s.failure_count = IntAt(o, "failureCount").value_or(0);
  return Status::Ok();
}

std::optional<TimePoint> FromUnix(std::optional<int64_t> s) {
  if (!s || *s == 0) return std::nullopt;
  return FromUnixSeconds(*s);
}

int64_t ToUnix(const std::optional<TimePoint>& t) { return t ? UnixSeconds(*t) : 0; }

}  // namespace

std::string KhStateName(std::string_view check_name) {
  std::string out;
  for (char c : check_name) {
    out += c == ' ' ? '-' : static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  }
  return out;
}

json::object KhStateObject(const CheckKey& key, const CheckState& state,
                           std::string_view resource_version) {
  json::object meta{{"name", KhStateName(key.name)}, {"namespace", key.ns}};
  if (!resource_version.empty()) meta["resourceVersion"] = resource_version;
  meta["annotations"] = json::object{{kSondeStateAnnotation, SondeStateJson(state)}};
  json::object spec{
      {"OK", state.ok},
      {"Errors", StringArray(state.errors)},
      {"RunDuration",
       state.run_duration == Duration{0} ? std::string() : FormatGoDuration(state.run_duration)},
      {"Namespace", key.ns},
      {"Node", state.node}};
  if (state.last_run) spec["LastRun"] = internal::FormatKubeTime(*state.last_run);
  spec["AuthoritativePod"] = state.authoritative_pod;
  spec["uuid"] = state.run_uuid;
  return json::object{{"apiVersion", "comcast.github.io/v1"},
                      {"kind", "KuberhealthyState"},
                      {"metadata", std::move(meta)},
                      {"spec", std::move(spec)}};
}

Result<CheckState> ReadKhState(const json::object& khstate) {
  const std::string ref = RefOf("khstates", khstate);
  auto fail = [&](std::string_view path, const std::string& msg) {
    return Result<CheckState>::Error(ref + ": " + std::string(path) + ": " + msg);
  };
  const json::object* spec = ObjectAt(khstate, "spec");
  if (spec == nullptr) return fail("spec", "missing");
  CheckState s;
  s.ok = BoolAt(*spec, "OK").value_or(false);
  auto errors = ReadStrings(*spec, "Errors");
  if (!errors) return fail("spec.Errors", "must be a list of strings");
  s.errors = std::move(*errors);
  if (const std::string d = StringAt(*spec, "RunDuration"); !d.empty()) {
    auto parsed = ParseGoDuration(d);
    if (!parsed.ok()) return fail("spec.RunDuration", parsed.error());
    s.run_duration = parsed.value();
  }
  auto last_run = ReadTime(*spec, "LastRun");
  if (!last_run.ok()) return fail("spec.LastRun", last_run.error());
  s.last_run = last_run.value();
  s.node = StringAt(*spec, "Node");
  s.authoritative_pod = StringAt(*spec, "AuthoritativePod");
  s.run_uuid = StringAt(*spec, "uuid");
  const json::object* meta = ObjectAt(khstate, "metadata");
  const json::object* annotations = meta ? ObjectAt(*meta, "annotations") : nullptr;
  if (annotations != nullptr && annotations->contains(kSondeStateAnnotation)) {
    Status st = ReadSondeState(StringAt(*annotations, kSondeStateAnnotation), s);
    if (!st.ok()) {
      return fail("metadata.annotations[\"" + std::string(kSondeStateAnnotation) + "\"]",
                  st.message());
    }
  } else if (s.last_run) {  // written by Kuberhealthy
    (s.ok ? s.last_ok : s.last_failure) = s.last_run;
  }
  return s;
}

json::object HealthCheckStatusPatch(const CheckKey& key, const CheckState& state) {
  json::object status{{"ok", state.ok},
                      {"errors", StringArray(state.errors)},
                      {"consecutiveFailures", state.consecutive_failures},
                      {"runDuration", static_cast<int64_t>(state.run_duration.count())},
                      {"namespace", key.ns},
                      {"currentUUID", state.current_uuid},
                      {"lastRunUnix", ToUnix(state.last_run_start)},
                      {"successCount", state.success_count},
                      {"failureCount", state.failure_count},
                      {"lastOKUnix", ToUnix(state.last_ok)},
                      {"lastFailureUnix", ToUnix(state.last_failure)}};
  return json::object{{"status", std::move(status)}};
}

Result<CheckState> ReadHealthCheckStatus(const json::object& health_check) {
  CheckState s;
  const json::object* status = ObjectAt(health_check, "status");
  if (status == nullptr) return s;
  s.ok = BoolAt(*status, "ok").value_or(false);
  auto errors = ReadStrings(*status, "errors");
  if (!errors) {
    return Result<CheckState>::Error(RefOf("healthchecks", health_check) +
                                     ": status.errors: must be a list of strings");
  }
  s.errors = std::move(*errors);
  s.consecutive_failures = IntAt(*status, "consecutiveFailures").value_or(0);
  s.run_duration = Duration{IntAt(*status, "runDuration").value_or(0)};
  s.current_uuid = StringAt(*status, "currentUUID");
  s.run_uuid = s.current_uuid;
  s.last_run_start = FromUnix(IntAt(*status, "lastRunUnix"));
  s.success_count = IntAt(*status, "successCount").value_or(0);
  s.failure_count = IntAt(*status, "failureCount").value_or(0);
  s.last_ok = FromUnix(IntAt(*status, "lastOKUnix"));
  s.last_failure = FromUnix(IntAt(*status, "lastFailureUnix"));
  s.last_run = std::max(s.last_ok, s.last_failure);
  return s;
}

}  // namespace sonde::kube
