// Routing, request decoding, keep-alive, HEAD, failures and lifecycle of HttpServer.
#include "server/http_server.hpp"

#include <gtest/gtest.h>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

#include "server/test_server.hpp"

namespace sonde {
namespace {

using std::chrono::milliseconds;
using testing::RawClient;
using testing::StatusOf;
using testing::TestServer;

// Describes the request it got, one fact per line, so tests can check decoding.
boost::asio::awaitable<HttpResponse> Echo(HttpRequest request) {
  HttpResponse response;
  response.content_type = "text/plain";
  response.body = "method=" + request.method + "\npath=" + request.path +
                  "\ntarget=" + request.target + "\nremote=" + request.remote_address + "\n";
  for (const auto& [key, value] : request.query)
    response.body += "query " + key + "=" + value + "\n";
  for (const auto& [key, value] : request.headers)
    response.body += "header " + key + "=" + value + "\n";
  response.body += "body=" + request.body;
  response.headers.emplace_back("X-Echo", "yes");
  co_return response;
}

std::string BigText() {
  std::string s;
  for (int i = 0; s.size() < 3 * 1024 * 1024; ++i) s += "line " + std::to_string(i) + "\n";
  return s;
}

boost::asio::awaitable<HttpResponse> Route(HttpRequest request) {
  if (request.path == "/throw") throw std::runtime_error("boom");
  if (request.path == "/throw-int") throw 42;
  if (request.path == "/slow") {
    boost::asio::steady_timer timer(co_await boost::asio::this_coro::executor,
                                    std::chrono::milliseconds(200));
    co_await timer.async_wait(boost::asio::as_tuple(boost::asio::use_awaitable));
  }
  if (request.path == "/teapot") co_return HttpResponse::Text(418, "short and stout");
  if (request.path == "/parts") {
    // A kept body of several megabytes shared by every answer, after a small copied prefix.
    static const auto kept = std::make_shared<const std::string>(BigText());
    HttpResponse response;
    response.content_type = "text/plain";
    response.body = "prefix:";
    response.body_parts = {{kept, *kept}, {kept, std::string_view(*kept).substr(0, 5)}};
    co_return response;
  }
  if (request.path == "/json") {
    HttpResponse response;
    response.body = R"({"ok":true})";
    co_return response;
  }
  co_return co_await Echo(std::move(request));
}

std::string Get(std::string_view target, std::string_view extra_headers = "") {
  return "GET " + std::string(target) + " HTTP/1.1\r\nHost: test\r\n" + std::string(extra_headers) +
         "\r\n";
}

bool Contains(std::string_view haystack, std::string_view needle) {
  return haystack.find(needle) != std::string_view::npos;
}

TEST(HttpServerTest, WritesSharedBodyParts) {
  TestServer server(Route);
  RawClient client(server.port());
  ASSERT_TRUE(client.connected());
  const std::string big = BigText();
  const std::string body = "prefix:" + big + big.substr(0, 5);
  for (int round = 0; round < 2; ++round) {  // twice over one connection: the parts are reused
    ASSERT_TRUE(client.Send(Get("/parts")));
    const std::string response = client.ReadResponse();
    EXPECT_EQ(StatusOf(response), 200);
    EXPECT_TRUE(Contains(response, "Content-Length: " + std::to_string(body.size()) + "\r\n"));
    ASSERT_TRUE(response.ends_with(body)) << response.size();
    EXPECT_EQ(response.size() - response.find("\r\n\r\n") - 4, body.size());
  }
  ASSERT_TRUE(client.Send("HEAD /parts HTTP/1.1\r\nHost: test\r\n\r\n"));
  const std::string head = client.ReadResponse(std::chrono::seconds(5), /*head=*/true);
  EXPECT_TRUE(Contains(head, "Content-Length: " + std::to_string(body.size()) + "\r\n")) << head;
  EXPECT_TRUE(head.ends_with("\r\n\r\n")) << head;
}

// The server offers a body's parts to the socket many at a time (not 64 KiB per write): bodies
// of more parts than one write takes (16), of parts larger and smaller than a socket buffer,
// and of empty parts must still arrive whole and in order.
TEST(HttpServerTest, WritesBodiesOfManyPartsWhole) {
  struct Case {
    const char* name;
    size_t parts;
    size_t part_bytes;
  };
  const Case cases[] = {
      {"one big part", 1, 9 * 1024 * 1024}, {"more parts than one write", 40, 100 * 1024},
      {"many tiny parts", 300, 7},          {"parts around 64 KiB", 17, 64 * 1024 + 1},
      {"empty parts among others", 20, 0},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.name);
    // Part i is made of the letter 'a' + i % 26, so a part out of place changes the body.
    auto kept = std::make_shared<std::vector<std::string>>();
    std::string expected = "head|";
    for (size_t i = 0; i < c.parts; ++i) {
      kept->emplace_back(c.part_bytes, static_cast<char>('a' + i % 26));
      expected += kept->back();
      if (c.part_bytes == 0) {
        kept->emplace_back("x" + std::to_string(i));  // something between the empty parts
        expected += kept->back();
      }
    }
    TestServer server([kept](HttpRequest) -> boost::asio::awaitable<HttpResponse> {
      HttpResponse response;
      response.body = "head|";
      for (const std::string& part : *kept) response.body_parts.push_back({kept, part});
      co_return response;
    });
    RawClient client(server.port());
    ASSERT_TRUE(client.connected());
    for (int round = 0; round < 2; ++round) {  // keep-alive: the second answer follows whole
      ASSERT_TRUE(client.Send(Get("/")));
      const std::string response = client.ReadResponse(std::chrono::seconds(20));
      ASSERT_EQ(StatusOf(response), 200);
      const size_t body_at = response.find("\r\n\r\n") + 4;
      EXPECT_EQ(response.size() - body_at, expected.size());
      EXPECT_TRUE(response.compare(body_at, std::string::npos, expected) == 0);
    }
  }
}

TEST(HttpServerTest, RoutesToHandler) {
  TestServer server(Route);
  RawClient client(server.port());
  ASSERT_TRUE(client.connected());
  ASSERT_TRUE(client.Send(Get("/teapot")));
  std::string response = client.ReadResponse();
  EXPECT_EQ(StatusOf(response), 418);
  EXPECT_TRUE(Contains(response, "Content-Type: text/plain; charset=utf-8\r\n")) << response;
  EXPECT_TRUE(Contains(response, "Content-Length: 16\r\n")) << response;
  EXPECT_TRUE(Contains(response, "Server: sonde\r\n")) << response;
  EXPECT_TRUE(response.ends_with("\r\n\r\nshort and stout\n")) << response;

  ASSERT_TRUE(client.Send(Get("/json")));
  response = client.ReadResponse();
  EXPECT_EQ(StatusOf(response), 200);
  EXPECT_TRUE(Contains(response, "Content-Type: application/json\r\n")) << response;
  EXPECT_TRUE(response.ends_with(R"({"ok":true})")) << response;
}

TEST(HttpServerTest, DecodesPathAndQuery) {
  TestServer server(Route);
  RawClient client(server.port());
  ASSERT_TRUE(client.Send(Get("/a%20b/c?x=1&name=jane%2Ddoe&sp=a+b&flag&x=2")));
  std::string response = client.ReadResponse();
  EXPECT_EQ(StatusOf(response), 200);
  EXPECT_TRUE(Contains(response, "\npath=/a b/c\n")) << response;
  EXPECT_TRUE(Contains(response, "\ntarget=/a%20b/c?x=1&name=jane%2Ddoe&sp=a+b&flag&x=2\n"));
  EXPECT_TRUE(
      Contains(response, "query x=1\nquery name=jane-doe\nquery sp=a b\nquery flag=\nquery x=2\n"))
      << response;
  EXPECT_TRUE(Contains(response, "\nremote=127.0.0.1\n")) << response;
  EXPECT_TRUE(Contains(response, "X-Echo: yes\r\n")) << response;
}

TEST(HttpServerTest, LowerCasesAndJoinsHeaders) {
  TestServer server(Route);
  RawClient client(server.port());
  ASSERT_TRUE(client.Send(Get("/", "X-Kuberhealthy-UUID: abc\r\nX-Multi: 1\r\nx-multi: 2\r\n")));
  std::string response = client.ReadResponse();
  EXPECT_TRUE(Contains(response, "header x-kuberhealthy-uuid=abc\n")) << response;
  EXPECT_TRUE(Contains(response, "header x-multi=1, 2\n")) << response;
  EXPECT_TRUE(Contains(response, "header host=test\n")) << response;
}

TEST(HttpServerTest, KeepsConnectionAliveAcrossRequests) {
  TestServer server(Route);
  RawClient client(server.port());
  for (int i = 0; i < 3; ++i) {
    ASSERT_TRUE(client.Send("POST /p" + std::to_string(i) +
                            " HTTP/1.1\r\nHost: t\r\nContent-Length: 5\r\n\r\nhello"));
    std::string response = client.ReadResponse();
    EXPECT_EQ(StatusOf(response), 200);
    EXPECT_TRUE(Contains(response, "path=/p" + std::to_string(i) + "\n")) << response;
    EXPECT_TRUE(response.ends_with("body=hello")) << response;
    EXPECT_FALSE(Contains(response, "Connection: close")) << response;
  }
  // Pipelined: two requests in one write, answered in order.
  ASSERT_TRUE(client.Send(Get("/one") + Get("/two")));
  EXPECT_TRUE(Contains(client.ReadResponse(), "path=/one\n"));
  EXPECT_TRUE(Contains(client.ReadResponse(), "path=/two\n"));
  EXPECT_EQ(server.connections(), 1u);
}

TEST(HttpServerTest, ClosesWhenAsked) {
  TestServer server(Route);
  RawClient client(server.port());
  ASSERT_TRUE(client.Send(Get("/", "Connection: close\r\n")));
  bool closed = false;
  std::string response = client.ReadUntilClose(milliseconds(3000), &closed);
  EXPECT_TRUE(closed);
  EXPECT_EQ(StatusOf(response), 200);
  EXPECT_TRUE(Contains(response, "Connection: close\r\n")) << response;
}

TEST(HttpServerTest, Http10ClosesUnlessKeepAlive) {
  TestServer server(Route);
  {
    RawClient client(server.port());
    ASSERT_TRUE(client.Send("GET /old HTTP/1.0\r\n\r\n"));
    bool closed = false;
    std::string response = client.ReadUntilClose(milliseconds(3000), &closed);
    EXPECT_TRUE(closed);
    EXPECT_TRUE(response.starts_with("HTTP/1.0 200 OK\r\n")) << response;
    EXPECT_TRUE(Contains(response, "Connection: close\r\n")) << response;
  }
  RawClient client(server.port());
  ASSERT_TRUE(client.Send("GET /a HTTP/1.0\r\nConnection: keep-alive\r\n\r\n"));
  std::string response = client.ReadResponse();
  EXPECT_TRUE(Contains(response, "Connection: keep-alive\r\n")) << response;
  ASSERT_TRUE(client.Send("GET /b HTTP/1.0\r\nConnection: keep-alive\r\n\r\n"));
  EXPECT_TRUE(Contains(client.ReadResponse(), "path=/b\n"));
}

TEST(HttpServerTest, HeadSendsHeadersOnly) {
  TestServer server(Route);
  RawClient client(server.port());
  ASSERT_TRUE(client.Send("HEAD /json HTTP/1.1\r\nHost: t\r\n\r\n"));
  std::string response = client.ReadResponse(milliseconds(3000), /*head=*/true);
  EXPECT_EQ(StatusOf(response), 200);
  EXPECT_TRUE(Contains(response, "Content-Length: 11\r\n")) << response;
  EXPECT_TRUE(response.ends_with("\r\n\r\n")) << response;
  // Nothing else arrives, and the connection still serves the next request.
  EXPECT_EQ(client.ReadSome(milliseconds(100)), "");
  ASSERT_TRUE(client.Send(Get("/json")));
  EXPECT_TRUE(client.ReadResponse().ends_with(R"({"ok":true})"));
}

TEST(HttpServerTest, HandlerExceptionBecomes500) {
  TestServer server(Route);
  RawClient client(server.port());
  for (const char* path : {"/throw", "/throw-int"}) {
    ASSERT_TRUE(client.Send(Get(path)));
    std::string response = client.ReadResponse();
    EXPECT_EQ(StatusOf(response), 500);
    EXPECT_TRUE(response.ends_with("\r\n\r\ninternal error\n")) << response;
  }
  ASSERT_TRUE(client.Send(Get("/after")));
  EXPECT_EQ(StatusOf(client.ReadResponse()), 200);
  RawClient another(server.port());
  ASSERT_TRUE(another.Send(Get("/again")));
  EXPECT_EQ(StatusOf(another.ReadResponse()), 200);
}

TEST(HttpServerTest, ExpectContinueGetsInterimResponse) {
  TestServer server(Route);
  RawClient client(server.port());
  std::string body(4096, 'x');
  ASSERT_TRUE(
      client.Send("POST /up HTTP/1.1\r\nHost: t\r\nExpect: 100-continue\r\n"
                  "Content-Length: 4096\r\n\r\n"));
  std::optional<std::string> interim = client.ReadSome(milliseconds(3000));
  ASSERT_TRUE(interim.has_value());
  EXPECT_EQ(*interim, "HTTP/1.1 100 Continue\r\n\r\n");
  ASSERT_TRUE(client.Send(body));
  std::string response = client.ReadResponse();
  EXPECT_EQ(StatusOf(response), 200);
  EXPECT_TRUE(response.ends_with("body=" + body));
}

TEST(HttpServerTest, StopStopsAcceptingAndClosesIdleConnections) {
  TestServer server(Route);
  RawClient idle(server.port());
  ASSERT_TRUE(idle.Send(Get("/")));
  EXPECT_EQ(StatusOf(idle.ReadResponse()), 200);
  ASSERT_EQ(server.connections(), 1u);

  server.Stop();
  bool closed = false;
  idle.ReadUntilClose(milliseconds(3000), &closed);
  EXPECT_TRUE(closed);
  RawClient late(server.port());
  EXPECT_FALSE(late.connected());
  EXPECT_EQ(server.connections(), 0u);
}

TEST(HttpServerTest, StopLetsInFlightRequestsFinish) {
  TestServer server(Route);
  RawClient client(server.port());
  ASSERT_TRUE(client.Send(Get("/slow")));
  while (server.connections() == 0) std::this_thread::sleep_for(milliseconds(5));
  std::this_thread::sleep_for(milliseconds(50));  // the handler is now waiting
  server.Stop();
  bool closed = false;
  std::string response = client.ReadUntilClose(milliseconds(3000), &closed);
  EXPECT_TRUE(closed);
  EXPECT_EQ(StatusOf(response), 200) << response;
  EXPECT_TRUE(Contains(response, "Connection: close\r\n")) << response;
  EXPECT_TRUE(Contains(response, "path=/slow\n")) << response;
}

TEST(HttpServerTest, StartReportsPortInUse) {
  TestServer first(Route);
  boost::asio::io_context io;
  HttpServerOptions options;
  options.port = first.port();
  HttpServer second(io.get_executor(), options, Route);
  Status status = second.Start();
  ASSERT_FALSE(status.ok());
  EXPECT_EQ(status.message(), "cannot listen on 127.0.0.1:" + std::to_string(first.port()) +
                                  ": Address already in use");
}

}  // namespace
}  // namespace sonde
