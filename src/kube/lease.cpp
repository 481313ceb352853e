#include "kube/lease.hpp"

#include "kube/json_fields.hpp"

namespace sonde::kube {
namespace {

namespace json = boost::json;
using internal::IntAt;
using internal::ObjectAt;
using internal::StringAt;

int64_t Seconds(Duration d) { return std::chrono::duration_cast<std::chrono::seconds>(d).count(); }

// Optional MicroTime (or Time) field; "" and null read as unset.
Result<std::optional<TimePoint>> ReadTime(const json::object& spec, std::string_view key) {
  const std::string text = StringAt(spec, key);
  if (text.empty()) return std::optional<TimePoint>{};
  auto t = ParseRfc3339(text);
  if (!t.ok()) return Result<std::optional<TimePoint>>::Error(t.error());
  return std::optional<TimePoint>{t.value()};
}

struct Spec {
  std::string holder;
  int64_t duration_seconds;
  TimePoint acquire;
  TimePoint renew;
  int64_t transitions;
};

json::object LeaseObject(const Spec& s, const std::string& resource_version,
                         const LeaseOptions& opts) {
  json::object meta{{"name", opts.name}, {"namespace", opts.ns}};
  if (!resource_version.empty()) meta["resourceVersion"] = resource_version;
  json::object spec{{"holderIdentity", s.holder},
                    {"leaseDurationSeconds", s.duration_seconds},
                    {"acquireTime", internal::FormatMicroTime(s.acquire)},
                    {"renewTime", internal::FormatMicroTime(s.renew)},
                    {"leaseTransitions", s.transitions}};
  return json::object{{"apiVersion", "coordination.k8s.io/v1"},
                      {"kind", "Lease"},
                      {"metadata", std::move(meta)},
                      {"spec", std::move(spec)}};
}

bool SameRecord(const LeaseRecord& a, const LeaseRecord& b) {
  LeaseRecord b_rv = b;
  b_rv.resource_version = a.resource_version;
  return a == b_rv;
}

}  // namespace

std::string ValidateLeaseOptions(const LeaseOptions& opts) {
  if (opts.name.empty()) return "the lease name is empty";
  if (opts.retry_period <= Duration{0}) return "the retry period must be greater than zero";
  if (opts.lease_duration <= opts.renew_deadline) {
    return "the lease duration (" + FormatGoDuration(opts.lease_duration) +
           ") must be greater than the renew deadline (" + FormatGoDuration(opts.renew_deadline) +
           ")";
  }
  // client-go's JitterFactor: a retry may come up to 1.2 retry periods after the previous one.
  if (opts.renew_deadline * 5 <= opts.retry_period * 6) {
    return "the renew deadline (" + FormatGoDuration(opts.renew_deadline) +
           ") must be greater than 1.2 times the retry period (" +
           FormatGoDuration(opts.retry_period) + ")";
  }
  if (opts.lease_duration < std::chrono::seconds(1)) return "the lease duration is under 1s";
  return "";
}

Result<LeaseRecord> ReadLease(const json::object& lease) {
  const json::object* meta = ObjectAt(lease, "metadata");
  const std::string ref =
      "leases/" + (meta ? StringAt(*meta, "namespace") + "/" + StringAt(*meta, "name") : "?");
  LeaseRecord r;
  if (meta != nullptr) r.resource_version = StringAt(*meta, "resourceVersion");
  const json::object* spec = ObjectAt(lease, "spec");
  if (spec == nullptr) return r;  // a Lease with an empty spec: nobody holds it
  r.holder = StringAt(*spec, "holderIdentity");
  r.lease_duration_seconds = IntAt(*spec, "leaseDurationSeconds").value_or(0);
  r.lease_transitions = IntAt(*spec, "leaseTransitions").value_or(0);
  for (auto [key, field] :
       {std::pair{"acquireTime", &r.acquire_time}, std::pair{"renewTime", &r.renew_time}}) {
    auto t = ReadTime(*spec, key);
    if (!t.ok()) {
      return Result<LeaseRecord>::Error(ref + ": spec." + std::string(key) + ": " + t.error());
    }
    *field = t.value();
  }
  return r;
}

LeaseObservation Observe(const LeaseObservation& before, const LeaseRecord& seen, TimePoint now) {
  if (before.record && SameRecord(*before.record, seen)) return {seen, before.at};
  return {seen, now};
}

LeaseDecision DecideLease(const LeaseObservation& observed, const std::string& identity,
                          TimePoint now, const LeaseOptions& opts) {
  LeaseDecision d;
  const int64_t mine = Seconds(opts.lease_duration);
  if (!observed.record) {
    d.action = LeaseAction::kCreate;
    d.object = LeaseObject({identity, mine, now, now, 0}, "", opts);
    return d;
  }
  const LeaseRecord& r = *observed.record;
  // The holder's own duration counts, as in client-go: replicas may be configured differently.
  const Duration held = r.lease_duration_seconds > 0
                            ? std::chrono::seconds(r.lease_duration_seconds)
                            : opts.lease_duration;
  if (!r.holder.empty() && r.holder != identity && observed.at + held > now) {
    d.action = LeaseAction::kWait;
    d.holder = r.holder;
    d.expires_at = observed.at + held;
    return d;
  }
  if (r.holder == identity) {
    d.action = LeaseAction::kRenew;
    d.object = LeaseObject({identity, mine, r.acquire_time.value_or(now), now, r.lease_transitions},
                           r.resource_version, opts);
    return d;
  }
  d.action = LeaseAction::kTakeOver;
  d.object =
      LeaseObject({identity, mine, now, now, r.lease_transitions + 1}, r.resource_version, opts);
  return d;
}

bool StillLeader(TimePoint last_renew, TimePoint now, const LeaseOptions& opts) {
  return now - last_renew < opts.renew_deadline;
}

json::object ReleaseLease(const LeaseRecord& mine, TimePoint now, const LeaseOptions& opts) {
  return LeaseObject({"", 1, now, now, mine.lease_transitions}, mine.resource_version, opts);
}

}  // namespace sonde::kube
