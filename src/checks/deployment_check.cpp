// The deployment check (kuberhealthy/deployment-check): a workload can be deployed, reached and
// rolled. Removes what an earlier run left, creates the Deployment and a ClusterIP Service,
// waits until every replica is available, GETs http://<cluster IP>:<port>/ until it answers 200,
// optionally rolls to CHECK_IMAGE_ROLL_TO and waits for the rollout, GETs again, and tears both
// down (also after a failed step), waiting until they are gone. Each error names the step and
// what the cluster showed: "deployment kuberhealthy/deployment-deployment: 1 of 2 replicas
// available after 5m0s (1 pod Pending: ErrImagePull: ...)".
//
// Time: the steps get the run's budget less a reserve for the teardown (a quarter, at most
// 2m); the teardown gets the rest. SIGTERM or SIGINT stops the steps and gives the teardown
// SHUTDOWN_GRACE_PERIOD, as Kuberhealthy's check does. The API is polled once a second (a
// check runs for minutes, so a watch would save little).
#include <pthread.h>
#include <signal.h>

#include <boost/json/parse.hpp>
#include <map>
#include <optional>

#include "checks/check_kinds.hpp"
#include "checks/deployment_spec.hpp"
#include "checks/kube_session.hpp"
#include "core/clock.hpp"
#include "kube/json_fields.hpp"
#include "probe/http_probe.hpp"

namespace sonde::checks_internal {
namespace {

using kube::internal::ArrayAt;
using kube::internal::ObjectAt;
using kube::internal::StringAt;
namespace json = boost::json;
using Clock = std::chrono::steady_clock;

constexpr Duration kPoll = std::chrono::seconds(1);
constexpr Duration kRequestTimeout = std::chrono::seconds(5);

// SIGTERM and SIGINT, blocked while the check runs and taken with sigtimedwait when it sleeps
// between polls: no handler and no global flag. A signal that comes during a request waits for
// the next sleep.
class Interruptions {
 public:
  Interruptions() {
    sigemptyset(&set_);
    sigaddset(&set_, SIGTERM);
    sigaddset(&set_, SIGINT);
    pthread_sigmask(SIG_BLOCK, &set_, &old_);
  }
  ~Interruptions() { pthread_sigmask(SIG_SETMASK, &old_, nullptr); }
  Interruptions(const Interruptions&) = delete;
  Interruptions& operator=(const Interruptions&) = delete;

  // Sleeps `d` (none when negative), or less when a signal comes now.
  void Sleep(Duration d) {
    const auto ns = std::max<int64_t>(0, std::chrono::nanoseconds(d).count());
    timespec ts{static_cast<time_t>(ns / 1'000'000'000), static_cast<long>(ns % 1'000'000'000)};
    siginfo_t info;
    const int s = sigtimedwait(&set_, &info, &ts);
    if (s > 0) signal_ = s;
  }
  // Whether a signal came, counting those that wait to be taken.
  bool interrupted() {
    if (signal_ == 0) Sleep(Duration::zero());
    return signal_ != 0;
  }
  std::string name() const { return signal_ == SIGINT ? "SIGINT" : "SIGTERM"; }

 private:
  sigset_t set_, old_;
  int signal_ = 0;
};

std::string Seconds(Clock::duration d) {
  return FormatGoDuration(std::chrono::duration_cast<std::chrono::seconds>(d));
}

int64_t IntAt(const json::object& o, const char* key) {
  const json::value* v = o.if_contains(key);
  return v != nullptr && v->is_int64() ? v->get_int64() : 0;
}

struct Rollout {
  int64_t generation = 0, observed = 0, total = 0, updated = 0, available = 0;
  bool deleting = false;
};

Rollout ReadRollout(const json::object& deployment) {
  static const json::object kNone;
  const json::object* meta = ObjectAt(deployment, "metadata");
  const json::object* status = ObjectAt(deployment, "status");
  if (meta == nullptr) meta = &kNone;
  if (status == nullptr) status = &kNone;
  return {IntAt(*meta, "generation"),          IntAt(*status, "observedGeneration"),
          IntAt(*status, "replicas"),          IntAt(*status, "updatedReplicas"),
          IntAt(*status, "availableReplicas"), meta->contains("deletionTimestamp")};
}

// "Pending: ErrImagePull: <message>" for a pod that is not ready, "" for a ready one.
std::string PodTrouble(const json::object& pod) {
  static const json::object kNone;
  const json::object* status = ObjectAt(pod, "status");
  if (status == nullptr) status = &kNone;
  if (const json::array* conditions = ArrayAt(*status, "conditions")) {
    for (const json::value& c : *conditions) {
      if (c.is_object() && StringAt(c.get_object(), "type") == "Ready" &&
          StringAt(c.get_object(), "status") == "True") {
        return "";
      }
    }
  }
  std::string phase = StringAt(*status, "phase");
  if (phase.empty()) phase = "Pending";
  if (const json::array* containers = ArrayAt(*status, "containerStatuses")) {
    for (const json::value& c : *containers) {
      const json::object* state = c.is_object() ? ObjectAt(c.get_object(), "state") : nullptr;
      const json::object* waiting = state ? ObjectAt(*state, "waiting") : nullptr;
      if (waiting == nullptr || StringAt(*waiting, "reason").empty()) continue;
      std::string out = phase + ": " + StringAt(*waiting, "reason");
      if (const std::string m = StringAt(*waiting, "message"); !m.empty()) out += ": " + m;
      return out;
    }
  }
  const json::object* meta = ObjectAt(pod, "metadata");
  if (meta != nullptr && meta->contains("deletionTimestamp")) return phase + ", being deleted";
  return phase + ", not ready";
}

class DeploymentRun {
 public:
  DeploymentRun(KubeSession& api, const DeploymentSettings& s, Interruptions& signals,
                Clock::time_point steps_end)
      : api_(api), s_(s), signals_(signals), steps_end_(steps_end) {}

