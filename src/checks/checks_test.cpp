// The bundled checks against real servers on loopback: the project's HTTP server, TLS servers
// with certificates made by openssl at test time, dnsmasq, TCP/UDP listeners and closed ports.
// Checks run with a fixed environment map; RunBundledCheck runs with the process environment
// and reports to a test server, as a checker in a Kuberhealthy run does.
#include <gtest/gtest.h>
#include <stdlib.h>

#include <boost/asio/ip/udp.hpp>
#include <boost/json.hpp>
#include <mutex>

#include "checks/bundled_check.hpp"
#include "checks/quantity.hpp"
#include "probe/test_dns.hpp"
#include "probe/test_tls.hpp"
#include "server/test_server.hpp"

namespace sonde {
namespace {

namespace asio = boost::asio;
using tcp = asio::ip::tcp;
using Env = std::map<std::string, std::string>;
constexpr Duration kBudget = std::chrono::seconds(5);

// A result to compare: the errors, where "*" at the end of an expected error means "starts
// with", and {port} stands for the case's port.
struct Want {
  std::vector<std::string> errors;
  bool bad_config = false;
};

void ExpectOutcome(const CheckOutcome& got, const Want& want, uint16_t port) {
  EXPECT_EQ(got.bad_config, want.bad_config);
  ASSERT_EQ(got.errors.size(), want.errors.size())
      << (got.errors.empty() ? std::string("no errors") : got.errors.front());
  for (size_t i = 0; i < want.errors.size(); ++i) {
    std::string w = want.errors[i];
    for (size_t at; (at = w.find("{port}")) != std::string::npos;)
      w.replace(at, 6, std::to_string(port));
    if (w.ends_with("*")) {
      EXPECT_TRUE(got.errors[i].starts_with(w.substr(0, w.size() - 1))) << got.errors[i];
    } else {
      EXPECT_EQ(got.errors[i], w);
    }
  }
}

CheckOutcome RunCheck(std::string_view kind, Env env) {
  const BundledCheck* check = FindBundledCheck(kind);
  EXPECT_NE(check, nullptr) << kind;
  return check->run(CheckEnv(std::move(env)), kBudget);
}

uint16_t ClosedTcpPort() {
  asio::io_context io;
  tcp::acceptor a(io, tcp::endpoint(asio::ip::make_address("127.0.0.1"), 0));
  return a.local_endpoint().port();
}

// /ok 200, /fail 503, /flaky 200 then 503 alternately, /created 201 for POST {"a":1} only,
// /page a body with "needle", /redirect 302 to /page.
class Web {
 public:
  Web()
      : server_([this](HttpRequest r) -> asio::awaitable<HttpResponse> {
          std::lock_guard lock(mu_);
          if (r.path == "/ok") co_return HttpResponse::Text(200, "fine");
          if (r.path == "/fail") co_return HttpResponse::Text(503, "busy");
          if (r.path == "/flaky") co_return HttpResponse::Text(flaky_++ % 2 ? 503 : 200, "");
          if (r.path == "/created") {
            co_return HttpResponse::Text(r.method == "POST" && r.body == R"({"a":1})" ? 201 : 400,
                                         "");
          }
          if (r.path == "/page") co_return HttpResponse::Text(200, "<p>a needle * here</p>");
          if (r.path == "/redirect") {
            HttpResponse moved = HttpResponse::Text(302, "");
            moved.headers.emplace_back("Location", "/page");
            co_return moved;
          }
          co_return HttpResponse::Text(404, "no");
        }) {}
  std::string url(const std::string& path) const {
    return "http://127.0.0.1:" + std::to_string(server_.port()) + path;
  }
  uint16_t port() const { return server_.port(); }

