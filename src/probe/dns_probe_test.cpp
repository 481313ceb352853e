// The dns probe against a real DNS server (Debian's dnsmasq on a free loopback port), a
// silent UDP socket and a closed UDP port.
#include "probe/dns_probe.hpp"

#include <gtest/gtest.h>

#include <boost/asio/ip/udp.hpp>
#include <fstream>

#include "core/clock.hpp"
#include "probe/registry.hpp"
#include "probe/test_dns.hpp"

namespace sonde {
namespace {

namespace asio = boost::asio;
constexpr auto kTimeout = std::chrono::seconds(3);

TimePoint Now() { return SystemClock().Now(); }

std::vector<Condition> Parse(std::initializer_list<std::string_view> texts) {
  std::vector<Condition> out;
  for (std::string_view t : texts) {
    auto c = Condition::Parse(t);
    EXPECT_TRUE(c.ok()) << c.error();
    if (c.ok()) out.push_back(std::move(c).value());
  }
  return out;
}

class DnsProbeTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() { server_ = new testing::Dnsmasq(); }
  static void TearDownTestSuite() {
    delete server_;
    server_ = nullptr;
  }
  static Observation Query(std::string name, std::string type, bool tcp = false) {
    auto probe = MakeDnsProbe({.name = std::move(name),
                               .type = std::move(type),
                               .server = server_->server(),
                               .tcp = tcp});
    EXPECT_TRUE(probe.ok()) << probe.error();
    return RunProbeBlocking(*probe.value(), kTimeout);
  }
  static testing::Dnsmasq* server_;
};
testing::Dnsmasq* DnsProbeTest::server_ = nullptr;

TEST_F(DnsProbeTest, AnswersEachRecordType) {
  struct Case {
    std::string name, type;
    std::vector<std::string> answers;
  };
  const Case cases[] = {
      {"ok.test", "A", {"127.0.0.7"}},
      {"v6.test", "AAAA", {"::7"}},
      {"alias.test", "CNAME", {"ok.test."}},
      {"alias.test", "A", {"127.0.0.7"}},  // the CNAME record itself is not an A answer
      {"mail.test", "MX", {"mx1.test."}},
      {"txt.test", "TXT", {"hello world"}},
      {"_sip._tcp.test", "SRV", {"sip.test.:5060"}},
      {"ok.test", "aaaa", {}},  // the name exists, without that type: NOERROR, no answers
      {"7.0.0.127.in-addr.arpa", "PTR", {"ok.test."}},
      // Truncated over UDP, so asked again over TCP: the whole record arrives.
      {"big.test", "TXT", {std::string(250, 'a') + std::string(250, 'b') + std::string(250, 'c')}},
  };
  for (const Case& c : cases) {
    for (bool tcp : {false, true}) {
      SCOPED_TRACE(c.type + " " + c.name + (tcp ? " over TCP" : " over UDP"));
      const Observation o = Query(c.name, c.type, tcp);
      EXPECT_EQ(o.error, "");
      EXPECT_TRUE(o.connected);
      EXPECT_EQ(o.dns_rcode, "NOERROR");
      EXPECT_EQ(o.dns_answers, c.answers);
      EXPECT_EQ(o.ip, "127.0.0.1");
      EXPECT_GT(o.response_time.count(), 0);
    }
  }
}

TEST_F(DnsProbeTest, BodyJoinsAnswers) {
  const Observation o = Query("ok.test", "A");
  EXPECT_EQ(o.body, "127.0.0.7");
}

TEST_F(DnsProbeTest, ConditionsJudgeRcodeAndAnswers) {
  struct Case {
    std::string name;
    std::vector<std::string_view> conditions;
    std::vector<std::string> errors;
  };
  const Case cases[] = {
      {"ok.test", {"[DNS_RCODE] == NOERROR", "[DNS_ANSWERS] == 127.0.0.7"}, {}},
      {"ok.test", {"[DNS_ANSWERS] == 127.0.0.9"}, {"[DNS_ANSWERS] == 127.0.0.9: got 127.0.0.7"}},
      {"missing.test", {"[DNS_RCODE] == NOERROR"}, {"[DNS_RCODE] == NOERROR: got NXDOMAIN"}},
      {"missing.test",
       {"[DNS_ANSWERS] == 127.0.0.7"},
       {"[DNS_ANSWERS] == 127.0.0.7: got no answers"}},
      {"missing.test", {"[DNS_RCODE] == NXDOMAIN", "len([DNS_ANSWERS]) == 0"}, {}},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.name);
    std::vector<Condition> conditions;
    for (auto t : c.conditions) conditions.push_back(Condition::Parse(t).value());
    const Observation o = Query(c.name, "A");
    EXPECT_EQ(EvaluateConditions(conditions, o, Now()), c.errors);
  }
}

