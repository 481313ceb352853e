// Kuberhealthy's own documented YAML for its http, ssl-expiry and network-connection checks
// (cmd/*/README.md and the example manifests in its repository), with only the target changed
// to a loopback server this test starts, runs unchanged in local mode: the image names the
// bundled check, which Sonde runs as `sonde check KIND` and which reports like any checker.
#include <gtest/gtest.h>

#include <boost/asio/ip/tcp.hpp>
#include <boost/json.hpp>

#include "probe/test_tls.hpp"
#include "server/test_server.hpp"
#include "support/checks.hpp"

namespace sonde::testing {
namespace {

namespace json = boost::json;
namespace asio = boost::asio;

// cmd/http-check/README.md (v1.5.1 example), CHECK_URL changed.
std::string HttpCheckYaml(const std::string& url) {
  return R"(apiVersion: comcast.github.io/v1
kind: KuberhealthyCheck
metadata:
  name: http
  namespace: kuberhealthy
spec:
  runInterval: 5m
  timeout: 10m
  podSpec:
    containers:
      - name: https
        image: kuberhealthy/http-check:v1.5.1
        imagePullPolicy: IfNotPresent
        env:
          - name: CHECK_URL
            value: ")" +
         url + R"("
          - name: COUNT #### default: "0"
            value: "5"
          - name: SECONDS #### default: "0"
            value: "1"
          - name: PASSING_PERCENT #### default: "100"
            value: "80"
          - name: REQUEST_TYPE #### default: "GET"
            value: "POST"
          - name: REQUEST_BODY #### default: "{}"
            value: '{"test": "has_key"}'
          - name: EXPECTED_STATUS_CODE #### default: "200"
            value: "200"
        resources:
          requests:
            cpu: 15m
            memory: 15Mi
          limits:
            cpu: 25m
    restartPolicy: Always
    terminationGracePeriodSeconds: 5
)";
}

// cmd/ssl-expiry-check/ssl-selfsign-expiry-check.yaml, DOMAIN_NAME and PORT changed.
std::string SslExpiryYaml(uint16_t port) {
  return R"(apiVersion: comcast.github.io/v1
kind: KuberhealthyCheck
metadata:
  name: ssl-expiry
  namespace: kuberhealthy
spec:
  runInterval: 24h
  timeout: 15m
  podSpec:
    containers:
      - env:
          # Domain name env variable must be updated to the domain on which you wish to check the SSL for
          - name: DOMAIN_NAME
            value: "localhost"
          # If not using default SSL port of 443, port name env variable must be updated
          - name: PORT
            value: ")" +
         std::to_string(port) + R"("
          # Number of days until certificate expiration to test for
          - name: DAYS
            value: "60"
          # Set INSECURE to "true" for self-signed certificates.
          - name: INSECURE
            value: "true"
        image: kuberhealthy/ssl-expiry-check:v3.0.1
        imagePullPolicy: IfNotPresent
        name: main
        resources:
          requests:
            cpu: 10m
            memory: 50Mi
)";
}

// cmd/network-connection-check/{successful,failed}NetworkConnectionCheck.yaml, targets changed.
std::string NetworkYaml(const std::string& name, const std::string& target, bool unreachable) {
  std::string env =
      "          - name: CONNECTION_TIMEOUT\n            value: \"10s\"\n"
      "          - name: CONNECTION_TARGET\n            value: \"" +
      target + "\"\n";
  if (unreachable) {
    env = "          - name: CONNECTION_TARGET\n            value: \"" + target +
          "\"\n          # Should we expect the connection target to fail to connect?\n"
          "          - name: CONNECTION_TARGET_UNREACHABLE\n            value: \"true\"\n";
  }
  return "apiVersion: comcast.github.io/v1\nkind: KuberhealthyCheck\nmetadata:\n  name: " + name +
         "\n  namespace: kuberhealthy\nspec:\n  runInterval: 30m\n  timeout: 10m\n  podSpec:\n"
         "    containers:\n      - env:\n" +
         env +
         "        image: kuberhealthy/network-connection-check:v0.2.1\n        name: " + name +
         "\n";
}