  // Removes a Deployment or Service of this name that an earlier run left.
  std::optional<std::string> CleanUpLeftovers() {
    auto d = Exists(DeploymentPath());
    if (!d.ok()) return "looking for an earlier run's deployment: " + d.error();
    auto svc = Exists(ServicePath());
    if (!svc.ok()) return "looking for an earlier run's service: " + svc.error();
    if (!d.value() && !svc.value()) return std::nullopt;
    auto errors = TearDown(steps_end_, "");
    if (errors.empty()) return std::nullopt;
    return "cleaning up an earlier run: " + errors.front();
  }

  // Create, wait, request, and with a rolling update roll, wait and request again.
  std::optional<std::string> Steps() {
    if (auto e = Create(DeploymentCollection(), DeploymentManifest(s_, s_.image), "deployment",
                        s_.deployment)) {
      return e;
    }
    auto service = CreateService();
    if (!service.ok()) return service.error();
    if (auto e = WaitForRollout(0, "deployment " + Name(s_.deployment))) return e;
    const std::string url =
        "http://" + service.value() + ":" + std::to_string(s_.service_port) + "/";
    if (auto e = Request(url, "")) return e;
    if (!s_.rolling_update) return std::nullopt;
    auto generation = Roll();
    if (!generation.ok()) return generation.error();
    const std::string what = "rolling deployment " + Name(s_.deployment) + " to " + s_.roll_to;
    if (auto e = WaitForRollout(generation.value(), what)) return e;
    return Request(url, " after the rolling update");
  }

  // Deletes the Service and the Deployment (foreground: its ReplicaSets and pods first) and
  // waits until they and the run's pods are gone. The errors, none when all is gone.
  std::vector<std::string> TearDown(Clock::time_point deadline, const std::string& run_label) {
    std::vector<std::string> errors;
    const std::string body = R"({"propagationPolicy":"Foreground"})";
    for (const auto& [path, what] :
         {std::pair{ServicePath(), "service " + Name(s_.service)},
          std::pair{DeploymentPath(), "deployment " + Name(s_.deployment)}}) {
      auto r = api_.Call("DELETE", path, body);
      if (!r.ok()) {
        errors.push_back("deleting " + what + ": " + r.error());
      } else if (r.value().status != 200 && r.value().status != 202 && r.value().status != 404) {
        errors.push_back("deleting " + what + ": " + kube::DescribeStatus(r.value()));
      }
    }
    if (!errors.empty()) return errors;
    const auto start = Clock::now();
    std::string left;
    do {
      auto gone = WhatIsLeft(run_label);
      if (!gone.ok()) return {"waiting for the deletion: " + gone.error()};
      left = gone.value();
      if (left.empty()) return {};
    } while (SleepFor(kPoll, deadline, true));
    return {left + " still there " + Seconds(Clock::now() - start) + " after deleting"};
  }

 private:
  std::string Name(const std::string& name) const { return s_.ns + "/" + name; }
  std::string DeploymentCollection() const {
    return "/apis/apps/v1/namespaces/" + s_.ns + "/deployments";
  }
  std::string DeploymentPath() const { return DeploymentCollection() + "/" + s_.deployment; }
  std::string ServicePath() const {
    return "/api/v1/namespaces/" + s_.ns + "/services/" + s_.service;
  }
  std::string PodsPath() const {
    return "/api/v1/namespaces/" + s_.ns +
           "/pods?labelSelector=" + QueryEscape(std::string(kRunLabelKey) + "=" + s_.run_label);
  }