TEST(DnsProbe, SilentServerTimesOut) {
  asio::io_context io;
  asio::ip::udp::socket silent(io, {asio::ip::make_address("127.0.0.1"), 0});
  const std::string server = "127.0.0.1:" + std::to_string(silent.local_endpoint().port());
  auto probe = MakeDnsProbe({.name = "ok.test", .server = server});
  ASSERT_TRUE(probe.ok());
  const Observation o = RunProbeBlocking(*probe.value(), std::chrono::milliseconds(300));
  EXPECT_FALSE(o.connected);
  EXPECT_EQ(o.error, "A ok.test @" + server + ": timed out after 300ms");
  EXPECT_EQ(EvaluateConditions(Parse({"[DNS_RCODE] == NOERROR"}), o, Now()),
            std::vector<std::string>{o.error});
}

// Over TCP, a server that accepts and never answers: the exchange's one deadline ends the
// wait, named as Beast's stream expiry named it.
TEST(DnsProbe, SilentTcpServerTimesOut) {
  asio::io_context io;
  asio::ip::tcp::acceptor silent(io, {asio::ip::make_address("127.0.0.1"), 0});
  const std::string server = "127.0.0.1:" + std::to_string(silent.local_endpoint().port());
  auto probe = MakeDnsProbe({.name = "ok.test", .server = server, .tcp = true});
  ASSERT_TRUE(probe.ok());
  const auto start = std::chrono::steady_clock::now();
  const Observation o = RunProbeBlocking(*probe.value(), std::chrono::milliseconds(300));
  const auto took = std::chrono::steady_clock::now() - start;
  EXPECT_FALSE(o.connected);
  EXPECT_EQ(o.error, "A ok.test @" + server + ": TCP: timed out after 300ms");
  EXPECT_GE(took, std::chrono::milliseconds(290));
  EXPECT_LT(took, std::chrono::seconds(2));
}

TEST(DnsProbe, ClosedPortIsRefused) {
  const std::string server = "127.0.0.1:" + std::to_string(testing::FreeUdpPort());
  auto probe = MakeDnsProbe({.name = "ok.test", .server = server});
  ASSERT_TRUE(probe.ok());
  const Observation o = RunProbeBlocking(*probe.value(), kTimeout);
  EXPECT_FALSE(o.connected);
  EXPECT_EQ(o.error, "A ok.test @" + server + ": Connection refused");
}

TEST(DnsProbe, ClosedTcpPortIsRefused) {
  const uint16_t port = testing::FreeUdpPort();
  const std::string server = "127.0.0.1:" + std::to_string(port);
  auto probe = MakeDnsProbe({.name = "ok.test", .server = server, .tcp = true});
  ASSERT_TRUE(probe.ok());
  const Observation o = RunProbeBlocking(*probe.value(), kTimeout);
  EXPECT_EQ(o.error, "A ok.test @" + server + ": TCP: connect " + server + ": Connection refused");
}

TEST(DnsProbe, RejectsBadConfig) {
  struct Case {
    DnsProbeConfig config;
    std::string error;
  };
  const Case cases[] = {
      {{.name = "", .server = "127.0.0.1"}, "the name to query is empty"},
      {{.name = "a.test", .type = "ANY", .server = "127.0.0.1"},
       "unsupported record type \"ANY\" (want A, AAAA, CNAME, MX, NS, TXT, PTR, SRV or SOA)"},
      {{.name = "a.test", .server = "127.0.0.1:0"}, "server: port \"0\" must be 1 to 65535"},
  };
  for (const Case& c : cases) {
    auto probe = MakeDnsProbe(c.config);
    ASSERT_FALSE(probe.ok());
    EXPECT_EQ(probe.error(), c.error);
  }
}

TEST(DnsProbe, ServerDefaultsToPort53AndResolvConf) {
  auto probe = MakeDnsProbe({.name = "a.test", .server = "::1"});
  ASSERT_TRUE(probe.ok());
  EXPECT_EQ(probe.value()->Target(), "A a.test @[::1]:53");

  char path[] = "/tmp/sonde-resolv-XXXXXX";
  const int fd = ::mkstemp(path);
  ASSERT_GE(fd, 0);
  ::close(fd);
  std::ofstream(path) << "# comment\nsearch example\nnameserver fe80::1%eth0\n";
  auto first = FirstNameserver(path);
  ASSERT_TRUE(first.ok());
  EXPECT_EQ(first.value(), "[fe80::1%eth0]:53");
  std::ofstream(path) << "search example\n";
  EXPECT_EQ(FirstNameserver(path).error(), std::string(path) + " names no nameserver");
  std::remove(path);
}

TEST(DnsProbe, IsRegistered) {
  const ProbeRegistry registry = BuiltinProbes();
  const ProbeKind* kind = registry.Find("dns");
  ASSERT_NE(kind, nullptr);
  EXPECT_EQ(kind->default_conditions, std::vector<std::string>{"[DNS_RCODE] == NOERROR"});
}

}  // namespace
}  // namespace sonde
