#include "kube/node_standin.hpp"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/json.hpp>
#include <iostream>
#include <optional>
#include <set>
#include <thread>

#include "core/clock.hpp"
#include "kube/informer.hpp"
#include "kube/json_fields.hpp"
#include "kube/kube_client.hpp"

namespace sonde::testing {

namespace asio = boost::asio;
namespace json = boost::json;
using kube::internal::ArrayAt;
using kube::internal::FormatKubeTime;
using kube::internal::FormatMicroTime;
using kube::internal::ObjectAt;
using kube::internal::StringAt;

namespace {

constexpr auto kHeartbeat = std::chrono::seconds(5);
constexpr auto kSettle = std::chrono::seconds(30);
const std::string kLeases = "/apis/coordination.k8s.io/v1/namespaces/kube-node-lease/leases";

json::object NodeObject(const StandinNode& n) {
  json::object labels = kube::internal::ToObject(n.labels);
  labels["kubernetes.io/hostname"] = n.name;
  json::array taints;
  for (const NodeTaint& t : n.taints) {
    json::object o{{"key", t.key}, {"effect", t.effect}};
    if (!t.value.empty()) o["value"] = t.value;
    taints.push_back(std::move(o));
  }
  return {{"apiVersion", "v1"},
          {"kind", "Node"},
          {"metadata", {{"name", n.name}, {"labels", std::move(labels)}}},
          {"spec", {{"unschedulable", n.cordoned}, {"taints", std::move(taints)}}}};
}

// A Ready kubelet's status; `since` is when it became Ready.
std::string ReadyStatus(const std::string& node, const std::string& since) {
  const json::object resources{{"cpu", "4"}, {"memory", "8Gi"}, {"pods", "110"}};
  return json::serialize(
      json::object{{"status",
                    {{"conditions",
                      {{{"type", "Ready"},
                        {"status", "True"},
                        {"reason", "KubeletReady"},
                        {"message", "sonde node stand-in"},
                        {"lastHeartbeatTime", FormatKubeTime(SystemClock().Now())},
                        {"lastTransitionTime", since}}}},
                     {"addresses",
                      {{{"type", "InternalIP"}, {"address", "127.0.0.1"}},
                       {{"type", "Hostname"}, {"address", node}}}},
                     {"capacity", resources},
                     {"allocatable", resources}}}});
}

// The node a pending DaemonSet pod is pinned to (its single matchFields metadata.name term).
std::string PinnedNode(const json::object& pod) {
  const json::object* spec = ObjectAt(pod, "spec");
  const json::object* a = spec ? ObjectAt(*spec, "affinity") : nullptr;
  const json::object* na = a ? ObjectAt(*a, "nodeAffinity") : nullptr;
  const json::object* req =
      na ? ObjectAt(*na, "requiredDuringSchedulingIgnoredDuringExecution") : nullptr;
  const json::array* terms = req ? ArrayAt(*req, "nodeSelectorTerms") : nullptr;
  if (terms == nullptr) return "";
  for (const json::value& term : *terms) {
    const json::array* fields =
        term.is_object() ? ArrayAt(term.get_object(), "matchFields") : nullptr;
    for (const json::value& f : fields ? *fields : json::array()) {
      const json::array* values = f.is_object() ? ArrayAt(f.get_object(), "values") : nullptr;
      if (f.is_object() && StringAt(f.get_object(), "key") == "metadata.name" && values &&
          values->size() == 1 && (*values)[0].is_string()) {
        return std::string((*values)[0].get_string());
      }
    }
  }
  return "";
}

}  // namespace

struct NodeStandin::Impl {
  explicit Impl(NodeStandinOptions o)
      : options(std::move(o)),
        client(io.get_executor(), clock, options.cluster),
        informer(client, {.path = "/api/v1/pods", .label_selector = options.pod_selector},
                 {.upsert = [this](const json::object& pod) { OnPod(pod); },
                  .remove = [](const json::object&) {}}) {}

