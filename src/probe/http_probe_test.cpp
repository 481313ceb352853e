// The http probe against the project's own HTTP server on loopback: statuses, JSON bodies,
// redirects on and off, request method/headers/body, the body bound, timeouts and refusals.
#include "probe/http_probe.hpp"

#include <gtest/gtest.h>

#include <boost/asio/read.hpp>
#include <boost/asio/read_until.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/http/string_body.hpp>
#include <boost/beast/http/write.hpp>
#include <sstream>
#include <thread>

#include "server/test_server.hpp"
#include "sonde_version.hpp"

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

// A raw HTTP/1.1 peer on loopback: answers each connection, in order, with the next of
// `replies` (the last one repeats) and keeps the bytes of every request it received.
class RawServer {
 public:
  explicit RawServer(std::vector<std::string> replies)
      : acceptor_(io_, {asio::ip::make_address("127.0.0.1"), 0}), replies_(std::move(replies)) {
    thread_ = std::thread([this] { Serve(); });
  }
  ~RawServer() {
    asio::io_context io;
    asio::ip::tcp::socket wake(io);
    boost::system::error_code ec;
    stop_ = true;
    wake.connect({asio::ip::make_address("127.0.0.1"), port()}, ec);
    thread_.join();
  }
  uint16_t port() const { return acceptor_.local_endpoint().port(); }
  std::string Url(const std::string& path) const {
    return "http://127.0.0.1:" + std::to_string(port()) + path;
  }
  const std::vector<std::string>& requests() const { return requests_; }

 private:
  void Serve() {
    for (size_t i = 0;; ++i) {
      asio::ip::tcp::socket s(io_);
      boost::system::error_code ec;
      acceptor_.accept(s, ec);
      if (ec || stop_) return;
      std::string in;
      const size_t head = asio::read_until(s, asio::dynamic_buffer(in), "\r\n\r\n", ec);
      if (ec) continue;
      size_t length = 0;
      if (auto at = in.find("Content-Length: "); at != std::string::npos && at < head) {
        length = std::stoul(in.substr(at + 16));
      }
      if (in.size() < head + length) {
        asio::read(s, asio::dynamic_buffer(in), asio::transfer_exactly(head + length - in.size()),
                   ec);
      }
      requests_.push_back(in);
      asio::write(s, asio::buffer(replies_[std::min(i, replies_.size() - 1)]), ec);
    }
  }

  asio::io_context io_;
  asio::ip::tcp::acceptor acceptor_;
  std::vector<std::string> replies_;
  std::vector<std::string> requests_;
  std::atomic<bool> stop_ = false;
  std::thread thread_;
};

// The request as Beast serializes a message built field by field (how the probe built it on
// every run before it kept the bytes).
std::string BeastRequest(const std::string& method, const std::string& host_port,
                         const std::string& path, const HttpProbeConfig& config,
                         const std::string& body) {
  namespace http = boost::beast::http;
  const http::verb verb = http::string_to_verb(method);
  http::request<http::string_body> r{verb, path, 11};
  r.set(http::field::host, host_port);
  r.set(http::field::user_agent, "sonde/" SONDE_VERSION);
  r.set(http::field::accept, "*/*");
  r.set(http::field::connection, "close");
  for (const auto& [name, value] : config.headers) r.set(name, value);
  if (verb == http::verb::unknown) r.method_string(method);
  if (!body.empty()) r.body() = body;
  r.prepare_payload();
  std::ostringstream out;
  out << r;
  return out.str();
}

TEST(HttpProbe, SendsTheBytesBeastWouldSerialize) {
  const std::string ok = "HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: close\r\n\r\nok";
  const std::string see_other =
      "HTTP/1.1 303 See Other\r\nLocation: /next?x=1\r\nContent-Length: 0\r\n\r\n";
  struct Case {
    const char* name;
    HttpProbeConfig config;  // url: a path on the server
    std::vector<std::string> replies;
    // Each request's (method, path, body) as the server must see it.
    std::vector<std::tuple<std::string, std::string, std::string>> want;
  };
  const Case cases[] = {
      {"plain GET", {.url = "/health"}, {ok}, {{"GET", "/health", ""}}},
      {"query", {.url = "/a/b?c=d&e=%20"}, {ok}, {{"GET", "/a/b?c=d&e=%20", ""}}},
      {"no path", {.url = ""}, {ok}, {{"GET", "/", ""}}},
      {"method, headers, body",
       {.url = "/echo",
        .method = "PUT",
        .headers = {{"X-Probe", "yes"}, {"User-Agent", "mine"}, {"Host", "example.test"}},
        .body = R"({"a":1})"},
       {ok},
       {{"PUT", "/echo", R"({"a":1})"}}},
      {"unknown method", {.url = "/x", .method = "PURGEALL"}, {ok}, {{"PURGEALL", "/x", ""}}},
      {"303 after POST goes on as GET without the body",
       {.url = "/form", .method = "POST", .body = "k=v"},
       {see_other, ok},
       {{"POST", "/form", "k=v"}, {"GET", "/next?x=1", ""}}},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.name);
    RawServer server(c.replies);
    HttpProbeConfig config = c.config;
    config.url = server.Url(c.config.url);
    const Observation o = RunProbeBlocking(*Make(config), kTimeout);
    EXPECT_EQ(o.error, "");
    EXPECT_EQ(o.status, 200);
    EXPECT_EQ(o.body, "ok");
    ASSERT_EQ(server.requests().size(), c.want.size());
    for (size_t i = 0; i < c.want.size(); ++i) {
      const auto& [method, path, body] = c.want[i];
      const std::string host = "127.0.0.1:" + std::to_string(server.port());
      EXPECT_EQ(server.requests()[i], BeastRequest(method, host, path, c.config, body));
    }
  }
}