 private:
  std::mutex mu_;
  int flaky_ = 0;
  testing::TestServer server_;
};

TEST(HttpCheck, Cases) {
  struct Case {
    std::string name;
    Env env;
    Want want;
  };
  Web web;
  const std::string base = "http://127.0.0.1:{port}";
  const Case cases[] = {
      {"three 200s", {{"CHECK_URL", web.url("/ok")}, {"COUNT", "3"}}, {}},
      {"COUNT unset sends one request",
       {{"CHECK_URL", web.url("/fail")}},
       {{"unable to retrieve a valid response (expected status: 200) from GET " + base +
             "/fail: 1 of 1 requests failed, 1 of 1 had to pass (PASSING_PERCENT 100)",
         "got 503"}}},
      {"503s",
       {{"CHECK_URL", web.url("/fail")}, {"COUNT", "2"}},
       {{"unable to retrieve a valid response (expected status: 200) from GET " + base +
             "/fail: 2 of 2 requests failed, 2 of 2 had to pass (PASSING_PERCENT 100)",
         "got 503 (2 times)"}}},
      {"half of flaky passes 50%",
       {{"CHECK_URL", web.url("/flaky")}, {"COUNT", "4"}, {"PASSING_PERCENT", "50"}},
       {}},
      {"flaky fails 75%",
       {{"CHECK_URL", web.url("/flaky")}, {"COUNT", "4"}, {"PASSING_PERCENT", "75"}},
       {{"unable to retrieve a valid response (expected status: 200) from GET " + base +
             "/flaky: 2 of 4 requests failed, 3 of 4 had to pass (PASSING_PERCENT 75)",
         "got 503 (2 times)"}}},
      {"POST with body and expected 201",
       {{"CHECK_URL", web.url("/created")},
        {"REQUEST_TYPE", "POST"},
        {"REQUEST_BODY", R"({"a":1})"},
        {"EXPECTED_STATUS_CODE", "201"},
        {"COUNT", "1"}},
       {}},
      {"POST with the default body gets 400",
       {{"CHECK_URL", web.url("/created")},
        {"REQUEST_TYPE", "POST"},
        {"EXPECTED_STATUS_CODE", "201"}},
       {{"unable to retrieve a valid response (expected status: 201) from POST " + base +
             "/created: 1 of 1 requests failed, 1 of 1 had to pass (PASSING_PERCENT 100)",
         "got 400"}}},
      {"redirects are followed", {{"CHECK_URL", web.url("/redirect")}}, {}},
      {"bad environment",
       {{"CHECK_URL", "ftp://x/"},
        {"COUNT", "five"},
        {"PASSING_PERCENT", "120"},
        {"REQUEST_TYPE", "HEAD"}},
       {{"COUNT \"five\" is not a whole number", "PASSING_PERCENT 120 must be 0 to 100",
         "REQUEST_TYPE \"HEAD\" must be GET, POST, PUT, DELETE or PATCH",
         "CHECK_URL \"ftp://x/\" must be an http:// or https:// URL"},
        true}},
      {"CHECK_URL missing", {}, {{"CHECK_URL is not set (e.g. https://example.com/health)"}, true}},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.name);
    ExpectOutcome(RunCheck("http", c.env), c.want, web.port());
  }
}

TEST(HttpCheck, RefusedConnectionIsNamed) {
  const uint16_t port = ClosedTcpPort();
  const std::string url = "http://127.0.0.1:" + std::to_string(port) + "/";
  ExpectOutcome(RunCheck("http", {{"CHECK_URL", url}, {"COUNT", "2"}}),
                {{"unable to retrieve a valid response (expected status: 200) from GET " + url +
                      ": 2 of 2 requests failed, 2 of 2 had to pass (PASSING_PERCENT 100)",
                  "GET " + url + ": connect 127.0.0.1:{port}: Connection refused (2 times)"}},
                port);
}

TEST(HttpCheck, SecondsSpacesTheRequests) {
  Web web;
  const auto start = std::chrono::steady_clock::now();
  ExpectOutcome(RunCheck("http", {{"CHECK_URL", web.url("/ok")}, {"COUNT", "2"}, {"SECONDS", "1"}}),
                {}, 0);
  EXPECT_GE(std::chrono::steady_clock::now() - start, std::chrono::seconds(1));
}

TEST(HttpContentCheck, Cases) {
  struct Case {
    std::string name;
    Env env;
    Want want;
  };
  Web web;
  const Case cases[] = {
      {"found", {{"TARGET_URL", web.url("/page")}, {"TARGET_STRING", "needle * here"}}, {}},
      {"found after a redirect",
       {{"TARGET_URL", web.url("/redirect")}, {"TARGET_STRING", "needle"}},
       {}},
      {"missing",
       {{"TARGET_URL", web.url("/ok")}, {"TARGET_STRING", "needle"}, {"TIMEOUT_DURATION", "2s"}},
       {{"could not find \"needle\" in the 5-byte body of GET http://127.0.0.1:{port}/ok (status "
         "200)"}}},
      {"bad environment",
       {{"TARGET_URL", web.url("/ok")}, {"TIMEOUT_DURATION", "soon"}},
       {{"TARGET_STRING is not set (e.g. Example Domain)", "TIMEOUT_DURATION: *"}, true}},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.name);
    ExpectOutcome(RunCheck("http-content", c.env), c.want, web.port());
  }
}

