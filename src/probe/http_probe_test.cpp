// The http probe against the project's own HTTP server on loopback: statuses, JSON bodies,
// redirects on and off, request method/headers/body, the body bound, timeouts and refusals.
#include "probe/http_probe.hpp"

#include <gtest/gtest.h>

#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>

#include "server/test_server.hpp"

namespace sonde {
namespace {

namespace asio = boost::asio;
using testing::TestServer;
constexpr auto kTimeout = std::chrono::seconds(3);

asio::awaitable<HttpResponse> Handle(HttpRequest r) {
  HttpResponse out;
  if (r.path == "/health") {
    out.body = R"({"status":"UP","items":[1,2]})";
  } else if (r.path == "/down") {
    out.status = 503;
    out.body = "maintenance";
  } else if (r.path == "/moved") {
    out.status = 302;
    out.headers.emplace_back("Location", "/health");
  } else if (r.path == "/loop") {
    out.status = 301;
    out.headers.emplace_back("Location", "/loop");
  } else if (r.path == "/echo") {
    out.body = r.method + " " + r.Header("x-probe") + " " + r.body;
  } else if (r.path == "/slow") {
    asio::steady_timer t(co_await asio::this_coro::executor, std::chrono::seconds(5));
    co_await t.async_wait(asio::use_awaitable);
  } else if (r.path == "/big") {
    out.body.assign(4096, 'x');
  } else {
    out.status = 404;
  }
  co_return out;
}

std::shared_ptr<const Probe> Make(HttpProbeConfig config) {
  auto probe = MakeHttpProbe(std::move(config));
  EXPECT_TRUE(probe.ok()) << probe.error();
  return probe.ok() ? probe.value() : nullptr;
}

class HttpProbeTest : public ::testing::Test {
 protected:
  std::string Url(const std::string& path) const {
    return "http://127.0.0.1:" + std::to_string(server_.port()) + path;
  }
  TestServer server_{Handle};
};

TEST_F(HttpProbeTest, ObservesStatusBodyAndAddress) {
  const Observation o = RunProbeBlocking(*Make({.url = Url("/health")}), kTimeout);
  EXPECT_EQ(o.error, "");
  EXPECT_TRUE(o.connected);
  EXPECT_EQ(o.status, 200);
  EXPECT_EQ(o.body, R"({"status":"UP","items":[1,2]})");
  EXPECT_EQ(o.ip, "127.0.0.1");
  EXPECT_GT(o.response_time.count(), 0);
  EXPECT_FALSE(o.certificate_not_after.has_value());
}

TEST_F(HttpProbeTest, ErrorStatusIsObservedNotAnError) {
  const Observation o = RunProbeBlocking(*Make({.url = Url("/down")}), kTimeout);
  EXPECT_EQ(o.error, "");
  EXPECT_EQ(o.status, 503);
  EXPECT_EQ(o.body, "maintenance");
}

TEST_F(HttpProbeTest, FollowsRedirectsUnlessTold) {
  EXPECT_EQ(RunProbeBlocking(*Make({.url = Url("/moved")}), kTimeout).status, 200);
  const Observation kept =
      RunProbeBlocking(*Make({.url = Url("/moved"), .follow_redirects = false}), kTimeout);
  EXPECT_EQ(kept.status, 302);
  const Observation loop = RunProbeBlocking(*Make({.url = Url("/loop")}), kTimeout);
  EXPECT_EQ(loop.error, "GET " + Url("/loop") + ": stopped after 10 redirects");
}

TEST_F(HttpProbeTest, SendsMethodHeadersAndBody) {
  const Observation o = RunProbeBlocking(*Make({.url = Url("/echo"),
                                                .method = "PUT",
                                                .headers = {{"X-Probe", "yes"}},
                                                .body = R"({"a":1})"}),
                                         kTimeout);
  EXPECT_EQ(o.body, R"(PUT yes {"a":1})");
}

TEST_F(HttpProbeTest, TimesOutNamingTheRequest) {
  const Observation o =
      RunProbeBlocking(*Make({.url = Url("/slow")}), std::chrono::milliseconds(300));
  EXPECT_FALSE(o.connected);
  EXPECT_EQ(o.error, "GET " + Url("/slow") + ": timed out after 300ms");
}

TEST_F(HttpProbeTest, BoundsTheBody) {
  const Observation o =
      RunProbeBlocking(*Make({.url = Url("/big"), .max_body_bytes = 1000}), kTimeout);
  EXPECT_EQ(o.error, "GET " + Url("/big") + ": the response body is larger than 1000 bytes");
}

TEST(HttpProbe, RefusedPortIsNamed) {
  asio::io_context io;
  asio::ip::tcp::acceptor a(io, {asio::ip::make_address("127.0.0.1"), 0});
  const uint16_t port = a.local_endpoint().port();
  a.close();
  const std::string url = "http://127.0.0.1:" + std::to_string(port) + "/";
  const Observation o = RunProbeBlocking(*Make({.url = url}), kTimeout);
  EXPECT_EQ(o.error,
            "GET " + url + ": connect 127.0.0.1:" + std::to_string(port) + ": Connection refused");
}

TEST(HttpProbe, RejectsBadConfig) {
  struct Case {
    HttpProbeConfig config;
    const char* error;
  } cases[] = {
      {{.url = "ftp://x/"}, "unsupported scheme \"ftp\" (want http or https)"},
      {{.url = "http:///x"}, "the URL has no host"},
      {{.url = "not a url"},
       "invalid URL \"not a url\": want http://host[:port]/path or https://..."},
      {{.url = "https://x/", .tls = {.ca_file = "/nonexistent/ca.pem"}},
       "cannot load CA file /nonexistent/ca.pem"},
  };
  for (const Case& c : cases) {
    auto probe = MakeHttpProbe(c.config);
    ASSERT_FALSE(probe.ok()) << c.config.url;
    EXPECT_EQ(probe.error(), c.error);
  }
}

}  // namespace
}  // namespace sonde
