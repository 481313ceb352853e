#include "kube/reaper_policy.hpp"

#include <algorithm>
#include <charconv>
#include <map>
#include <optional>

#include "kube/json_fields.hpp"

namespace sonde::kube {
namespace {

namespace json = boost::json;
using internal::ArrayAt;
using internal::ObjectAt;
using internal::StringAt;

std::optional<TimePoint> TimeAt(const json::object& o, std::string_view key) {
  auto t = ParseRfc3339(StringAt(o, key));
  if (!t.ok()) return std::nullopt;
  return t.value();
}

// Set once a DELETE was accepted: the object goes away by itself (finalizers, grace period).
bool Deleting(const json::object& meta) {
  return meta.contains("deletionTimestamp") && !meta.at("deletionTimestamp").is_null();
}

// A checker pod as the reaper sees it.
struct CheckerPod {
  std::string ns, name, uid, check, run, phase;
  bool deleting = false;
  std::optional<TimePoint> created, ended, deadline;

  bool Ended() const { return phase == "Succeeded" || phase == "Failed"; }
  std::string CheckKey() const { return ns + "/" + check; }
};

// KH_CHECK_RUN_DEADLINE (Unix seconds) of the first container that carries it.
std::optional<TimePoint> RunDeadline(const json::object& pod) {
  const auto* spec = ObjectAt(pod, "spec");
  const auto* containers = spec ? ArrayAt(*spec, "containers") : nullptr;
  if (containers == nullptr) return std::nullopt;
  for (const auto& c : *containers) {
    const auto* env = c.is_object() ? ArrayAt(c.as_object(), "env") : nullptr;
    if (env == nullptr) continue;
    for (const auto& var : *env) {
      if (!var.is_object() || StringAt(var.as_object(), "name") != "KH_CHECK_RUN_DEADLINE") {
        continue;
      }
      const std::string text = StringAt(var.as_object(), "value");
      int64_t seconds = 0;
      const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), seconds);
      if (ec != std::errc() || end != text.data() + text.size()) return std::nullopt;
      return FromUnixSeconds(seconds);
    }
  }
  return std::nullopt;
}

// The latest container terminated.finishedAt: when the pod ended (Kuberhealthy v2's age).
std::optional<TimePoint> EndedAt(const json::object& status) {
  std::optional<TimePoint> out;
  const auto* statuses = ArrayAt(status, "containerStatuses");
  if (statuses == nullptr) return out;
  for (const auto& s : *statuses) {
    const auto* state = s.is_object() ? ObjectAt(s.as_object(), "state") : nullptr;
    const auto* done = state ? ObjectAt(*state, "terminated") : nullptr;
    if (auto at = done ? TimeAt(*done, "finishedAt") : std::nullopt) {
      out = out ? std::max(*out, *at) : *at;
    }
  }
  return out;
}

std::optional<CheckerPod> ReadPod(const json::object& pod) {
  const auto* meta = ObjectAt(pod, "metadata");
  if (meta == nullptr || StringAt(*meta, "name").empty()) return std::nullopt;
  CheckerPod p{StringAt(*meta, "namespace"), StringAt(*meta, "name"), StringAt(*meta, "uid")};
  if (const auto* labels = ObjectAt(*meta, "labels")) {
    p.run = StringAt(*labels, "kuberhealthy-run-id");
    if (p.run.empty()) p.run = StringAt(*labels, "kh-run-uuid");
    p.check = StringAt(*labels, "kuberhealthy-check-name");
    if (p.check.empty()) p.check = StringAt(*labels, "healthcheck");
  }
  p.deleting = Deleting(*meta);
  p.created = TimeAt(*meta, "creationTimestamp");
  if (const auto* status = ObjectAt(pod, "status")) {
    p.phase = StringAt(*status, "phase");
    p.ended = EndedAt(*status);
  }
  if (p.Ended() && !p.ended) p.ended = p.created;
  p.deadline = RunDeadline(pod);
  return p;
}

