// The tls probe (and the http probe over https) against TLS servers on loopback whose
// certificates the openssl CLI makes at test time: signed by a test CA and expiring in 3 or
// 100 days, expired, or self-signed.
#include "probe/tls_probe.hpp"

#include <gtest/gtest.h>

#include "core/clock.hpp"
#include "probe/http_probe.hpp"
#include "probe/registry.hpp"
#include "probe/test_tls.hpp"

namespace sonde {
namespace {

constexpr auto kTimeout = std::chrono::seconds(3);

TimePoint Now() { return SystemClock().Now(); }

std::vector<Condition> Parse(const std::vector<std::string>& texts) {
  std::vector<Condition> out;
  for (const std::string& t : texts) {
    auto c = Condition::Parse(t);
    EXPECT_TRUE(c.ok()) << c.error();
    if (c.ok()) out.push_back(std::move(c).value());
  }
  return out;
}

class TlsProbeTest : public testing::PkiTest {};

enum class Served { k3Days, k100Days, kExpired, kSelfSigned };

TEST_F(TlsProbeTest, VerifiesAndJudgesExpiry) {
  struct Case {
    std::string name;
    Served served;
    TlsOptions tls;
    std::vector<std::string> conditions;
    // Errors; "{target}" stands for "tls://127.0.0.1:PORT". A prefix match when it ends in "*".
    std::vector<std::string> errors;
  };
  const std::string ca = pki_->ca();
  const Case cases[] = {
      {"CA file verifies", Served::k100Days, {.ca_file = ca}, {"[CONNECTED] == true"}, {}},
      {"system store does not know the test CA",
       Served::k100Days,
       {},
       {"[CERTIFICATE_EXPIRATION] > 30d"},
       {"{target}: TLS handshake: certificate verify failed: unable to get local issuer "
        "certificate"}},
      {"100 days holds 30d",
       Served::k100Days,
       {.ca_file = ca},
       {"[CERTIFICATE_EXPIRATION] > 30d"},
       {}},
      {"3 days fails 30d",
       Served::k3Days,
       {.ca_file = ca},
       {"[CERTIFICATE_EXPIRATION] > 30d"},
       {"[CERTIFICATE_EXPIRATION] > 30d: the certificate expires in 3.0 days (*"}},
      {"expired fails verification",
       Served::kExpired,
       {.ca_file = ca},
       {"[CONNECTED] == true"},
       {"{target}: TLS handshake: certificate verify failed: certificate has expired"}},
      {"expired without verification connects",
       Served::kExpired,
       {.verify = false},
       {"[CERTIFICATE_EXPIRATION] > 0"},
       {"[CERTIFICATE_EXPIRATION] > 0: the certificate expired 2*"}},
      {"self-signed fails verification",
       Served::kSelfSigned,
       {.ca_file = ca},
       {},
       {"{target}: TLS handshake: certificate verify failed: self-signed certificate"}},
      {"self-signed passes without verification",
       Served::kSelfSigned,
       {.verify = false},
       {"[CONNECTED] == true", "[CERTIFICATE_EXPIRATION] > 30d"},
       {}},
      {"wrong server name",
       Served::k100Days,
       {.ca_file = ca, .server_name = "wrong.test"},
       {},
       {"{target}: TLS handshake: certificate verify failed: hostname mismatch"}},
      {"right server name", Served::k100Days, {.ca_file = ca, .server_name = "localhost"}, {}, {}},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.name);
    const testing::Cert cert = c.served == Served::k3Days     ? pki_->in3days()
                               : c.served == Served::k100Days ? pki_->in100days()
                               : c.served == Served::kExpired ? pki_->expired()
                                                              : pki_->self_signed();
    testing::TlsTestServer server(cert, false);
    auto probe = MakeTlsProbe({.host = "127.0.0.1", .port = server.port(), .tls = c.tls});
    ASSERT_TRUE(probe.ok()) << probe.error();
    const Observation o = RunProbeBlocking(*probe.value(), kTimeout);
    EXPECT_EQ(o.ip, "127.0.0.1");
    const std::vector<std::string> conditions =
        // Conditions not about [CONNECTED]: then a transport error is the only error.
        c.conditions.empty() ? std::vector<std::string>{"[CERTIFICATE_EXPIRATION] > 0"}
                             : c.conditions;
    const std::vector<std::string> errors = EvaluateConditions(Parse(conditions), o, Now());
    ASSERT_EQ(errors.size(), c.errors.size()) << (errors.empty() ? "" : errors[0]);
    for (size_t i = 0; i < errors.size(); ++i) {
      std::string want = c.errors[i];
      const std::string target = "tls://127.0.0.1:" + std::to_string(server.port());
      for (size_t at; (at = want.find("{target}")) != std::string::npos;) {
        want.replace(at, 8, target);
      }
      if (want.ends_with("*")) {
        EXPECT_TRUE(errors[i].starts_with(want.substr(0, want.size() - 1))) << errors[i];
      } else {
        EXPECT_EQ(errors[i], want);
      }
    }
  }
}

TEST_F(TlsProbeTest, RecordsNotAfter) {
  testing::TlsTestServer server(pki_->in3days(), false);
  auto probe =
      MakeTlsProbe({.host = "127.0.0.1", .port = server.port(), .tls = {.ca_file = pki_->ca()}});
  ASSERT_TRUE(probe.ok());
  const Observation o = RunProbeBlocking(*probe.value(), kTimeout);
  ASSERT_TRUE(o.certificate_not_after.has_value()) << o.error;
  const auto left = *o.certificate_not_after - Now();
  EXPECT_GT(left, std::chrono::hours(71));
  EXPECT_LE(left, std::chrono::hours(72));
}

TEST_F(TlsProbeTest, PlainTcpPeerFailsTheHandshake) {
  // A listener that accepts and closes: the handshake cannot complete.
  boost::asio::io_context io;
  boost::asio::ip::tcp::acceptor acceptor(io, {boost::asio::ip::make_address("127.0.0.1"), 0});
  std::thread closer([&] {
    boost::system::error_code ec;
    acceptor.accept(ec).close(ec);
  });
  auto probe = MakeTlsProbe(
      {.host = "127.0.0.1", .port = acceptor.local_endpoint().port(), .tls = {.verify = false}});
  ASSERT_TRUE(probe.ok());
  const Observation o = RunProbeBlocking(*probe.value(), kTimeout);
  closer.join();
  EXPECT_FALSE(o.connected);
  EXPECT_TRUE(o.error.find(": TLS handshake: ") != std::string::npos) << o.error;
}

TEST_F(TlsProbeTest, BadCaFileIsAConfigError) {
  auto probe =
      MakeTlsProbe({.host = "127.0.0.1", .port = 1, .tls = {.ca_file = "/nonexistent.pem"}});
  ASSERT_FALSE(probe.ok());
  EXPECT_EQ(probe.error(), "cannot load CA file /nonexistent.pem");
}

TEST_F(TlsProbeTest, HttpProbeOverHttps) {
  testing::TlsTestServer server(pki_->in100days(), true);
  const std::string url = "https://localhost:" + std::to_string(server.port()) + "/health";
  struct Case {
    TlsOptions tls;
    std::vector<std::string> conditions;
    std::string error_part;  // "" when the conditions hold
  };
  const Case cases[] = {
      {{.ca_file = pki_->ca()},
       {"[STATUS] == 200", "[BODY] == ok", "[CERTIFICATE_EXPIRATION] > 30d"},
       ""},
      {{.verify = false}, {"[STATUS] == 200"}, ""},
      {{}, {"[STATUS] == 200"}, "TLS handshake"},
      {{.ca_file = pki_->ca()}, {"[CERTIFICATE_EXPIRATION] > 200d"}, "expires in 100.0 days"},
  };
  for (const Case& c : cases) {
    auto probe = MakeHttpProbe({.url = url, .tls = c.tls});
    ASSERT_TRUE(probe.ok()) << probe.error();
    const Observation o = RunProbeBlocking(*probe.value(), kTimeout);
    const auto errors = EvaluateConditions(Parse(c.conditions), o, Now());
    if (c.error_part.empty()) {
      EXPECT_TRUE(errors.empty()) << errors[0];
    } else {
      ASSERT_EQ(errors.size(), 1u);
      EXPECT_NE(errors[0].find(c.error_part), std::string::npos) << errors[0];
    }
  }
}

// A peer that accepts and never answers the ClientHello: the run's one deadline ends the
// handshake, named as Beast's stream expiry named it.
TEST(TlsProbe, SilentPeerTimesOutInTheHandshake) {
  boost::asio::io_context io;
  boost::asio::ip::tcp::acceptor silent(io, {boost::asio::ip::make_address("127.0.0.1"), 0});
  const uint16_t port = silent.local_endpoint().port();
  auto probe = MakeTlsProbe({.host = "127.0.0.1", .port = port, .tls = {.verify = false}});
  ASSERT_TRUE(probe.ok()) << probe.error();
  const auto start = std::chrono::steady_clock::now();
  const Observation o = RunProbeBlocking(*probe.value(), std::chrono::milliseconds(200));
  const auto took = std::chrono::steady_clock::now() - start;
  EXPECT_FALSE(o.connected);
  EXPECT_EQ(o.error,
            "tls://127.0.0.1:" + std::to_string(port) + ": TLS handshake: timed out after 200ms");
  EXPECT_GE(took, std::chrono::milliseconds(190));
  EXPECT_LT(took, std::chrono::seconds(2));
}

TEST(TlsProbe, IsRegistered) {
  const ProbeRegistry registry = BuiltinProbes();
  const ProbeKind* kind = registry.Find("tls");
  ASSERT_NE(kind, nullptr);
  EXPECT_EQ(kind->default_conditions, std::vector<std::string>{"[CONNECTED] == true"});
}

}  // namespace
}  // namespace sonde