TEST(NetworkConnectionCheck, Cases) {
  asio::io_context io;
  tcp::acceptor listener(io, tcp::endpoint(asio::ip::make_address("127.0.0.1"), 0));
  const uint16_t open = listener.local_endpoint().port();
  const uint16_t closed = ClosedTcpPort();
  const uint16_t closed_udp = testing::FreeUdpPort();
  asio::ip::udp::socket udp_listener(io, {asio::ip::make_address("127.0.0.1"), 0});
  const std::string ou = std::to_string(udp_listener.local_endpoint().port());
  const std::string o = std::to_string(open), c = std::to_string(closed);
  const std::string cu = std::to_string(closed_udp);
  struct Case {
    std::string name;
    Env env;
    Want want;
  };
  const Case cases[] = {
      {"tcp up", {{"CONNECTION_TARGET", "tcp://127.0.0.1:" + o}}, {}},
      {"no scheme means tcp", {{"CONNECTION_TARGET", "127.0.0.1:" + o}}, {}},
      {"tcp down",
       {{"CONNECTION_TARGET", "tcp://127.0.0.1:" + c}},
       {{"Network connection check determined that tcp://127.0.0.1:" + c +
         " is DOWN: connect 127.0.0.1:" + c + ": Connection refused"}}},
      {"expected unreachable and is",
       {{"CONNECTION_TARGET", "tcp://127.0.0.1:" + c}, {"CONNECTION_TARGET_UNREACHABLE", "true"}},
       {}},
      {"expected unreachable but is up",
       {{"CONNECTION_TARGET", "tcp://127.0.0.1:" + o}, {"CONNECTION_TARGET_UNREACHABLE", "true"}},
       {{"Network connection check determined that tcp://127.0.0.1:" + o +
         " is UP (connected to 127.0.0.1), but CONNECTION_TARGET_UNREACHABLE is true"}}},
      {"udp listener (silent) is up", {{"CONNECTION_TARGET", "udp://127.0.0.1:" + ou}}, {}},
      {"udp closed port",
       {{"CONNECTION_TARGET", "udp://127.0.0.1:" + cu}},
       {{"Network connection check determined that udp://127.0.0.1:" + cu +
         " is DOWN: Connection refused"}}},
      {"bad environment",
       {{"CONNECTION_TARGET", "http://127.0.0.1:80"},
        {"CONNECTION_TARGET_UNREACHABLE", "maybe"},
        {"CONNECTION_TIMEOUT", "0s"}},
       {{"CONNECTION_TARGET_UNREACHABLE \"maybe\" is not a boolean (true or false)",
         "CONNECTION_TIMEOUT \"0s\" must be greater than zero, e.g. 10s",
         "CONNECTION_TARGET \"http://127.0.0.1:80\" must be tcp://host:port or udp://host:port"},
        true}},
      {"no port",
       {{"CONNECTION_TARGET", "tcp://127.0.0.1"}},
       {{"CONNECTION_TARGET \"tcp://127.0.0.1\": *"}, true}},
  };
  for (const Case& k : cases) {
    SCOPED_TRACE(k.name);
    ExpectOutcome(RunCheck("network-connection", k.env), k.want, 0);
  }
}