// Status, body and redirect as the response says them, however it frames its body.
TEST(HttpProbe, ReadsStatusBodyAndLocationOfAnyFraming) {
  struct Case {
    const char* name;
    std::vector<std::string> replies;
    int status;
    std::string body;
    size_t requests;
  };
  const Case cases[] = {
      {"content length",
       {"HTTP/1.1 201 Created\r\nContent-Length: 5\r\n\r\nhello"},
       201,
       "hello",
       1},
      {"chunked",
       {"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n6\r\n "
        "world\r\n0\r\n\r\n"},
       200,
       "hello world",
       1},
      {"until close",
       {"HTTP/1.1 200 OK\r\nConnection: close\r\n\r\nto the end"},
       200,
       "to the end",
       1},
      {"no content", {"HTTP/1.1 204 No Content\r\n\r\n"}, 204, "", 1},
      {"the first of two Locations",
       {"HTTP/1.1 302 Found\r\nLocation: /first\r\nLocation: /second\r\nContent-Length: 0\r\n\r\n",
        "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok"},
       200,
       "ok",
       2},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.name);
    RawServer server(c.replies);
    const Observation o = RunProbeBlocking(*Make({.url = server.Url("/")}), kTimeout);
    EXPECT_EQ(o.error, "");
    EXPECT_EQ(o.status, c.status);
    EXPECT_EQ(o.body, c.body);
    ASSERT_EQ(server.requests().size(), c.requests);
    if (c.requests > 1) {
      EXPECT_TRUE(server.requests()[1].starts_with("GET /first HTTP/1.1\r\n"));
    }
  }
}

TEST(HttpProbe, RunsAgainAndAgainWithTheSameAnswer) {
  RawServer server({"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok"});
  auto probe = Make({.url = server.Url("/again")});
  for (int i = 0; i < 3; ++i) {
    const Observation o = RunProbeBlocking(*probe, kTimeout);
    EXPECT_EQ(o.error, "");
    EXPECT_EQ(o.status, 200);
  }
  ASSERT_EQ(server.requests().size(), 3u);
  EXPECT_EQ(server.requests()[0], server.requests()[2]);
}

// A peer that accepts the connection and never says anything: the one deadline of the run
// ends whatever the probe waits for, and the message says so as a stream expiry did.
TEST(HttpProbe, SilentPeerTimesOutOnceWhateverTheProbeWaitsFor) {
  asio::io_context io;
  asio::ip::tcp::acceptor silent(io, {asio::ip::make_address("127.0.0.1"), 0});
  const std::string port = std::to_string(silent.local_endpoint().port());
  struct Case {
    std::string url;
    std::string error;
  } cases[] = {
      {"http://127.0.0.1:" + port + "/",
       "GET http://127.0.0.1:" + port + "/: timed out after 200ms"},
      {"https://127.0.0.1:" + port + "/",
       "GET https://127.0.0.1:" + port + "/: TLS handshake: timed out after 200ms"},
  };
  for (const Case& c : cases) {
    const auto start = std::chrono::steady_clock::now();
    const Observation o = RunProbeBlocking(*Make({.url = c.url, .tls = {.verify = false}}),
                                           std::chrono::milliseconds(200));
    const auto took = std::chrono::steady_clock::now() - start;
    EXPECT_EQ(o.error, c.error);
    EXPECT_FALSE(o.connected);
    EXPECT_GE(took, std::chrono::milliseconds(190));
    EXPECT_LT(took, std::chrono::seconds(2));
  }
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