std::string Ago(Duration d) { return FormatGoDuration(d) + " ago"; }

ReapAction PodAction(const CheckerPod& p, ReapReason reason, std::string detail) {
  return {"pods", p.ns, p.name, p.uid, reason, std::move(detail)};
}

// Age and stuck rules, pod by pod; ended pods young enough to keep go to `groups` by check.
void ReapSinglePods(const ReaperInput& in, TimePoint now, const ReaperOptions& o,
                    std::map<std::string, std::vector<CheckerPod>>& groups,
                    std::vector<ReapAction>& out) {
  const Duration max_age = std::max(o.max_check_pod_age, kReaperSettleTime);
  const std::string limit = "; maxCheckPodAge is " + FormatGoDuration(max_age);
  for (const auto* object : in.pods) {
    auto p = ReadPod(*object);
    if (!p || p->deleting || in.active_runs.count(p->run) > 0) continue;
    if (p->Ended()) {
      if (!p->ended) continue;  // no finishedAt, no creationTimestamp: no age to go by
      if (now - *p->ended > max_age) {
        out.push_back(
            PodAction(*p, ReapReason::kExpired, p->phase + " " + Ago(now - *p->ended) + limit));
      } else if (!p->check.empty()) {
        groups[p->CheckKey()].push_back(std::move(*p));
      }
      continue;
    }
    if (!p->created) continue;
    const std::string phase = p->phase.empty() ? "no phase" : p->phase;
    if (now - *p->created > max_age) {
      out.push_back(PodAction(*p, ReapReason::kExpired,
                              phase + ", created " + Ago(now - *p->created) + limit));
    } else if (p->deadline && now > *p->deadline) {
      // v3: a pod that has not ended after max(2 x timeout, 5m) is stuck; its run is over.
      const Duration timeout = std::max(*p->deadline - *p->created, Duration::zero());
      const Duration stuck = std::max(2 * timeout, kReaperMinStuckAge);
      if (now - *p->created > stuck) {
        out.push_back(PodAction(*p, ReapReason::kTimeout,
                                phase + ", created " + Ago(now - *p->created) +
                                    ", its run's deadline passed " + Ago(now - *p->deadline)));
      }
    }
  }
}

// Count and retention rules among the ended pods of one check, newest first.
void ReapSurplus(std::vector<CheckerPod>& pods, TimePoint now, const ReaperOptions& o,
                 std::vector<ReapAction>& out) {
  std::sort(pods.begin(), pods.end(), [](const CheckerPod& a, const CheckerPod& b) {
    return a.ended != b.ended ? a.ended > b.ended : a.name < b.name;
  });
  size_t succeeded = 0, failed = 0;
  for (const auto& p : pods) {
    const Duration age = now - *p.ended;
    const bool settled = age > kReaperSettleTime;
    const std::string of = " of " + p.CheckKey();
    if (p.phase == "Succeeded") {
      if (++succeeded > o.max_completed_pod_count && settled) {
        out.push_back(PodAction(p, ReapReason::kCompleted,
                                std::to_string(succeeded - 1) + " newer Succeeded pods" + of +
                                    "; maxCompletedPodCount is " +
                                    std::to_string(o.max_completed_pod_count)));
      }
    } else if (age > o.error_pod_retention && settled) {
      out.push_back(PodAction(p, ReapReason::kFailed,
                              "Failed " + Ago(age) + "; the error pod retention is " +
                                  FormatGoDuration(o.error_pod_retention)));
    } else if (++failed > o.max_error_pod_count && settled) {
      out.push_back(PodAction(p, ReapReason::kFailed,
                              std::to_string(failed - 1) + " newer Failed pods" + of +
                                  "; maxErrorPodCount is " +
                                  std::to_string(o.max_error_pod_count)));
    }
  }
}

