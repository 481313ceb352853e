// The tcp probe against real loopback sockets: a listener that answers a line, a closed TCP
// port, and UDP ports with and without a listener.
#include "probe/tcp_probe.hpp"

#include <gtest/gtest.h>

#include <boost/asio/ip/udp.hpp>
#include <boost/asio/read_until.hpp>
#include <boost/asio/streambuf.hpp>
#include <boost/asio/write.hpp>
#include <thread>

namespace sonde {
namespace {

namespace asio = boost::asio;
using tcp = asio::ip::tcp;
using udp = asio::ip::udp;
constexpr auto kTimeout = std::chrono::seconds(3);

// Answers every connection with "+PONG\r\n" after reading one line (or at once if `banner`).
class LineServer {
 public:
  explicit LineServer(bool banner) : banner_(banner) {
    acceptor_.open(tcp::v4());
    acceptor_.bind({asio::ip::make_address("127.0.0.1"), 0});
    acceptor_.listen();
    thread_ = std::thread([this] { Serve(); });
  }
  ~LineServer() {
    boost::system::error_code ec;
    acceptor_.close(ec);
    thread_.join();
  }
  uint16_t port() const { return acceptor_.local_endpoint().port(); }
  std::string last_line() const { return last_line_; }

 private:
  void Serve() {
    boost::system::error_code ec;
    tcp::socket s = acceptor_.accept(ec);
    if (ec) return;
    if (!banner_) {
      asio::streambuf buf;
      asio::read_until(s, buf, '\n', ec);
      last_line_.assign(asio::buffers_begin(buf.data()), asio::buffers_end(buf.data()));
    }
    asio::write(s, asio::buffer(std::string("+PONG\r\n")), ec);
  }
  bool banner_;
  asio::io_context io_;
  tcp::acceptor acceptor_{io_};
  std::string last_line_;
  std::thread thread_;
};

uint16_t ClosedPort(bool udp_port) {
  asio::io_context io;
  if (udp_port) {
    udp::socket s(io, udp::endpoint(asio::ip::make_address("127.0.0.1"), 0));
    return s.local_endpoint().port();
  }
  tcp::acceptor a(io, tcp::endpoint(asio::ip::make_address("127.0.0.1"), 0));
  return a.local_endpoint().port();
}

TEST(TcpProbe, ConnectsSendsAndReadsTheReply) {
  LineServer server(false);
  auto probe = MakeTcpProbe({.host = "127.0.0.1", .port = server.port(), .send = "PING\r\n"});
  const Observation o = RunProbeBlocking(*probe, kTimeout);
  EXPECT_EQ(o.error, "");
  EXPECT_TRUE(o.connected);
  EXPECT_EQ(o.ip, "127.0.0.1");
  EXPECT_EQ(o.body, "+PONG\r\n");
  EXPECT_EQ(server.last_line(), "PING\r\n");
}

TEST(TcpProbe, ReadsABannerWithoutSending) {
  LineServer server(true);
  auto probe = MakeTcpProbe({.host = "127.0.0.1", .port = server.port(), .read_reply = true});
  const Observation o = RunProbeBlocking(*probe, kTimeout);
  EXPECT_TRUE(o.connected) << o.error;
  EXPECT_EQ(o.body, "+PONG\r\n");
}

TEST(TcpProbe, ClosedPortIsRefusedAndNamed) {
  const uint16_t port = ClosedPort(false);
  auto probe = MakeTcpProbe({.host = "127.0.0.1", .port = port});
  const Observation o = RunProbeBlocking(*probe, kTimeout);
  EXPECT_FALSE(o.connected);
  const std::string target = "tcp://127.0.0.1:" + std::to_string(port);
  EXPECT_EQ(o.error, target + ": connect " + target.substr(6) + ": Connection refused");
}

TEST(TcpProbe, WrongFamilyIsAnError) {
  auto probe = MakeTcpProbe({.host = "127.0.0.1", .port = 9, .family = IpFamily::kV6});
  const Observation o = RunProbeBlocking(*probe, kTimeout);
  EXPECT_EQ(o.error, "tcp://127.0.0.1:9: resolve 127.0.0.1: no IPv6 address");
}

TEST(TcpProbe, UdpWithoutListenerIsRefused) {
  const uint16_t port = ClosedPort(true);
  auto probe = MakeTcpProbe({.host = "127.0.0.1", .port = port, .udp = true, .send = "x"});
  const Observation o = RunProbeBlocking(*probe, kTimeout);
  EXPECT_FALSE(o.connected);
  EXPECT_EQ(o.error, "udp://127.0.0.1:" + std::to_string(port) + ": Connection refused");
}

TEST(TcpProbe, UdpWithSilentListenerIsReachable) {
  asio::io_context io;
  udp::socket listener(io, udp::endpoint(asio::ip::make_address("127.0.0.1"), 0));
  auto probe = MakeTcpProbe(
      {.host = "127.0.0.1", .port = listener.local_endpoint().port(), .udp = true, .send = "x"});
  const Observation o = RunProbeBlocking(*probe, kTimeout);
  EXPECT_TRUE(o.connected) << o.error;
  EXPECT_EQ(o.body, "");
}

// A peer that accepts (the kernel does, from the backlog) and never answers: the run's one
// deadline ends whatever the probe waits for, within the timeout, named as before.
TEST(TcpProbe, SilentPeerTimesOutNamingTheWait) {
  asio::io_context io;
  tcp::acceptor a(io, tcp::endpoint(asio::ip::make_address("127.0.0.1"), 0));  // never accepts
  const std::string target = "tcp://127.0.0.1:" + std::to_string(a.local_endpoint().port());
  struct Case {
    const char* name;
    std::string send;
  } cases[] = {{"read only", ""}, {"send then read", "PING\n"}};
  for (const Case& c : cases) {
    SCOPED_TRACE(c.name);
    auto probe = MakeTcpProbe({.host = "127.0.0.1",
                               .port = a.local_endpoint().port(),
                               .send = c.send,
                               .read_reply = true});
    const auto start = std::chrono::steady_clock::now();
    const Observation o = RunProbeBlocking(*probe, std::chrono::milliseconds(300));
    const auto took = std::chrono::steady_clock::now() - start;
    EXPECT_FALSE(o.connected);
    EXPECT_EQ(o.error, target + ": no reply: timed out after 300ms");
    EXPECT_GE(took, std::chrono::milliseconds(290));
    EXPECT_LT(took, std::chrono::seconds(2));
  }
}

}  // namespace
}  // namespace sonde
