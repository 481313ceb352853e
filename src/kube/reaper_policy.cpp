#include "kube/reaper_policy.hpp"

#include <algorithm>
#include <map>

#include "kube/json_fields.hpp"

namespace sonde::kube {
namespace {

using internal::ArrayAt;
using internal::ObjectAt;
using internal::StringAt;

// Kuberhealthy's floors: younger settings would race the runs they clean up after.
constexpr Duration kMinPodAge = std::chrono::seconds(30);
constexpr Duration kMinJobAge = std::chrono::minutes(5);

std::optional<TimePoint> TimeAt(const boost::json::object& o, std::string_view key) {
  auto t = ParseRfc3339(StringAt(o, key));
  if (!t.ok()) return std::nullopt;
  return t.value();
}

struct EndedPod {
  std::string ns, name, check;
  bool succeeded = false;
  TimePoint ended;  // the last container's finishedAt, else the pod's creation
};

// A checker pod whose run is over, or nullopt (running, pending, active, unreadable).
std::optional<EndedPod> ReadEnded(const boost::json::object& pod,
                                  const std::set<std::string>& active) {
  const auto* meta = ObjectAt(pod, "metadata");
  const auto* labels = meta ? ObjectAt(*meta, "labels") : nullptr;
  const auto* status = ObjectAt(pod, "status");
  if (meta == nullptr || labels == nullptr || status == nullptr) return std::nullopt;
  std::string run = StringAt(*labels, "kuberhealthy-run-id");
  std::string check = StringAt(*labels, "kuberhealthy-check-name");
  if (run.empty()) run = StringAt(*labels, "kh-run-uuid");
  if (check.empty()) check = StringAt(*labels, "healthcheck");
  const std::string phase = StringAt(*status, "phase");
  if (active.count(run) > 0 || (phase != "Succeeded" && phase != "Failed")) return std::nullopt;
  EndedPod out{StringAt(*meta, "namespace"), StringAt(*meta, "name"), check, phase == "Succeeded"};
  out.ended = TimeAt(*meta, "creationTimestamp").value_or(TimePoint{});
  if (const auto* statuses = ArrayAt(*status, "containerStatuses")) {
    for (const auto& s : *statuses) {
      const auto* state = s.is_object() ? ObjectAt(s.as_object(), "state") : nullptr;
      const auto* done = state ? ObjectAt(*state, "terminated") : nullptr;
      if (auto at = done ? TimeAt(*done, "finishedAt") : std::nullopt) {
        out.ended = std::max(out.ended, *at);
      }
    }
  }
  return out;
}

void ReapPods(const ReaperInput& in, TimePoint now, const ReaperOptions& o,
              std::vector<ReapAction>& out) {
  const Duration max_age = std::max(o.max_check_pod_age, kMinPodAge);
  std::map<std::string, std::vector<EndedPod>> by_check;  // "ns/check"
  for (const auto* pod : in.pods) {
    auto ended = ReadEnded(*pod, in.active_runs);
    if (!ended) continue;
    if (now - ended->ended > max_age) {
      out.push_back({"pods", ended->ns, ended->name, "older than maxCheckPodAge"});
      continue;
    }
    by_check[ended->ns + "/" + ended->check].push_back(std::move(*ended));
  }
  for (auto& [check, pods] : by_check) {
    std::sort(pods.begin(), pods.end(),
              [](const EndedPod& a, const EndedPod& b) { return a.ended > b.ended; });
    size_t succeeded = 0, failed = 0;
    for (const auto& p : pods) {
      if (p.succeeded && ++succeeded > o.max_completed_pod_count) {
        out.push_back({"pods", p.ns, p.name, "more than maxCompletedPodCount succeeded pods"});
      } else if (!p.succeeded && now - p.ended > o.error_pod_retention) {
        out.push_back({"pods", p.ns, p.name, "failed longer ago than the error pod retention"});
      } else if (!p.succeeded && ++failed > o.max_error_pod_count) {
        out.push_back({"pods", p.ns, p.name, "more than maxErrorPodCount failed pods"});
      }
    }
  }
}

}  // namespace

std::vector<ReapAction> DecideReaping(const ReaperInput& in, TimePoint now,
                                      const ReaperOptions& o) {
  std::vector<ReapAction> out;
  ReapPods(in, now, o, out);
  const Duration job_age = std::max(o.max_khjob_age, kMinJobAge);
  for (const auto* job : in.khjobs) {
    const auto* meta = ObjectAt(*job, "metadata");
    const auto* spec = ObjectAt(*job, "spec");
    if (meta == nullptr || spec == nullptr || StringAt(*spec, "phase") != "Completed") continue;
    const auto created = TimeAt(*meta, "creationTimestamp");
    if (created && now - *created > job_age) {
      out.push_back({"khjobs", StringAt(*meta, "namespace"), StringAt(*meta, "name"),
                     "completed and older than maxKHJobAge"});
    }
  }
  for (const auto* state : in.khstates) {
    const auto* meta = ObjectAt(*state, "metadata");
    if (meta == nullptr) continue;
    const std::string ns = StringAt(*meta, "namespace"), name = StringAt(*meta, "name");
    if (in.checks.count(ns + "/" + name) == 0) {
      out.push_back({"khstates", ns, name, "no check or job of that name"});
    }
  }
  return out;
}

}  // namespace sonde::kube