  NodeStandinOptions options;
  asio::io_context io;
  SystemClock clock;
  kube::KubeClient client;
  kube::Informer informer;
  asio::steady_timer heartbeat{io};
  std::optional<asio::executor_work_guard<asio::io_context::executor_type>> work;
  std::set<std::string> binding;  // uids of pods whose binding was sent
  std::atomic<uint64_t> bound{0};
  mutable std::mutex mu;
  std::map<std::string, std::set<std::string>> seen;  // node -> pod uids pinned to it
  std::string since = FormatKubeTime(SystemClock().Now());
  std::thread thread;

  // One request, run to completion on the loop (before the thread runs it).
  Result<kube::Response> Sync(const std::string& method, const std::string& path,
                              const std::string& body = {},
                              const std::string& type = "application/json") {
    std::optional<Result<kube::Response>> out;
    asio::co_spawn(
        io,
        [&]() -> asio::awaitable<void> {
          out.emplace(co_await client.Call(method, path, body, type));
        },
        asio::detached);
    io.restart();
    while (!out && io.run_one() > 0) {
    }
    if (!out) return Result<kube::Response>::Error(method + " " + path + ": no answer");
    return std::move(*out);
  }

  Status Expect(const Result<kube::Response>& r, const std::string& what, int want) {
    if (!r.ok()) return Status::Error(what + ": " + r.error());
    if (r.value().status != want) {
      return Status::Error(what + ": " + kube::DescribeStatus(r.value()));
    }
    return Status::Ok();
  }

  Status Register(const StandinNode& n) {
    Status s = Expect(Sync("POST", "/api/v1/nodes", json::serialize(NodeObject(n))),
                      "POST node " + n.name, 201);
    if (!s.ok()) return s;
    s = Expect(Sync("PATCH", "/api/v1/nodes/" + n.name + "/status", ReadyStatus(n.name, since),
                    "application/merge-patch+json"),
               "PATCH node " + n.name + " status", 200);
    if (!s.ok()) return s;
    const json::object lease{{"metadata", {{"name", n.name}}},
                             {"spec",
                              {{"holderIdentity", n.name},
                               {"leaseDurationSeconds", 40},
                               {"renewTime", FormatMicroTime(SystemClock().Now())}}}};
    return Expect(Sync("POST", kLeases, json::serialize(lease)), "POST lease " + n.name, 201);
  }

  // Ready, and no taint but its own (and the cordon's): the node-lifecycle controller is done.
  bool Settled(const StandinNode& n) {
    auto r = Sync("GET", "/api/v1/nodes/" + n.name);
    if (!r.ok() || r.value().status != 200) return false;
    const json::value v = json::parse(r.value().body);
    const json::object* spec = ObjectAt(v.as_object(), "spec");
    const json::array* taints = spec ? ArrayAt(*spec, "taints") : nullptr;
    for (const json::value& t : taints ? *taints : json::array()) {
      const std::string key = StringAt(t.as_object(), "key");
      bool known = n.cordoned && key == "node.kubernetes.io/unschedulable";
      for (const NodeTaint& own : n.taints) known = known || own.key == key;
      if (!known) return false;
    }
    return true;
  }

  void OnPod(const json::object& pod) {
    const json::object* meta = ObjectAt(pod, "metadata");
    const json::object* spec = ObjectAt(pod, "spec");
    if (!meta || !spec || meta->contains("deletionTimestamp")) return;
    if (!StringAt(*spec, "nodeName").empty()) return;
    const std::string uid = StringAt(*meta, "uid");
    const std::string node = PinnedNode(pod);
    {
      std::lock_guard lock(mu);
      seen[node].insert(uid);
    }
    bool ours = false;
    for (const StandinNode& n : options.nodes) ours = ours || (n.name == node && n.bind);
    if (!ours || !binding.insert(uid).second) return;
    const std::string path = "/api/v1/namespaces/" + StringAt(*meta, "namespace") + "/pods/" +
                             StringAt(*meta, "name") + "/binding";
    const std::string body = json::serialize(
        json::object{{"apiVersion", "v1"},
                     {"kind", "Binding"},
                     {"metadata", {{"name", StringAt(*meta, "name")}, {"uid", uid}}},
                     {"target", {{"apiVersion", "v1"}, {"kind", "Node"}, {"name", node}}}});
    asio::co_spawn(
        io,
        [this, path, body, uid]() -> asio::awaitable<void> {
          auto r = co_await client.Call("POST", path, body);
          if (r.ok() && r.value().status == 201) {
            ++bound;
          } else {
            std::cerr << "node stand-in: POST " << path << ": "
                      << (r.ok() ? kube::DescribeStatus(r.value()) : r.error()) << "\n";
            binding.erase(uid);  // the next event of the pod retries
          }
        },
        asio::detached);
  }

