#include "cli/http_client.hpp"

#include <gtest/gtest.h>

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>

#include "server/test_server.hpp"

namespace sonde {
namespace {

using std::chrono::milliseconds;
using std::chrono::steady_clock;
using testing::TestServer;

boost::asio::awaitable<HttpResponse> Echo(HttpRequest request) {
  HttpResponse response;
  if (request.path == "/teapot") co_return HttpResponse::Text(418, "short and stout");
  response.content_type = "text/plain";
  response.body = request.method + " " + request.path + "\n";
  for (const auto& [key, value] : request.query)
    response.body += "query " + key + "=" + value + "\n";
  for (const auto& [key, value] : request.headers)
    response.body += "header " + key + "=" + value + "\n";
  response.body += "body=" + request.body;
  response.headers.emplace_back("X-Echo", "yes");
  co_return response;
}

std::string Url(const TestServer& server, std::string_view rest) {
  return "http://127.0.0.1:" + std::to_string(server.port()) + std::string(rest);
}

bool Contains(std::string_view haystack, std::string_view needle) {
  return haystack.find(needle) != std::string_view::npos;
}

TEST(HttpCallTest, GetsWithHeaders) {
  TestServer server(Echo);
  auto got = HttpCall("GET", Url(server, "/hello?x=1&y=a%20b"), "", {{"X-Test", "v"}});
  ASSERT_TRUE(got.ok()) << got.error();
  const ClientResponse& response = got.value();
  EXPECT_EQ(response.status, 200);
  EXPECT_TRUE(response.body.starts_with("GET /hello\n")) << response.body;
  EXPECT_TRUE(Contains(response.body, "query x=1\nquery y=a b\n")) << response.body;
  EXPECT_TRUE(Contains(response.body, "header x-test=v\n")) << response.body;
  EXPECT_TRUE(Contains(response.body, "header host=127.0.0.1:" + std::to_string(server.port())));
  EXPECT_TRUE(response.body.ends_with("body=")) << response.body;
  EXPECT_EQ(response.headers.at("x-echo"), "yes");
  EXPECT_EQ(response.headers.at("server"), "sonde");
  EXPECT_EQ(response.headers.at("content-type"), "text/plain");
}

TEST(HttpCallTest, PostsBody) {
  TestServer server(Echo);
  std::string body(5000, 'b');
  auto got = HttpCall("POST", Url(server, "/report"), body, {{"Content-Type", "application/json"}});
  ASSERT_TRUE(got.ok()) << got.error();
  EXPECT_EQ(got.value().status, 200);
  EXPECT_TRUE(got.value().body.starts_with("POST /report\n"));
  EXPECT_TRUE(Contains(got.value().body, "header content-type=application/json\n"));
  EXPECT_TRUE(got.value().body.ends_with("body=" + body));
}

TEST(HttpCallTest, ErrorStatusIsAResponse) {
  TestServer server(Echo);
  auto got = HttpCall("GET", Url(server, "/teapot"));
  ASSERT_TRUE(got.ok()) << got.error();
  EXPECT_EQ(got.value().status, 418);
  EXPECT_EQ(got.value().body, "short and stout\n");
}

TEST(HttpCallTest, HeadHasNoBody) {
  TestServer server(Echo);
  auto got = HttpCall("HEAD", Url(server, "/x"));
  ASSERT_TRUE(got.ok()) << got.error();
  EXPECT_EQ(got.value().status, 200);
  EXPECT_EQ(got.value().body, "");
  EXPECT_NE(got.value().headers.at("content-length"), "0");
}

TEST(HttpCallTest, ConnectionRefused) {
  boost::asio::io_context io;
  uint16_t port;
  {
    boost::asio::ip::tcp::acceptor probe(io, {boost::asio::ip::make_address("127.0.0.1"), 0});
    port = probe.local_endpoint().port();
  }  // closed again: nothing listens on `port` now
  std::string url = "http://127.0.0.1:" + std::to_string(port) + "/x";
  auto got = HttpCall("GET", url);
  ASSERT_FALSE(got.ok());
  EXPECT_EQ(got.error(), "GET " + url + ": connection refused");
}

TEST(HttpCallTest, TimesOutAgainstSilentListener) {
  // The kernel completes the handshake from the backlog, but nobody ever reads or answers.
  boost::asio::io_context io;
  boost::asio::ip::tcp::acceptor silent(io, {boost::asio::ip::make_address("127.0.0.1"), 0});
  std::string url = "http://127.0.0.1:" + std::to_string(silent.local_endpoint().port()) + "/";
  auto start = steady_clock::now();
  auto got = HttpCall("GET", url, "", {}, milliseconds(300));
  auto took = steady_clock::now() - start;
  ASSERT_FALSE(got.ok());
  EXPECT_EQ(got.error(), "GET " + url + ": timed out after 300ms");
  EXPECT_GE(took, milliseconds(250));
  EXPECT_LT(took, milliseconds(2000));
}

TEST(HttpCallTest, RejectsUnsupportedInput) {
  auto https = HttpCall("GET", "https://example.com/");
  ASSERT_FALSE(https.ok());
  EXPECT_EQ(https.error(), "GET https://example.com/: https is not supported yet; use http://");

  auto ftp = HttpCall("GET", "ftp://example.com/");
  ASSERT_FALSE(ftp.ok());
  EXPECT_TRUE(Contains(ftp.error(), "unsupported scheme \"ftp\"")) << ftp.error();

  auto garbage = HttpCall("GET", "not a url");
  ASSERT_FALSE(garbage.ok());
  EXPECT_TRUE(garbage.error().starts_with("GET not a url: invalid URL")) << garbage.error();

  auto header = HttpCall("GET", "http://127.0.0.1:1/", "", {{"X-Bad", "a\r\nInjected: 1"}});
  ASSERT_FALSE(header.ok());
  EXPECT_TRUE(Contains(header.error(), "invalid header \"X-Bad\"")) << header.error();

  auto method = HttpCall("GE T", "http://127.0.0.1:1/");
  ASSERT_FALSE(method.ok());
  EXPECT_TRUE(Contains(method.error(), "invalid method")) << method.error();
}

}  // namespace
}  // namespace sonde
