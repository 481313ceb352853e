// The daemonset check (kuberhealthy/daemonset-check): a DaemonSet of pause containers must get
// a Ready pod on every node that should run it, and must then go away with its pods. Steps:
// remove what earlier runs of this check left (DaemonSets and pods labelled
// source=kuberhealthy,khcheck=daemonset whose name is CHECK_DAEMONSET_NAME-<digits>), list the
// nodes and plan which must be covered (daemonset_plan.hpp), create NAME-<unix seconds>, poll
// its pods until each planned node has a Ready one, then delete it (pods with
// SHUTDOWN_GRACE_PERIOD) and wait until its pods are gone. The teardown runs whether or not
// the pods came up. The wait for pods ends SHUTDOWN_GRACE_PERIOD (at most half the budget)
// before the run's deadline, which is left for the teardown.
// Failure: "daemonset kuberhealthy/daemonset-1700000000: no ready pod on node(s) node-b after
// 9m55s", followed by one line per such node saying what its pod is doing.
#include <unistd.h>

#include <algorithm>
#include <iostream>
#include <set>
#include <thread>

#include "checks/check_kinds.hpp"
#include "checks/daemonset_plan.hpp"
#include "checks/env_reader.hpp"
#include "checks/kube_session.hpp"
#include "core/clock.hpp"
#include "kube/json_fields.hpp"

namespace sonde::checks_internal {
namespace {

using kube::internal::ArrayAt;
using kube::internal::ObjectAt;
using kube::internal::StringAt;
namespace json = boost::json;
using Steady = std::chrono::steady_clock;

constexpr auto kPoll = std::chrono::seconds(1);
constexpr auto kRedelete = std::chrono::seconds(5);
constexpr size_t kMaxNamedNodes = 20;  // nodes named in one message; the rest are counted
constexpr size_t kMaxDetails = 10;     // per-node detail lines in a failure

std::string NodeList(const std::vector<std::string>& nodes) {
  std::string out;
  for (size_t i = 0; i < nodes.size() && i < kMaxNamedNodes; ++i) {
    out += (i ? ", " : "") + nodes[i];
  }
  if (nodes.size() > kMaxNamedNodes) {
    out += " and " + std::to_string(nodes.size() - kMaxNamedNodes) + " more";
  }
  return out;
}

std::string Waited(Steady::duration d) {
  return FormatGoDuration(std::chrono::round<std::chrono::seconds>(d));
}

// The node a DaemonSet pod is for: its nodeName once bound, else its pinned node affinity.
std::string PodNode(const json::object& pod) {
  const json::object* spec = ObjectAt(pod, "spec");
  if (spec == nullptr) return "";
  if (std::string node = StringAt(*spec, "nodeName"); !node.empty()) return node;
  const json::object* a = ObjectAt(*spec, "affinity");
  const json::object* na = a ? ObjectAt(*a, "nodeAffinity") : nullptr;
  const json::object* req =
      na ? ObjectAt(*na, "requiredDuringSchedulingIgnoredDuringExecution") : nullptr;
  const json::array* terms = req ? ArrayAt(*req, "nodeSelectorTerms") : nullptr;
  if (terms == nullptr || terms->size() != 1 || !(*terms)[0].is_object()) return "";
  const json::array* fields = ArrayAt((*terms)[0].get_object(), "matchFields");
  if (fields == nullptr || fields->empty() || !(*fields)[0].is_object()) return "";
  const json::array* values = ArrayAt((*fields)[0].get_object(), "values");
  return values && values->size() == 1 && (*values)[0].is_string()
             ? std::string((*values)[0].get_string())
             : "";
}

bool PodReady(const json::object& pod) {
  const json::object* meta = ObjectAt(pod, "metadata");
  if (meta && meta->contains("deletionTimestamp")) return false;
  const json::object* status = ObjectAt(pod, "status");
  const json::array* conditions = status ? ArrayAt(*status, "conditions") : nullptr;
  if (conditions == nullptr) return false;
  return std::any_of(conditions->begin(), conditions->end(), [](const json::value& c) {
    return c.is_object() && StringAt(c.get_object(), "type") == "Ready" &&
           StringAt(c.get_object(), "status") == "True";
  });
}

// What a pod that is not Ready is doing: "pod x is Pending, not scheduled", "pod x is Pending
// (sleep: ErrImagePull)".
std::string PodState(const json::object& pod) {
  const json::object* meta = ObjectAt(pod, "metadata");
  const json::object* spec = ObjectAt(pod, "spec");
  const json::object* status = ObjectAt(pod, "status");
  std::string phase = status ? StringAt(*status, "phase") : "";
  std::string out =
      "pod " + (meta ? StringAt(*meta, "name") : "") + " is " + (phase.empty() ? "Pending" : phase);
  if (meta && meta->contains("deletionTimestamp")) return out + ", being deleted";
  if (spec && StringAt(*spec, "nodeName").empty()) return out + ", not scheduled";
  if (const std::string w = status ? WaitingReasons(*status) : ""; !w.empty()) {
    return out + " (" + w + ")";
  }
  return out + ", not Ready";
}

// The hostname as a label value (Kuberhealthy labels the DaemonSet with its pod's name).
std::string Instance() {
  char host[256] = {};
  if (gethostname(host, sizeof host - 1) != 0) return "sonde";
  std::string v = LabelValue(host);
  return v.empty() ? "sonde" : v;
}

class DaemonsetRun {
 public:
  DaemonsetRun(KubeSession& api, const DaemonsetConfig& config, Steady::time_point end)
      : api_(api), config_(config), end_(end) {}