  // The kubelet's heartbeats: the node's Lease and its Ready condition.
  void Beat() {
    for (const StandinNode& n : options.nodes) {
      const std::string lease = json::serialize(
          json::object{{"spec", {{"renewTime", FormatMicroTime(SystemClock().Now())}}}});
      const std::string status = ReadyStatus(n.name, since);
      const std::string name = n.name;
      asio::co_spawn(
          io,
          [this, name, lease, status]() -> asio::awaitable<void> {
            co_await client.Call("PATCH", kLeases + "/" + name, lease,
                                 "application/merge-patch+json");
            co_await client.Call("PATCH", "/api/v1/nodes/" + name + "/status", status,
                                 "application/merge-patch+json");
          },
          asio::detached);
    }
    heartbeat.expires_after(kHeartbeat);
    heartbeat.async_wait([this](const boost::system::error_code& ec) {
      if (!ec) Beat();
    });
  }

  asio::awaitable<void> Unregister() {
    for (const StandinNode& n : options.nodes) {
      co_await client.Call("DELETE", kLeases + "/" + n.name);
      co_await client.Call("DELETE", "/api/v1/nodes/" + n.name);
    }
  }
};

Result<std::unique_ptr<NodeStandin>> NodeStandin::Start(NodeStandinOptions options) {
  using Out = Result<std::unique_ptr<NodeStandin>>;
  auto impl = std::make_shared<Impl>(std::move(options));
  if (Status s = impl->client.Init(); !s.ok()) return Out::Error("node stand-in: " + s.message());
  std::unique_ptr<NodeStandin> standin(new NodeStandin(impl));
  for (const StandinNode& n : impl->options.nodes) {
    if (Status s = impl->Register(n); !s.ok()) return Out::Error("node stand-in: " + s.message());
  }
  const auto deadline = std::chrono::steady_clock::now() + kSettle;
  for (const StandinNode& n : impl->options.nodes) {
    while (!impl->Settled(n)) {
      if (std::chrono::steady_clock::now() > deadline) {
        return Out::Error("node stand-in: node " + n.name + " did not settle (Ready, own taints)");
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(200));
    }
  }
  impl->work.emplace(asio::make_work_guard(impl->io));
  impl->informer.Start(impl->io.get_executor());
  impl->Beat();
  impl->io.restart();
  impl->thread = std::thread([i = impl.get()] { i->io.run(); });
  return standin;
}

NodeStandin::~NodeStandin() {
  auto& i = *impl_;
  if (i.thread.joinable()) {
    asio::post(i.io, [&i] {
      i.informer.Stop();
      i.heartbeat.cancel();
      asio::co_spawn(
          i.io,
          [&i]() -> asio::awaitable<void> {
            co_await i.Unregister();
            i.work.reset();
            i.io.stop();
          },
          asio::detached);
    });
    i.thread.join();
  } else {
    // Start failed: remove what was registered, on this thread.
    for (const StandinNode& n : i.options.nodes) {
      (void)i.Sync("DELETE", kLeases + "/" + n.name);
      (void)i.Sync("DELETE", "/api/v1/nodes/" + n.name);
    }
  }
}

uint64_t NodeStandin::pods_bound() const { return impl_->bound; }

size_t NodeStandin::pods_for(const std::string& node) const {
  std::lock_guard lock(impl_->mu);
  const auto it = impl_->seen.find(node);
  return it == impl_->seen.end() ? 0 : it->second.size();
}

}  // namespace sonde::testing