  // Sleeps until the next poll; false when `deadline` or (unless `ignore_signals`) a signal
  // ends the wait.
  bool SleepFor(Duration d, Clock::time_point deadline, bool ignore_signals = false) {
    const auto now = Clock::now();
    if (now >= deadline) return false;
    const Duration wait = std::min<Duration>(d, deadline - now);
    if (!ignore_signals && signals_.interrupted()) return false;
    signals_.Sleep(wait);
    return ignore_signals || !signals_.interrupted();
  }
  std::string Interrupted(const std::string& while_what) {
    return "interrupted by " + signals_.name() + " while " + while_what;
  }

  Result<bool> Exists(const std::string& path) {
    auto r = api_.Call("GET", path);
    if (!r.ok()) return Result<bool>::Error(r.error());
    if (r.value().status == 404) return false;
    if (r.value().status == 200) return true;
    return Result<bool>::Error("GET " + path + ": " + kube::DescribeStatus(r.value()));
  }

  // POSTs `manifest`; the created object, or an error naming it.
  Result<json::object> Post(const std::string& collection, const std::string& manifest,
                            const std::string& kind, const std::string& name) {
    using R = Result<json::object>;
    auto r = api_.Call("POST", collection, manifest);
    if (!r.ok()) return R::Error("creating " + kind + " " + Name(name) + ": " + r.error());
    if (r.value().status != 201) {
      return R::Error("creating " + kind + " " + Name(name) + ": " +
                      kube::DescribeStatus(r.value()));
    }
    boost::system::error_code ec;
    json::value v = json::parse(r.value().body, ec);
    if (ec || !v.is_object()) return R::Error("creating " + kind + ": the answer is not JSON");
    return std::move(v.as_object());
  }
  std::optional<std::string> Create(const std::string& collection, const std::string& manifest,
                                    const std::string& kind, const std::string& name) {
    auto r = Post(collection, manifest, kind, name);
    return r.ok() ? std::nullopt : std::optional<std::string>(r.error());
  }

  // The Service's cluster IP.
  Result<std::string> CreateService() {
    auto r = Post("/api/v1/namespaces/" + s_.ns + "/services", ServiceManifest(s_), "service",
                  s_.service);
    if (!r.ok()) return Result<std::string>::Error(r.error());
    const json::object* spec = ObjectAt(r.value(), "spec");
    const std::string ip = spec ? StringAt(*spec, "clusterIP") : "";
    if (ip.empty() || ip == "None") {
      return Result<std::string>::Error("service " + Name(s_.service) + " has no cluster IP");
    }
    return ip;
  }

  // The rolled Deployment's new generation.
  Result<int64_t> Roll() {
    auto r = api_.Call("PATCH", DeploymentPath(), RollPatch(s_),
                       "application/strategic-merge-patch+json");
    const std::string what = "rolling deployment " + Name(s_.deployment) + " to " + s_.roll_to;
    if (!r.ok()) return Result<int64_t>::Error(what + ": " + r.error());
    if (r.value().status != 200) {
      return Result<int64_t>::Error(what + ": " + kube::DescribeStatus(r.value()));
    }
    boost::system::error_code ec;
    const json::value v = json::parse(r.value().body, ec);
    if (ec || !v.is_object()) return Result<int64_t>::Error(what + ": the answer is not JSON");
    return ReadRollout(v.get_object()).generation;
  }

  // Waits until the controller has seen `generation` (0: any) and every replica is updated,
  // available, and the only one (old ones gone): what `kubectl rollout status` waits for.
  std::optional<std::string> WaitForRollout(int64_t generation, const std::string& what) {
    const auto start = Clock::now();
    Rollout last;
    do {
      auto d = api_.Get(DeploymentPath());
      if (!d.ok()) return what + ": " + d.error();
      last = ReadRollout(d.value());
      if (last.observed >= std::max(generation, last.generation) && last.updated == s_.replicas &&
          last.available == s_.replicas && last.total == s_.replicas) {
        return std::nullopt;
      }
    } while (SleepFor(kPoll, steps_end_));
    if (signals_.interrupted()) return Interrupted("waiting for " + what);
    const std::string r = std::to_string(s_.replicas);
    std::string e =
        what + ": " + std::to_string(last.available) + " of " + r + " replicas available";
    if (generation != 0) {
      e += ", " + std::to_string(last.updated) + " updated, " + std::to_string(last.total) +
           " in total";
    }
    e += " after " + Seconds(Clock::now() - start);
    if (const std::string pods = PodsSummary(); !pods.empty()) e += " (" + pods + ")";
    return e;
  }