  std::vector<std::string> Run();

 private:
  std::string DsPath() const { return "/apis/apps/v1/namespaces/" + config_.ns + "/daemonsets"; }
  std::string PodsPath(const std::string& selector) const {
    return "/api/v1/namespaces/" + config_.ns + "/pods?labelSelector=" + QueryEscape(selector);
  }
  std::string Named(const std::string& ds) const {
    return "daemonset " + config_.ns + "/" + ds + ": ";
  }
  bool OurRun(const std::string& ds) const;
  void RemoveLeftovers();
  std::optional<std::vector<std::string>> PlanNodesOrFail();
  bool Create(const std::string& ds, int64_t run_time, const std::vector<std::string>& nodes);
  void WaitForReadyPods(const std::string& ds, const std::vector<std::string>& nodes,
                        Steady::time_point until);
  void Teardown(const std::string& ds, Steady::time_point until);
  void Fail(std::string e) { errors_.push_back(std::move(e)); }

  KubeSession& api_;
  const DaemonsetConfig& config_;
  Steady::time_point end_;
  std::vector<std::string> errors_;
};

bool DaemonsetRun::OurRun(const std::string& ds) const {
  const std::string prefix = config_.name + "-";
  return ds.size() > prefix.size() && ds.starts_with(prefix) &&
         std::all_of(ds.begin() + static_cast<long>(prefix.size()), ds.end(),
                     [](char c) { return c >= '0' && c <= '9'; });
}

void DaemonsetRun::RemoveLeftovers() {
  const std::string selector = "source=kuberhealthy,khcheck=daemonset";
  std::set<std::string> names;
  auto sets = api_.List(DsPath() + "?labelSelector=" + QueryEscape(selector));
  if (!sets.ok()) return Fail(sets.error());
  for (const json::object& ds : sets.value()) {
    const json::object* meta = ObjectAt(ds, "metadata");
    if (meta && OurRun(StringAt(*meta, "name"))) names.insert(StringAt(*meta, "name"));
  }
  // Pods whose DaemonSet is gone but which are not (a teardown cut short).
  auto pods = api_.List(PodsPath(selector));
  if (!pods.ok()) return Fail(pods.error());
  for (const json::object& pod : pods.value()) {
    const json::object* meta = ObjectAt(pod, "metadata");
    const json::object* labels = meta ? ObjectAt(*meta, "labels") : nullptr;
    if (labels && OurRun(StringAt(*labels, "kh-app"))) names.insert(StringAt(*labels, "kh-app"));
  }
  for (const std::string& ds : names) {
    std::cerr << "sonde check daemonset: removing " << config_.ns << "/" << ds
              << ", left by an earlier run\n";
    Teardown(ds, std::min(end_, Steady::now() + config_.grace));
  }
}

std::optional<std::vector<std::string>> DaemonsetRun::PlanNodesOrFail() {
  auto nodes = api_.List("/api/v1/nodes");
  if (!nodes.ok()) {
    Fail(nodes.error());
    return std::nullopt;
  }
  NodePlan plan = PlanNodes(nodes.value(), config_);
  std::string skipped;
  for (const auto& [node, why] : plan.skipped) {
    skipped += (skipped.empty() ? "" : "; ") + node + ": " + why;
  }
  if (!skipped.empty()) std::cerr << "sonde check daemonset: nodes left out: " << skipped << "\n";
  if (plan.expected.empty()) {
    Fail("daemonset check: none of the " + std::to_string(nodes.value().size()) +
         " nodes should run the check's pod" + (skipped.empty() ? "" : " (" + skipped + ")"));
    return std::nullopt;
  }
  return plan.expected;
}

bool DaemonsetRun::Create(const std::string& ds, int64_t run_time,
                          const std::vector<std::string>& nodes) {
  const json::object manifest =
      DaemonsetManifest(config_, ds, RunLabels(ds, Instance(), run_time), nodes);
  auto created = api_.Call("POST", DsPath(), json::serialize(manifest));
  if (!created.ok()) {
    Fail(Named(ds) + created.error());
    return false;
  }
  if (created.value().status != 201) {
    Fail(Named(ds) + "POST " + DsPath() + ": " + kube::DescribeStatus(created.value()));
    return false;
  }
  return true;
}

void DaemonsetRun::WaitForReadyPods(const std::string& ds, const std::vector<std::string>& nodes,
                                    Steady::time_point until) {
  const auto start = Steady::now();
  std::vector<std::string> missing = nodes;
  std::map<std::string, std::string> state;  // node -> what its pod is doing
  std::string last_error;
  while (true) {
    auto pods = api_.List(PodsPath("kh-app=" + ds));
    if (pods.ok()) {
      std::set<std::string> ready;
      state.clear();
      for (const json::object& pod : pods.value()) {
        const std::string node = PodNode(pod);
        if (PodReady(pod)) {
          ready.insert(node);
        } else if (!state.count(node)) {
          state[node] = PodState(pod);
        }
      }
      missing.clear();
      for (const std::string& n : nodes) {
        if (!ready.count(n)) missing.push_back(n);
      }
      if (missing.empty()) return;
    } else {
      last_error = pods.error();  // retried until the wait ends; reported if it is the last
    }
    if (Steady::now() + kPoll >= until) break;
    std::this_thread::sleep_for(kPoll);
  }
  Fail(Named(ds) + "no ready pod on node(s) " + NodeList(missing) + " after " +
       Waited(Steady::now() - start));
  for (size_t i = 0; i < missing.size() && i < kMaxDetails; ++i) {
    const auto it = state.find(missing[i]);
    Fail(missing[i] + ": " + (it != state.end() ? it->second : "no pod was created for it"));
  }
  if (!last_error.empty()) Fail(last_error);
}

void DaemonsetRun::Teardown(const std::string& ds, Steady::time_point until) {
  const auto start = Steady::now();
  auto deleted = api_.Call("DELETE", DsPath() + "/" + ds, R"({"propagationPolicy":"Background"})");
  if (!deleted.ok()) return Fail(Named(ds) + deleted.error());
  if (deleted.value().status >= 300 && deleted.value().status != 404) {
    return Fail(Named(ds) + "DELETE " + DsPath() + "/" + ds + ": " +
                kube::DescribeStatus(deleted.value()));
  }
  // The garbage collector would remove the pods too; deleting them now bounds their grace.
  const std::string pods_path = PodsPath("kh-app=" + ds);
  const std::string grace =
      R"({"gracePeriodSeconds":)" +
      std::to_string(std::chrono::ceil<std::chrono::seconds>(config_.grace).count()) + "}";
  auto next_delete = start;
  std::vector<std::string> left;
  std::string last_error;
  while (true) {
    if (Steady::now() >= next_delete) {
      auto r = api_.Call("DELETE", pods_path, grace);
      if (r.ok() && r.value().status != 200) {
        return Fail(Named(ds) + "DELETE " + pods_path + ": " + kube::DescribeStatus(r.value()));
      }
      next_delete = Steady::now() + kRedelete;
    }
    auto pods = api_.List(pods_path);
    if (pods.ok()) {
      if (pods.value().empty()) return;
      left.clear();
      for (const json::object& pod : pods.value()) left.push_back(PodNode(pod));
    } else {
      last_error = pods.error();
    }
    if (Steady::now() + kPoll >= until) break;
    std::this_thread::sleep_for(kPoll);
  }
  if (left.empty()) return Fail(Named(ds) + "its pods could not be listed: " + last_error);
  Fail(Named(ds) + "pod(s) still present on node(s) " + NodeList(left) + " " +
       Waited(Steady::now() - start) + " after it was deleted");
}

std::vector<std::string> DaemonsetRun::Run() {
  RemoveLeftovers();
  const auto nodes = PlanNodesOrFail();
  if (!nodes) return errors_;
  const int64_t run_time = UnixSeconds(SystemClock().Now());
  const std::string ds = config_.name + "-" + std::to_string(run_time);
  if (!Create(ds, run_time, *nodes)) return errors_;
  // The teardown keeps SHUTDOWN_GRACE_PERIOD, but at most half of what is left.
  const auto left = std::max(end_ - Steady::now(), Steady::duration::zero());
  const auto reserve =
      std::min(std::chrono::duration_cast<Steady::duration>(config_.grace), left / 2);
  WaitForReadyPods(ds, *nodes, end_ - reserve);
  Teardown(ds, end_);
  return errors_;
}

}  // namespace

CheckOutcome RunDaemonsetCheck(const CheckEnv& env, Duration budget) {
  const auto end = Steady::now() + std::chrono::duration_cast<Steady::duration>(budget);
  EnvReader in(env);
  const DaemonsetConfig config = ReadDaemonsetConfig(in, env);
  if (!in.ok()) return in.Outcome();
  auto session = KubeSession::Open(env, budget);
  if (!session.ok()) return {{session.error()}, true};
  return {DaemonsetRun(*session.value(), config, end).Run()};
}

}  // namespace sonde::checks_internal
