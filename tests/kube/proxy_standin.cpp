#include "kube/proxy_standin.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/experimental/awaitable_operators.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>
#include <boost/json.hpp>
#include <map>
#include <optional>
#include <thread>

#include "core/clock.hpp"
#include "kube/helpers.hpp"
#include "kube/informer.hpp"
#include "kube/kube_client.hpp"

namespace sonde::testing {

namespace asio = boost::asio;
namespace json = boost::json;
using tcp = asio::ip::tcp;

namespace {

constexpr auto kToken = asio::as_tuple(asio::use_awaitable);
constexpr auto kConnectTimeout = std::chrono::seconds(2);
constexpr auto kLifetime = std::chrono::seconds(60);
constexpr size_t kChunk = 16 * 1024;

using sonde::testing::Arr;
using sonde::testing::Obj;
using sonde::testing::Str;

// One service port: where it listens and how it picks a pod.
struct Listener {
  explicit Listener(asio::io_context& io) : acceptor(io) {}
  tcp::acceptor acceptor;
  std::string ns;
  json::object selector;
  json::value target_port;  // a number, a container port's name, or null (the service port)
  int port = 0;
  size_t next = 0;  // round robin
};

bool Matches(const json::object& labels, const json::object& selector) {
  for (const auto& [k, v] : selector) {
    const auto* have = labels.if_contains(k);
    if (have == nullptr || *have != v) return false;
  }
  return true;
}

bool Ready(const json::object& pod) {
  for (const auto& c : Arr(Obj(pod, "status"), "conditions")) {
    if (Str(c.as_object(), "type") == "Ready") return Str(c.as_object(), "status") == "True";
  }
  return false;
}

// The pod's port for `target`: a number as it is, a name looked up in its containers' ports.
std::optional<int> PodPort(const json::object& pod, const Listener& l) {
  if (l.target_port.is_int64()) return static_cast<int>(l.target_port.as_int64());
  if (!l.target_port.is_string()) return l.port;
  for (const auto& c : Arr(Obj(pod, "spec"), "containers")) {
    for (const auto& p : Arr(c.as_object(), "ports")) {
      const auto* n = p.as_object().if_contains("containerPort");
      if (Str(p.as_object(), "name") == l.target_port.as_string() && n && n->is_int64()) {
        return static_cast<int>(n->as_int64());
      }
    }
  }
  return std::nullopt;
}

// Copies `from` to `to` until EOF or an error, then ends `to`'s sending side.
asio::awaitable<void> Pump(tcp::socket& from, tcp::socket& to) {
  std::array<char, kChunk> buffer;
  for (;;) {
    auto [rec, n] = co_await from.async_read_some(asio::buffer(buffer), kToken);
    if (n > 0) {
      auto [wec, written] = co_await asio::async_write(to, asio::buffer(buffer.data(), n), kToken);
      if (wec) break;
    }
    if (rec) break;
  }
  boost::system::error_code ignored;
  to.shutdown(tcp::socket::shutdown_send, ignored);
}

}  // namespace

struct ProxyStandin::Impl {
  explicit Impl(ProxyOptions o)
      : options(std::move(o)),
        client(io.get_executor(), clock, options.cluster),
        services(client, {.path = "/api/v1/services"},
                 {.upsert = [this](const json::object&) { Reconcile(); },
                  .remove = [this](const json::object&) { Reconcile(); }}),
        pods(client, {.path = "/api/v1/pods"}, {}) {}

  ProxyOptions options;
  asio::io_context io;
  asio::executor_work_guard<asio::io_context::executor_type> work = asio::make_work_guard(io);
  SystemClock clock;
  kube::KubeClient client;
  kube::Informer services;
  kube::Informer pods;
  std::map<std::string, std::shared_ptr<Listener>> listeners;  // by "ip:port"
  std::atomic<size_t> listening{0};
  std::atomic<uint64_t> relayed{0}, without_pods{0};
  std::thread thread;

  void Reconcile() {
    std::map<std::string, std::shared_ptr<Listener>> wanted;
    for (const auto& [key, svc] : services.objects()) {
      const auto& spec = Obj(svc, "spec");
      const std::string ip = Str(spec, "clusterIP");
      const auto& selector = Obj(spec, "selector");
      if (ip.empty() || ip == "None" || selector.empty()) continue;
      for (const auto& p : Arr(spec, "ports")) {
        const auto& port = p.as_object();
        const std::string protocol = Str(port, "protocol");
        const auto* number = port.if_contains("port");
        if ((!protocol.empty() && protocol != "TCP") || number == nullptr || !number->is_int64()) {
          continue;
        }
        const std::string id = ip + ":" + std::to_string(number->as_int64());
        auto it = listeners.find(id);
        auto l = it != listeners.end() ? it->second : Listen(ip, number->as_int64());
        if (l == nullptr) continue;
        l->ns = Str(Obj(svc, "metadata"), "namespace");
        l->selector = selector;
        l->port = static_cast<int>(number->as_int64());
        const auto* target = port.if_contains("targetPort");
        l->target_port = target != nullptr ? *target : json::value(nullptr);
        wanted[id] = l;
      }
    }
    for (auto& [id, l] : listeners) {
      if (!wanted.count(id)) l->acceptor.close();
    }
    listeners = std::move(wanted);
    listening = listeners.size();
  }

