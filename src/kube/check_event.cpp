#include "kube/check_event.hpp"

#include <cstdio>

namespace sonde::kube {

namespace json = boost::json;

namespace {

// The API server keeps messages of any size, but kubectl's columns and etcd do not need more.
constexpr size_t kMaxMessage = 1024;

const char* ApiVersionOf(CheckKind kind) {
  return kind == CheckKind::kHealthCheck ? "kuberhealthy.github.io/v2" : "comcast.github.io/v1";
}

std::string Joined(const std::vector<std::string>& errors) {
  std::string out;
  for (const auto& e : errors) out += (out.empty() ? "" : "; ") + e;
  if (out.empty()) out = "check failed";
  if (out.size() > kMaxMessage) out = out.substr(0, kMaxMessage - 3) + "...";
  return out;
}

// Unique per object and instant, as client-go names events: <object>.<nanoseconds in hex>,
// the object's part cut so that the name stays within the 253 characters a name may have.
std::string EventName(const std::string& object, TimePoint now) {
  char hex[32];
  std::snprintf(hex, sizeof hex, ".%llx",
                static_cast<unsigned long long>(now.time_since_epoch().count()));
  const std::string suffix = hex;
  std::string head = object.substr(0, 253 - suffix.size());
  while (!head.empty() && (head.back() == '.' || head.back() == '-')) head.pop_back();
  return head + suffix;
}

}  // namespace

std::optional<json::object> CheckEvent(const RunOutcome& run, std::optional<bool> previous_ok,
                                       TimePoint now, const std::string& instance) {
  if (run.ended_by == "removed") return std::nullopt;  // the resource is gone
  if (run.ok && previous_ok.value_or(true)) return std::nullopt;
  const std::string reason =
      run.ok || run.ended_by != "timeout" ? "CheckReported" : "CheckRunTimedOut";
  const std::string stamp = FormatRfc3339Nano(FromUnixSeconds(UnixSeconds(now)));  // metav1.Time
  return json::object{
      {"apiVersion", "v1"},
      {"kind", "Event"},
      {"metadata", json::object{{"name", EventName(run.key.name, now)}, {"namespace", run.key.ns}}},
      {"involvedObject", json::object{{"apiVersion", ApiVersionOf(run.kind)},
                                      {"kind", KindName(run.kind)},
                                      {"name", run.key.name},
                                      {"namespace", run.key.ns}}},
      {"reason", reason},
      {"message", run.ok ? std::string("check reported OK") : Joined(run.errors)},
      {"type", run.ok ? "Normal" : "Warning"},
      {"source", json::object{{"component", "sonde"}}},
      {"reportingComponent", "sonde"},
      {"reportingInstance", instance},
      {"firstTimestamp", stamp},
      {"lastTimestamp", stamp},
      {"count", 1}};
}

}  // namespace sonde::kube
