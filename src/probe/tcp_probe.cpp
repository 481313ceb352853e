#include "probe/tcp_probe.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/experimental/awaitable_operators.hpp>
#include <boost/asio/ip/udp.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>

#include "probe/registry.hpp"

namespace sonde {
namespace {

namespace asio = boost::asio;
using tcp = asio::ip::tcp;
using udp = asio::ip::udp;
using Clock = std::chrono::steady_clock;
constexpr auto kToken = asio::as_tuple(asio::use_awaitable);
constexpr size_t kMaxReply = 4096;
// How long a UDP probe waits for a reply or an ICMP error before calling the target reachable.
constexpr auto kUdpWait = std::chrono::milliseconds(500);

class TcpProbe final : public Probe {
 public:
  explicit TcpProbe(TcpProbeConfig config) : config_(std::move(config)) {}

  asio::awaitable<Observation> Run(Duration timeout) const override {
    const auto start = Clock::now();
    const auto deadline = DeadlineAfter(timeout);
    Observation out;
    auto endpoints = co_await Resolve(config_.host, config_.port, config_.family, deadline);
    if (!endpoints.ok()) {
      out.error = Target() + ": " + endpoints.error();
    } else if (config_.udp) {
      co_await RunUdp(endpoints.value().front(), deadline, timeout, out);
    } else {
      co_await RunTcp(endpoints.value(), deadline, timeout, out);
    }
    out.response_time = Clock::now() - start;
    co_return out;
  }

  std::string Target() const override {
    const bool v6 = config_.host.find(':') != std::string::npos;
    return std::string(config_.udp ? "udp://" : "tcp://") + (v6 ? "[" : "") + config_.host +
           (v6 ? "]" : "") + ":" + std::to_string(config_.port);
  }

 private:
  asio::awaitable<void> RunTcp(const std::vector<tcp::endpoint>& endpoints,
                               Clock::time_point deadline, Duration timeout,
                               Observation& out) const {
    auto executor = co_await asio::this_coro::executor;
    // One timer for the run, not Beast's per connect, write and read (see ProbeDeadline).
    ProbeDeadline run_deadline(executor, deadline);
    boost::beast::tcp_stream stream(executor);
    ProbeDeadline::Watching watching(run_deadline, stream.socket());
    auto connected = co_await Connect(stream, endpoints, &run_deadline);
    if (!connected.ok()) {
      out.error = Target() + ": " + connected.error();
      co_return;
    }
    out.connected = true;
    out.ip = connected.value().address().to_string();
    if (!config_.send.empty()) {
      auto [ec, n] = co_await asio::async_write(stream, asio::buffer(config_.send), kToken);
      ec = run_deadline.Translate(ec);
      if (ec) {
        out.error = Target() + ": send: " + DescribeNetError(ec, timeout);
        out.connected = false;
        co_return;
      }
    }
    if (!config_.read_reply && config_.send.empty()) co_return;
    // A reply ends at the first newline, at the peer's close or at the bound: line protocols
    // (banners, PING/PONG) answer in one line, and the deadline stops a silent peer.
    char buf[kMaxReply];
    while (out.body.size() < kMaxReply && out.body.find('\n') == std::string::npos) {
      auto [ec, n] =
          co_await stream.async_read_some(asio::buffer(buf, kMaxReply - out.body.size()), kToken);
      out.body.append(buf, n);
      ec = run_deadline.Translate(ec);
      if (ec) {
        if (ec != asio::error::eof && out.body.empty()) {
          out.error = Target() + ": no reply: " + DescribeNetError(ec, timeout);
          out.connected = false;
        }
        break;
      }
    }
  }

  asio::awaitable<void> RunUdp(const tcp::endpoint& target, Clock::time_point deadline,
                               Duration timeout, Observation& out) const {
    using namespace asio::experimental::awaitable_operators;
    auto executor = co_await asio::this_coro::executor;
    udp::socket socket(executor);
    const udp::endpoint peer(target.address(), target.port());
    boost::system::error_code ec;
    socket.connect(peer, ec);
    if (!ec) {
      std::tie(ec, std::ignore) = co_await socket.async_send(asio::buffer(config_.send), kToken);
    }
    if (ec) {
      out.error = Target() + ": " + DescribeNetError(ec, timeout);
      co_return;
    }
    out.ip = peer.address().to_string();
    asio::steady_timer timer(executor, std::min(deadline, Clock::now() + kUdpWait));
    char buf[kMaxReply];
    auto raced =
        co_await (socket.async_receive(asio::buffer(buf), kToken) || timer.async_wait(kToken));
    if (raced.index() == 0) {
      auto [rec, n] = std::get<0>(raced);
      if (rec) {
        out.error = Target() + ": " + DescribeNetError(rec, timeout);
        co_return;
      }
      out.body.assign(buf, n);
    }
    out.connected = true;
  }

  TcpProbeConfig config_;
};

std::shared_ptr<const Probe> ParseTcp(const config_internal::MapView& m, TlsContextCache&) {
  using namespace config_internal;
  static constexpr std::string_view kKeys[] = {"address", "network", "send", "readReply",
                                               "ipFamily"};
  m.RejectUnknown(kKeys);
  const size_t errors = m.sink().count();
  TcpProbeConfig config;
  if (const YAML::Node* v = m.Get("address")) {
    if (auto text = ReadString(*v, m.Path("address"), m.sink())) {
      auto hp = ParseHostPort(*text);
      if (!hp.ok()) {
        m.sink().Add(*v, m.Path("address"), hp.error());
      } else {
        config.host = hp.value().host;
        config.port = hp.value().port;
      }
    }
  } else {
    m.sink().Add(m.node(), m.Path("address"), "is required, e.g. 127.0.0.1:6379");
  }
  if (const YAML::Node* v = m.Get("network")) {
    static constexpr std::string_view kNetworks[] = {"tcp", "udp"};
    config.udp = ReadEnum(*v, m.Path("network"), kNetworks, m.sink()).value_or("tcp") == "udp";
  }
  if (const YAML::Node* v = m.Get("send")) {
    config.send = ReadString(*v, m.Path("send"), m.sink()).value_or("");
  }
  if (const YAML::Node* v = m.Get("readReply")) {
    config.read_reply = ReadBool(*v, m.Path("readReply"), m.sink()).value_or(false);
  }
  if (const YAML::Node* v = m.Get("ipFamily")) {
    static constexpr std::string_view kFamilies[] = {"any", "ip4", "ip6"};
    config.family =
        *ParseIpFamily(ReadEnum(*v, m.Path("ipFamily"), kFamilies, m.sink()).value_or("any"));
  }
  if (m.sink().count() != errors) return nullptr;
  return MakeTcpProbe(std::move(config));
}

}  // namespace

std::shared_ptr<const Probe> MakeTcpProbe(TcpProbeConfig config) {
  return std::make_shared<TcpProbe>(std::move(config));
}

void RegisterTcpProbe(ProbeRegistry& registry) {
  registry.Add(ProbeKind{
      .name = "tcp",
      .placeholders = {Placeholder::kConnected, Placeholder::kResponseTime, Placeholder::kIp,
                       Placeholder::kBody},
      .default_conditions = {},  // reaching the target is the check: a failure is an error
      .parse = ParseTcp,
  });
}

}  // namespace sonde