class TlsChecks : public testing::PkiTest {};

TEST_F(TlsChecks, SslExpiry) {
  struct Case {
    std::string name;
    testing::Cert cert;
    Env env;
    Want want;
  };
  const Case cases[] = {
      {"100 days, DAYS 30", pki_->in100days(), {{"DAYS", "30"}, {"INSECURE", "true"}}, {}},
      {"3 days, DAYS 30",
       pki_->in3days(),
       {{"DAYS", "30"}, {"INSECURE", "true"}},
       {{"Certificate for domain 127.0.0.1 is expiring in less than 30 days: it expires in 3.0 "
         "days (*"}}},
      {"100 days, DAYS 60 by default", pki_->in100days(), {{"INSECURE", "true"}}, {}},
      {"expired, insecure",
       pki_->expired(),
       {{"INSECURE", "true"}},
       {{"Certificate for domain 127.0.0.1 is expired: it expired *"}}},
      {"expired, verified",
       pki_->expired(),
       {},
       {{"SSL expiry check for 127.0.0.1:{port} failed: TLS handshake: certificate verify "
         "failed: *"}}},
      {"unknown CA, verified",
       pki_->in100days(),
       {{"INSECURE", "false"}},
       {{"SSL expiry check for 127.0.0.1:{port} failed: TLS handshake: certificate verify "
         "failed: unable to get local issuer certificate"}}},
      {"bad environment",
       pki_->in100days(),
       {{"DAYS", "-1"}, {"INSECURE", "yes"}},
       {{"DAYS -1 must be 0 to 100000", "INSECURE \"yes\" is not a boolean (true or false)"},
        true}},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.name);
    testing::TlsTestServer server(c.cert, false);
    Env env = c.env;
    env["DOMAIN_NAME"] = "127.0.0.1";
    env["PORT"] = std::to_string(server.port());
    ExpectOutcome(RunCheck("ssl-expiry", env), c.want, server.port());
  }
  ExpectOutcome(RunCheck("ssl-expiry", {}), {{"DOMAIN_NAME is not set (e.g. example.com)"}, true},
                0);
}

TEST_F(TlsChecks, SslHandshake) {
  struct Case {
    std::string name;
    testing::Cert cert;
    Env env;
    Want want;
  };
  const std::string fail = "unable to perform TLS handshake with 127.0.0.1:{port}: TLS handshake: ";
  const Case cases[] = {
      {"CA_FILE verifies", pki_->in100days(), {{"CA_FILE", pki_->ca()}}, {}},
      {"unknown CA",
       pki_->in100days(),
       {{"SELF_SIGNED", "false"}},
       {{fail + "certificate verify failed: unable to get local issuer certificate"}}},
      {"self-signed, SELF_SIGNED=true", pki_->self_signed(), {{"SELF_SIGNED", "true"}}, {}},
      {"self-signed, not trusted",
       pki_->self_signed(),
       {{"CA_FILE", pki_->ca()}},
       {{fail + "certificate verify failed: self-signed certificate"}}},
      {"self-signed, trusted as its own CA",
       pki_->self_signed(),
       {{"CA_FILE", pki_->self_signed().cert}},
       {}},
      {"expired",
       pki_->expired(),
       {{"CA_FILE", pki_->ca()}},
       {{fail + "certificate verify failed: certificate has expired"}}},
      {"bad CA_FILE",
       pki_->in100days(),
       {{"CA_FILE", "/nonexistent/ca.pem"}},
       {{"CA_FILE: cannot load CA file /nonexistent/ca.pem"}, true}},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.name);
    testing::TlsTestServer server(c.cert, false);
    Env env = c.env;
    env["DOMAIN_NAME"] = "127.0.0.1";
    env["PORT"] = std::to_string(server.port());
    ExpectOutcome(RunCheck("ssl-handshake", env), c.want, server.port());
  }
}