  // "2 pods Pending: ErrImagePull: ..." for the run's pods that are not ready, grouped.
  std::string PodsSummary() {
    auto pods = api_.List(PodsPath());
    if (!pods.ok()) return "pods unknown: " + pods.error();
    std::map<std::string, int> troubles;
    for (const json::object& pod : pods.value()) {
      if (std::string t = PodTrouble(pod); !t.empty()) ++troubles[t];
    }
    std::string out;
    for (const auto& [trouble, n] : troubles) {
      out +=
          (out.empty() ? "" : "; ") + std::to_string(n) + (n == 1 ? " pod " : " pods ") + trouble;
    }
    return out;
  }

  // GETs `url` until it answers 200, once a second.
  std::optional<std::string> Request(const std::string& url, const std::string& when) {
    auto probe = MakeHttpProbe({.url = url});
    if (!probe.ok()) return "GET " + url + ": " + probe.error();
    const auto start = Clock::now();
    std::string last;
    int attempts = 0;
    do {
      const auto left = std::chrono::duration_cast<Duration>(steps_end_ - Clock::now());
      const Observation o = RunProbeBlocking(
          *probe.value(),
          std::clamp<Duration>(left, std::chrono::milliseconds(500), kRequestTimeout));
      ++attempts;
      if (o.error.empty() && o.status == 200) return std::nullopt;
      last = o.error.empty() ? "got " + std::to_string(o.status)
                             : StripTarget(*probe.value(), o.error);
    } while (SleepFor(kPoll, steps_end_));
    if (signals_.interrupted()) return Interrupted("requesting " + url);
    return "GET " + url + " (service " + Name(s_.service) + when + "): no 200 in " +
           Seconds(Clock::now() - start) + ", " + std::to_string(attempts) +
           (attempts == 1 ? " attempt" : " attempts") + "; last: " + last;
  }

  // "deployment ns/x (being deleted), 2 pods" for what is still there; "" when nothing is.
  Result<std::string> WhatIsLeft(const std::string& run_label) {
    std::string left;
    auto add = [&left](const std::string& what) { left += (left.empty() ? "" : ", ") + what; };
    auto svc = Exists(ServicePath());
    if (!svc.ok()) return Result<std::string>::Error(svc.error());
    if (svc.value()) add("service " + Name(s_.service));
    auto d = Exists(DeploymentPath());
    if (!d.ok()) return Result<std::string>::Error(d.error());
    if (d.value()) add("deployment " + Name(s_.deployment));
    if (!run_label.empty()) {
      auto pods = api_.List(PodsPath());
      if (!pods.ok()) return Result<std::string>::Error(pods.error());
      if (const size_t n = pods.value().size(); n > 0) {
        add(std::to_string(n) + (n == 1 ? " pod" : " pods"));
      }
    }
    return left;
  }

  KubeSession& api_;
  const DeploymentSettings& s_;
  Interruptions& signals_;
  Clock::time_point steps_end_;
};

}  // namespace

CheckOutcome RunDeploymentCheck(const CheckEnv& env, Duration budget) {
  EnvReader in(env);
  const DeploymentSettings s = ReadDeploymentSettings(env, in, SystemClock().Now());
  if (!in.ok()) return in.Outcome();
  auto session = KubeSession::Open(env, budget);
  if (!session.ok()) return {{session.error()}, true};
  Interruptions signals;
  const auto start = Clock::now();
  const auto end = start + std::chrono::duration_cast<Clock::duration>(budget);
  const auto reserve = std::chrono::duration_cast<Clock::duration>(
      std::min<Duration>(budget / 4, std::chrono::minutes(2)));
  DeploymentRun run(*session.value(), s, signals, end - reserve);

  if (auto e = run.CleanUpLeftovers()) return {{*e}};
  std::vector<std::string> errors;
  if (auto e = run.Steps()) errors.push_back(std::move(*e));
  const auto teardown_end =
      signals.interrupted()
          ? std::min(end,
                     Clock::now() + std::chrono::duration_cast<Clock::duration>(s.shutdown_grace))
          : end;
  for (std::string& e : run.TearDown(teardown_end, s.run_label)) {
    errors.push_back("cleaning up: " + std::move(e));
  }
  return {errors};
}

}  // namespace sonde::checks_internal