  std::shared_ptr<Listener> Listen(const std::string& ip, int64_t port) {
    auto l = std::make_shared<Listener>(io);
    boost::system::error_code ec;
    const tcp::endpoint at(asio::ip::make_address(ip, ec), static_cast<uint16_t>(port));
    if (ec) return nullptr;
    l->acceptor.open(at.protocol(), ec);
    if (!ec) l->acceptor.set_option(tcp::acceptor::reuse_address(true), ec);
    if (!ec) l->acceptor.bind(at, ec);
    if (!ec) l->acceptor.listen(64, ec);
    if (ec) {
      std::fprintf(stderr, "proxy stand-in: cannot listen on %s:%lld: %s\n", ip.c_str(),
                   static_cast<long long>(port), ec.message().c_str());
      return nullptr;
    }
    asio::co_spawn(io, Accept(l), asio::detached);
    return l;
  }

  asio::awaitable<void> Accept(std::shared_ptr<Listener> l) {
    while (l->acceptor.is_open()) {
      auto [ec, socket] = co_await l->acceptor.async_accept(kToken);
      if (ec == asio::error::operation_aborted || !l->acceptor.is_open()) co_return;
      if (!ec) asio::co_spawn(io, Relay(l, std::move(socket)), asio::detached);
    }
  }

  std::optional<tcp::endpoint> PickPod(Listener& l) {
    std::vector<tcp::endpoint> ready;
    for (const auto& [key, pod] : pods.objects()) {
      const auto& meta = Obj(pod, "metadata");
      const std::string ip = Str(Obj(pod, "status"), "podIP");
      if (Str(meta, "namespace") != l.ns || ip.empty() || meta.contains("deletionTimestamp") ||
          !Matches(Obj(meta, "labels"), l.selector) || !Ready(pod)) {
        continue;
      }
      boost::system::error_code ec;
      const auto address = asio::ip::make_address(ip, ec);
      const auto port = PodPort(pod, l);
      if (!ec && port) ready.emplace_back(address, static_cast<uint16_t>(*port));
    }
    if (ready.empty()) return std::nullopt;
    return ready[l.next++ % ready.size()];
  }

  asio::awaitable<void> Relay(std::shared_ptr<Listener> l, tcp::socket downstream) {
    using namespace asio::experimental::awaitable_operators;
    const auto pod = PickPod(*l);
    if (!pod) {
      ++without_pods;
      co_return;  // closes the connection, as a port without endpoints refuses it
    }
    tcp::socket server(io);
    asio::steady_timer timer(io);
    timer.expires_after(kConnectTimeout);
    auto connected = co_await (server.async_connect(*pod, kToken) || timer.async_wait(kToken));
    if (connected.index() != 0 || std::get<0>(std::get<0>(connected))) co_return;
    ++relayed;
    timer.expires_after(kLifetime);
    co_await ((Pump(downstream, server) && Pump(server, downstream)) || timer.async_wait(kToken));
  }
};

ProxyStandin::ProxyStandin(ProxyOptions options)
    : impl_(std::make_shared<Impl>(std::move(options))) {
  auto& i = *impl_;
  const Status init = i.client.Init();
  if (!init.ok()) throw std::runtime_error("proxy stand-in: " + init.message());
  i.pods.Start(i.io.get_executor());
  i.services.Start(i.io.get_executor());
  i.thread = std::thread([&i] { i.io.run(); });
}

ProxyStandin::~ProxyStandin() {
  asio::post(impl_->io, [impl = impl_.get()] {
    impl->services.Stop();
    impl->pods.Stop();
    for (auto& [id, l] : impl->listeners) l->acceptor.close();
    impl->io.stop();  // drops the relays in flight with their sockets
  });
  impl_->thread.join();
}

size_t ProxyStandin::listeners() const { return impl_->listening; }
uint64_t ProxyStandin::relayed() const { return impl_->relayed; }
uint64_t ProxyStandin::without_pods() const { return impl_->without_pods; }

}  // namespace sonde::testing