TEST(DnsCheck, Cases) {
  testing::Dnsmasq dns;
  const std::string at = " @" + dns.server();
  struct Case {
    std::string name;
    Env env;
    Want want;
  };
  const Case cases[] = {
      {"resolves", {{"HOSTNAME", "ok.test"}}, {}},
      {"expected answer", {{"HOSTNAME", "ok.test"}, {"EXPECTED_ANSWER", "127.0.0.7"}}, {}},
      {"AAAA", {{"HOSTNAME", "v6.test"}, {"RECORD_TYPE", "AAAA"}}, {}},
      {"MX",
       {{"HOSTNAME", "mail.test"}, {"RECORD_TYPE", "MX"}, {"EXPECTED_ANSWER", "mx1.test."}},
       {}},
      {"NXDOMAIN",
       {{"HOSTNAME", "missing.test"}},
       {{"DNS Status check determined that missing.test is DOWN: A missing.test" + at +
         " answered NXDOMAIN"}}},
      {"no records of the type",
       {{"HOSTNAME", "ok.test"}, {"RECORD_TYPE", "AAAA"}},
       {{"DNS Status check determined that ok.test is DOWN: AAAA ok.test" + at +
         " answered NOERROR with no AAAA records"}}},
      {"wrong answer",
       {{"HOSTNAME", "ok.test"}, {"EXPECTED_ANSWER", "127.0.0.9"}},
       {{"DNS Status check: A ok.test" + at + " answered 127.0.0.7, expected 127.0.0.9"}}},
      {"bad environment",
       {{"RECORD_TYPE", "ANY"}, {"DNS_POD_SELECTOR", "k8s-app=kube-dns"}},
       {{"RECORD_TYPE \"ANY\" must be A, AAAA, CNAME, MX, NS, TXT, PTR, SRV or SOA",
         "DNS_SERVER and DNS_POD_SELECTOR exclude each other: the selector picks the servers"},
        true}},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.name);
    Env env = c.env;
    env["DNS_SERVER"] = dns.server();
    ExpectOutcome(RunCheck("dns", env), c.want, 0);
  }
}

TEST(DnsCheck, SilentServerTimesOut) {
  asio::io_context io;
  asio::ip::udp::socket silent(io, {asio::ip::make_address("127.0.0.1"), 0});
  const std::string server = "127.0.0.1:" + std::to_string(silent.local_endpoint().port());
  const BundledCheck* check = FindBundledCheck("dns");
  const CheckOutcome got =
      check->run(CheckEnv(Env{{"HOSTNAME", "ok.test"}, {"DNS_SERVER", server}}),
                 std::chrono::milliseconds(300));
  ExpectOutcome(got,
                {{"DNS Status check determined that ok.test is DOWN: A ok.test @" + server +
                  ": timed out after 300ms"}},
                0);
}

TEST(BundledChecks, TableAndImages) {
  std::vector<std::string_view> kinds;
  for (const BundledCheck& c : BundledChecks()) kinds.push_back(c.kind);
  EXPECT_EQ(kinds, (std::vector<std::string_view>{
                       "http", "http-content", "network-connection", "ssl-expiry", "ssl-handshake",
                       "dns", "pod-restarts", "pod-status", "namespace-pod-check", "resource-quota",
                       "daemonset", "deployment"}));
  const std::pair<std::string_view, std::string_view> images[] = {
      {"kuberhealthy/http-check:v1.5.0", "http"},
      {"docker.io/kuberhealthy/ssl-expiry-check:sha-abc", "ssl-expiry"},
      {"kuberhealthy/network-connection-check@sha256:0123", "network-connection"},
      {"localhost:5000/kuberhealthy/dns-resolution-check:v1", "dns"},
      {"kuberhealthy/http-content-check", "http-content"},
      {"kuberhealthy/pod-restarts-check:v2.3.0", "pod-restarts"},
      {"docker.io/kuberhealthy/pod-status-check:v1.3.0", "pod-status"},
      {"kuberhealthy/namespace-pod-check:v1.0.0", "namespace-pod-check"},
      {"kuberhealthy/resource-quota-check:v1.3.0", "resource-quota"},
      {"docker.io/kuberhealthy/daemonset-check:v3.0.0", "daemonset"},
      {"quay.io/kuberhealthy/deployment-check:v1.9.0", "deployment"},
  };
  for (auto [image, kind] : images) {
    const BundledCheck* c = FindBundledCheckForImage(image);
    ASSERT_NE(c, nullptr) << image;
    EXPECT_EQ(c->kind, kind);
  }
  EXPECT_EQ(FindBundledCheckForImage("example.com/http-check:v1"), nullptr);
}