// Waits for the first result of `key` and returns its /json entry.
json::value FirstResult(const DaemonProcess& d, const std::string& key) {
  json::value detail;
  EXPECT_TRUE(Eventually(
      [&] {
        detail = CheckDetail(d, key);
        return detail.is_object() && (detail.as_object().contains("successCount") ||
                                      detail.as_object().contains("failureCount"));
      },
      std::chrono::seconds(40)))
      << key << " never finished; log:\n"
      << d.log();
  return detail;
}

TEST(BundledChecks, KuberhealthyYamlRunsUnchangedInLocalMode) {
  int posts = 0;
  TestServer target([&posts](HttpRequest r) -> asio::awaitable<HttpResponse> {
    HttpResponse out;
    if (r.method == "POST" && r.body == R"({"test": "has_key"})") ++posts;
    out.status = r.method == "POST" ? 200 : 405;
    co_return out;
  });
  TestPki pki;
  TlsTestServer tls(pki.in100days(), false);
  asio::io_context io;
  asio::ip::tcp::acceptor listener(io, {asio::ip::make_address("127.0.0.1"), 0});
  const std::string listening =
      "tcp://127.0.0.1:" + std::to_string(listener.local_endpoint().port());
  const std::string closed = "tcp://127.0.0.1:" + std::to_string(ClosedPort());

  TempDir checks;
  checks.Write("http.yaml",
               HttpCheckYaml("http://127.0.0.1:" + std::to_string(target.port()) + "/api/users"));
  checks.Write("ssl.yaml", SslExpiryYaml(tls.port()));
  checks.Write("reachable.yaml", NetworkYaml("reachable", listening, false));
  checks.Write("unreachable.yaml", NetworkYaml("metadata-unreachable", closed, true));
  checks.Write("wrongly-reachable.yaml", NetworkYaml("wrongly-reachable", listening, true));
  DaemonProcess d(checks.path());

  const json::value http = FirstResult(d, "kuberhealthy/http");
  EXPECT_TRUE(http.at("ok").as_bool()) << json::serialize(http);
  EXPECT_EQ(posts, 5) << "COUNT=5 POSTs with REQUEST_BODY";
  // 100 days left > DAYS=60, self-signed chain accepted with INSECURE=true.
  const json::value ssl = FirstResult(d, "kuberhealthy/ssl-expiry");
  EXPECT_TRUE(ssl.at("ok").as_bool()) << json::serialize(ssl);
  EXPECT_TRUE(FirstResult(d, "kuberhealthy/reachable").at("ok").as_bool());
  EXPECT_TRUE(FirstResult(d, "kuberhealthy/metadata-unreachable").at("ok").as_bool());
  const json::value wrong = FirstResult(d, "kuberhealthy/wrongly-reachable");
  EXPECT_FALSE(wrong.at("ok").as_bool());
  ASSERT_EQ(DetailErrors(wrong).size(), 1u) << json::serialize(wrong);
  EXPECT_NE(DetailErrors(wrong)[0].find(listening.substr(6)), std::string::npos)
      << DetailErrors(wrong)[0];
}

TEST(BundledChecks, FailuresSayWhatWasExpectedAndSeen) {
  TestServer target([](HttpRequest) -> asio::awaitable<HttpResponse> {
    HttpResponse out;
    out.status = 503;
    co_return out;
  });
  TestPki pki;
  TlsTestServer tls(pki.in3days(), false);
  TempDir checks;
  checks.Write("http.yaml",
               HttpCheckYaml("http://127.0.0.1:" + std::to_string(target.port()) + "/"));
  checks.Write("ssl.yaml", SslExpiryYaml(tls.port()));
  DaemonProcess d(checks.path());
  const json::value http = FirstResult(d, "kuberhealthy/http");
  EXPECT_FALSE(http.at("ok").as_bool());
  const std::string http_errors = json::serialize(http.at("errors"));
  EXPECT_NE(http_errors.find("503"), std::string::npos) << http_errors;
  EXPECT_NE(http_errors.find("200"), std::string::npos) << http_errors;
  const json::value ssl = FirstResult(d, "kuberhealthy/ssl-expiry");
  EXPECT_FALSE(ssl.at("ok").as_bool());
  const std::string ssl_errors = json::serialize(ssl.at("errors"));
  EXPECT_NE(ssl_errors.find("60"), std::string::npos) << ssl_errors;
  EXPECT_NE(ssl_errors.find("days"), std::string::npos) << ssl_errors;
}

}  // namespace
}  // namespace sonde::testing