void ReapJobs(const ReaperInput& in, const std::set<std::string>& busy, TimePoint now,
              const ReaperOptions& o, std::vector<ReapAction>& out) {
  const Duration max_age = std::max(o.max_khjob_age, kReaperMinJobAge);
  for (const auto* job : in.khjobs) {
    const auto* meta = ObjectAt(*job, "metadata");
    const auto* spec = ObjectAt(*job, "spec");
    if (meta == nullptr || spec == nullptr || Deleting(*meta)) continue;
    const std::string ns = StringAt(*meta, "namespace"), name = StringAt(*meta, "name");
    const auto created = TimeAt(*meta, "creationTimestamp");
    if (name.empty() || StringAt(*spec, "phase") != "Completed" || !created) continue;
    if (busy.count(ns + "/" + name) > 0 || now - *created <= max_age) continue;
    out.push_back({"khjobs", ns, name, StringAt(*meta, "uid"), ReapReason::kJobCompleted,
                   "Completed, created " + Ago(now - *created) + "; maxKHJobAge is " +
                       FormatGoDuration(max_age)});
  }
}

void ReapStates(const ReaperInput& in, const std::set<std::string>& busy,
                std::vector<ReapAction>& out) {
  for (const auto* state : in.khstates) {
    const auto* meta = ObjectAt(*state, "metadata");
    if (meta == nullptr || Deleting(*meta)) continue;
    const std::string ns = StringAt(*meta, "namespace"), name = StringAt(*meta, "name");
    const std::string key = ns + "/" + name;
    if (name.empty() || in.checks.count(key) > 0 || busy.count(key) > 0) continue;
    out.push_back({"khstates", ns, name, StringAt(*meta, "uid"), ReapReason::kOrphanedState,
                   "no khcheck or khjob " + key});
  }
}

}  // namespace

std::string_view ReasonLabel(ReapReason reason) {
  switch (reason) {
    case ReapReason::kExpired:
      return "expired";
    case ReapReason::kCompleted:
      return "completed";
    case ReapReason::kFailed:
      return "failed";
    case ReapReason::kTimeout:
      return "timeout";
    case ReapReason::kJobCompleted:
      return "khjob";
    case ReapReason::kOrphanedState:
      return "khstate";
  }
  return "unknown";
}

std::vector<ReapAction> DecideReaping(const ReaperInput& in, TimePoint now,
                                      const ReaperOptions& o) {
  // Checks with a run in flight: their khjob and khstate stay, whatever else holds.
  std::set<std::string> busy;
  for (const auto* object : in.pods) {
    auto p = ReadPod(*object);
    if (p && in.active_runs.count(p->run) > 0) busy.insert(p->CheckKey());
  }
  std::vector<ReapAction> pods;
  std::map<std::string, std::vector<CheckerPod>> groups;
  ReapSinglePods(in, now, o, groups, pods);
  for (auto& [check, group] : groups) ReapSurplus(group, now, o, pods);
  std::sort(pods.begin(), pods.end(), [](const ReapAction& a, const ReapAction& b) {
    return std::tie(a.ns, a.name) < std::tie(b.ns, b.name);
  });
  ReapJobs(in, busy, now, o, pods);
  ReapStates(in, busy, pods);
  return pods;
}

bool StillDue(const ReapAction& action, const json::object* current,
              const std::set<std::string>& active_runs, bool check_exists) {
  const auto* meta = current ? ObjectAt(*current, "metadata") : nullptr;
  if (meta == nullptr || StringAt(*meta, "uid") != action.uid || Deleting(*meta)) return false;
  if (action.resource == "pods") {
    auto p = ReadPod(*current);
    return p && active_runs.count(p->run) == 0;
  }
  if (action.resource == "khjobs") {
    const auto* spec = ObjectAt(*current, "spec");
    return spec != nullptr && StringAt(*spec, "phase") == "Completed";
  }
  return !check_exists;
}

}  // namespace sonde::kube