// The Kubernetes checks' environment mistakes, found before any request (they run against a
// real API server in tests/kube/kube_checks_test.cpp).
TEST(KubeChecks, BadEnvironment) {
  struct Case {
    std::string kind;
    Env env;
    Want want;
  };
  const Case cases[] = {
      {"pod-restarts",
       {{"MAX_FAILURES_ALLOWED", "ten"}},
       {{"MAX_FAILURES_ALLOWED \"ten\" is not a whole number"}, true}},
      {"pod-restarts",
       {{"MAX_FAILURES_ALLOWED", "-1"}},
       {{"MAX_FAILURES_ALLOWED -1 must be 0 to 2147483647"}, true}},
      {"pod-status",
       {{"SKIP_DURATION", "10 minutes"}},
       {{"failed to parse skip duration: SKIP_DURATION: *"}, true}},
      {"resource-quota",
       {{"THRESHOLD", "90%"}},
       {{"THRESHOLD \"90%\" is not a number (e.g. 0.9 for 90%)"}, true}},
      {"resource-quota",
       {{"THRESHOLD", "1"}},
       {{"THRESHOLD 1 must be greater than 0 and at most 0.99"}, true}},
      // No KUBECONFIG, no service account, no HOME: nowhere to find the cluster.
      {"namespace-pod-check", {}, {{"cannot find the Kubernetes API: *"}, true}},
      {"pod-status",
       {{"KUBECONFIG", "/nonexistent/kubeconfig"}},
       {{"cannot find the Kubernetes API: *"}, true}},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.kind);
    ExpectOutcome(RunCheck(c.kind, c.env), c.want, 0);
  }
}

TEST(KubeChecks, Quantities) {
  using checks_internal::ParseQuantity;
  const std::pair<std::string_view, double> good[] = {{"1", 1},
                                                      {"500m", 0.5},
                                                      {"1.5", 1.5},
                                                      {"2k", 2000},
                                                      {"1Ki", 1024},
                                                      {"1Gi", 0x1p30},
                                                      {"100Mi", 100 * 0x1p20},
                                                      {"1e3", 1000},
                                                      {"5E-1", 0.5},
                                                      {"250u", 250e-6},
                                                      {"+3", 3},
                                                      {"-2", -2},
                                                      {"0", 0},
                                                      {".5", 0.5},
                                                      {"1M", 1e6}};
  for (auto [text, want] : good) {
    auto got = ParseQuantity(text);
    ASSERT_TRUE(got.has_value()) << text;
    EXPECT_DOUBLE_EQ(*got, want) << text;
  }
  for (std::string_view bad : {"", "m", "1x", "1Kb", "1..2", "e3", "1e", "--1", "1 Gi"}) {
    EXPECT_FALSE(ParseQuantity(bad).has_value()) << bad;
  }
}

TEST(BundledChecks, Budget) {
  const TimePoint now = FromUnixSeconds(1'800'000'000);
  using std::chrono::seconds;
  EXPECT_EQ(CheckBudget(CheckEnv(Env{}), now).value(), seconds(20));
  EXPECT_EQ(CheckBudget(CheckEnv(Env{{"KH_CHECK_RUN_DEADLINE", "1800000060"}}), now).value(),
            seconds(55));
  EXPECT_EQ(CheckBudget(CheckEnv(Env{{"KH_CHECK_RUN_DEADLINE", "1800000008"}}), now).value(),
            seconds(6));
  EXPECT_EQ(CheckBudget(CheckEnv(Env{{"KH_CHECK_RUN_DEADLINE", "1800000000"}}), now).error(),
            "the run's deadline (KH_CHECK_RUN_DEADLINE 1800000000) has already passed");
  EXPECT_EQ(CheckBudget(CheckEnv(Env{{"KH_CHECK_RUN_DEADLINE", "1.5"}}), now).error(),
            "KH_CHECK_RUN_DEADLINE \"1.5\" is not Unix seconds");
}

// The whole checker path: the process environment in, a report to KH_REPORTING_URL out.
class ReportingTest : public ::testing::Test {
 protected:
  ReportingTest()
      : sink_([this](HttpRequest r) -> asio::awaitable<HttpResponse> {
          std::lock_guard lock(mu_);
          reports_.push_back(std::move(r));
          co_return HttpResponse::Text(200, "ok");
        }) {
    ::setenv("KH_REPORTING_URL",
             ("http://127.0.0.1:" + std::to_string(sink_.port()) + "/check").c_str(), 1);
    ::setenv("KH_RUN_UUID", "run-1", 1);
  }
  ~ReportingTest() override {
    for (const char* v : {"KH_REPORTING_URL", "KH_RUN_UUID", "KH_CHECK_RUN_DEADLINE",
                          "CONNECTION_TARGET", "CONNECTION_TARGET_UNREACHABLE"}) {
      ::unsetenv(v);
    }
  }
  boost::json::value LastReport() {
    std::lock_guard lock(mu_);
    EXPECT_EQ(reports_.size(), 1u);
    EXPECT_EQ(reports_.back().Header("kh-run-uuid"), "run-1");
    return boost::json::parse(reports_.back().body);
  }
  std::mutex mu_;
  std::vector<HttpRequest> reports_;
  testing::TestServer sink_;
};

TEST_F(ReportingTest, ReportsSuccess) {
  ::setenv("CONNECTION_TARGET", ("tcp://127.0.0.1:" + std::to_string(sink_.port())).c_str(), 1);
  ::setenv("KH_CHECK_RUN_DEADLINE", std::to_string(std::time(nullptr) + 60).c_str(), 1);
  EXPECT_EQ(RunBundledCheck(*FindBundledCheck("network-connection")), kCheckPassed);
  EXPECT_EQ(LastReport(), boost::json::parse(R"({"OK":true,"Errors":[]})"));
}

TEST_F(ReportingTest, ReportsFailure) {
  const uint16_t closed = ClosedTcpPort();
  ::setenv("CONNECTION_TARGET", ("tcp://127.0.0.1:" + std::to_string(closed)).c_str(), 1);
  EXPECT_EQ(RunBundledCheck(*FindBundledCheck("network-connection")), kCheckFailed);
  const std::string c = std::to_string(closed);
  EXPECT_EQ(LastReport(),
            (boost::json::value{{"OK", false},
                                {"Errors",
                                 {"Network connection check determined that tcp://127.0.0.1:" + c +
                                  " is DOWN: connect 127.0.0.1:" + c + ": Connection refused"}}}));
}

TEST_F(ReportingTest, ReportsBadEnvironmentAndExitsNonZero) {
  ::setenv("CONNECTION_TARGET_UNREACHABLE", "perhaps", 1);
  EXPECT_EQ(RunBundledCheck(*FindBundledCheck("network-connection")), kCheckBadConfig);
  EXPECT_EQ(LastReport(),
            (boost::json::value{{"OK", false},
                                {"Errors",
                                 {"CONNECTION_TARGET is not set (e.g. tcp://example.com:443)",
                                  "CONNECTION_TARGET_UNREACHABLE \"perhaps\" is not a "
                                  "boolean (true or false)"}}}));
}

TEST_F(ReportingTest, ReportsAPastDeadline) {
  ::setenv("KH_CHECK_RUN_DEADLINE", "1000", 1);
  EXPECT_EQ(RunBundledCheck(*FindBundledCheck("network-connection")), kCheckBadConfig);
  EXPECT_EQ(LastReport().at("Errors").at(0),
            "the run's deadline (KH_CHECK_RUN_DEADLINE 1000) has already passed");
}

}  // namespace
}  // namespace sonde
