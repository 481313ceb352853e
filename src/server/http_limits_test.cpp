// HttpServer's bounds: sizes, malformed input, timeouts and the connection limit.
#include <gtest/gtest.h>

#include <memory>
#include <string>

#include "server/http_server.hpp"
#include "server/test_server.hpp"

namespace sonde {
namespace {

using std::chrono::milliseconds;
using std::chrono::steady_clock;
using testing::RawClient;
using testing::StatusOf;
using testing::TestServer;

boost::asio::awaitable<HttpResponse> Ok(HttpRequest request) {
  HttpResponse response;
  response.body = std::to_string(request.body.size());
  co_return response;
}

// Expects `response` to be a plain-text error answer, then the connection to close.
void ExpectRejected(RawClient& client, int status, const std::string& reason) {
  std::string response = client.ReadResponse();
  EXPECT_EQ(StatusOf(response), status) << response;
  EXPECT_NE(response.find("Connection: close\r\n"), std::string::npos) << response;
  EXPECT_TRUE(response.ends_with("\r\n\r\n" + reason + "\n")) << response;
  bool closed = false;
  client.ReadUntilClose(milliseconds(3000), &closed);
  EXPECT_TRUE(closed);
}

TEST(HttpLimitsTest, OversizedContentLengthGets413) {
  TestServer server(Ok);
  RawClient client(server.port());
  ASSERT_TRUE(client.Send("POST / HTTP/1.1\r\nHost: t\r\nContent-Length: 2000000\r\n\r\nabc"));
  ExpectRejected(client, 413, "request body exceeds 1048576 bytes");
}

TEST(HttpLimitsTest, OversizedChunkGets413) {
  TestServer server(Ok);
  RawClient client(server.port());
  ASSERT_TRUE(
      client.Send("POST / HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n200000\r\nabc"));
  ExpectRejected(client, 413, "request body exceeds 1048576 bytes");
}

TEST(HttpLimitsTest, ChunksAddingUpPastTheLimitGet413) {
  HttpServerOptions options;
  options.max_body_bytes = 1000;
  TestServer server(Ok, options);
  RawClient client(server.port());
  std::string chunk = "258\r\n" + std::string(600, 'x') + "\r\n";  // 0x258 = 600
  ASSERT_TRUE(client.Send("POST / HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n" +
                          chunk + chunk + "0\r\n\r\n"));
  ExpectRejected(client, 413, "request body exceeds 1000 bytes");

  RawClient within(server.port());
  ASSERT_TRUE(within.Send("POST / HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n" +
                          chunk + "0\r\n\r\n"));
  std::string response = within.ReadResponse();
  EXPECT_EQ(StatusOf(response), 200);
  EXPECT_TRUE(response.ends_with("\r\n\r\n600")) << response;
}

TEST(HttpLimitsTest, OversizedHeaderGets431) {
  TestServer server(Ok);
  RawClient client(server.port());
  ASSERT_TRUE(
      client.Send("GET / HTTP/1.1\r\nHost: t\r\nX-Big: " + std::string(20000, 'a') + "\r\n\r\n"));
  ExpectRejected(client, 431, "request header fields exceed 16384 bytes");
}

TEST(HttpLimitsTest, MalformedRequestGets400) {
  TestServer server(Ok);
  {
    RawClient client(server.port());
    ASSERT_TRUE(client.Send("this is not http\r\n\r\n"));
    std::string response = client.ReadResponse();
    EXPECT_EQ(StatusOf(response), 400);
    EXPECT_NE(response.find("\r\n\r\nmalformed request: bad "), std::string::npos) << response;
  }
  {
    RawClient client(server.port());
    ASSERT_TRUE(client.Send("POST / HTTP/1.1\r\nContent-Length: x\r\n\r\n"));
    ExpectRejected(client, 400, "malformed request: bad Content-Length");
  }
  RawClient client(server.port());
  ASSERT_TRUE(client.Send("GET /%zz HTTP/1.1\r\nHost: t\r\n\r\n"));
  ExpectRejected(client, 400, "malformed request: invalid request target");
}

// Measures how long the server keeps `client` open, up to 3 s.
milliseconds TimeUntilClosed(RawClient& client, steady_clock::time_point since) {
  bool closed = false;
  client.ReadUntilClose(milliseconds(3000), &closed);
  EXPECT_TRUE(closed);
  return std::chrono::duration_cast<milliseconds>(steady_clock::now() - since);
}

TEST(HttpLimitsTest, SlowRequestIsCutOffAfterRequestTimeout) {
  HttpServerOptions options;
  options.request_timeout = milliseconds(300);
  TestServer server(Ok, options);
  RawClient client(server.port());
  auto start = steady_clock::now();
  ASSERT_TRUE(client.Send("GET / HTTP/1.1\r\nHost: t\r\n"));
  // Trickling bytes does not extend the deadline.
  for (int i = 0; i < 3; ++i) {
    std::this_thread::sleep_for(milliseconds(50));
    client.Send("X");
  }
  milliseconds open = TimeUntilClosed(client, start);
  EXPECT_GE(open, milliseconds(250));
  EXPECT_LT(open, milliseconds(2000));
}

TEST(HttpLimitsTest, SilentConnectionIsClosedAfterRequestTimeout) {
  HttpServerOptions options;
  options.request_timeout = milliseconds(300);
  TestServer server(Ok, options);
  auto start = steady_clock::now();
  RawClient client(server.port());
  milliseconds open = TimeUntilClosed(client, start);
  EXPECT_GE(open, milliseconds(250));
  EXPECT_LT(open, milliseconds(2000));
}

TEST(HttpLimitsTest, IdleKeepAliveIsClosedAfterIdleTimeout) {
  HttpServerOptions options;
  options.idle_timeout = milliseconds(200);
  TestServer server(Ok, options);
  RawClient client(server.port());
  ASSERT_TRUE(client.Send("GET / HTTP/1.1\r\nHost: t\r\n\r\n"));
  EXPECT_EQ(StatusOf(client.ReadResponse()), 200);
  milliseconds open = TimeUntilClosed(client, steady_clock::now());
  EXPECT_GE(open, milliseconds(150));
  EXPECT_LT(open, milliseconds(2000));
}

// A peer that asks for a big answer and never reads it is dropped after write_timeout: offering
// the whole body to one write must not lose the write's deadline.
TEST(HttpLimitsTest, ReaderThatStopsIsCutOffAfterWriteTimeout) {
  const auto kept = std::make_shared<const std::string>(32 * 1024 * 1024, 'x');
  HttpServerOptions options;
  options.write_timeout = milliseconds(300);
  TestServer server(
      [kept](HttpRequest) -> boost::asio::awaitable<HttpResponse> {
        HttpResponse response;
        response.body_parts = {{kept, *kept}};
        co_return response;
      },
      options);
  RawClient client(server.port());
  const auto accepted = steady_clock::now() + milliseconds(3000);
  while (server.connections() == 0 && steady_clock::now() < accepted) {
    std::this_thread::sleep_for(milliseconds(1));
  }
  ASSERT_EQ(server.connections(), 1u);
  ASSERT_TRUE(client.Send("GET / HTTP/1.1\r\nHost: t\r\n\r\n"));
  const auto start = steady_clock::now();
  while (server.connections() > 0 && steady_clock::now() - start < milliseconds(5000)) {
    std::this_thread::sleep_for(milliseconds(10));
  }
  const auto open = std::chrono::duration_cast<milliseconds>(steady_clock::now() - start);
  EXPECT_EQ(server.connections(), 0u);
  EXPECT_GE(open, milliseconds(250));
  EXPECT_LT(open, milliseconds(3000));
}

TEST(HttpLimitsTest, ConnectionsBeyondTheLimitAreTurnedAway) {
  HttpServerOptions options;
  options.max_connections = 2;
  TestServer server(Ok, options);
  auto first = std::make_unique<RawClient>(server.port());
  RawClient second(server.port());
  for (RawClient* client : {first.get(), &second}) {
    ASSERT_TRUE(client->Send("GET / HTTP/1.1\r\nHost: t\r\n\r\n"));
    ASSERT_EQ(StatusOf(client->ReadResponse()), 200);
  }
  EXPECT_EQ(server.connections(), 2u);

  RawClient third(server.port());
  bool closed = false;
  std::string answer = third.ReadUntilClose(milliseconds(3000), &closed);
  EXPECT_TRUE(closed);
  EXPECT_TRUE(answer.empty() || StatusOf(answer) == 503) << answer;
  EXPECT_EQ(server.connections(), 2u);

  first.reset();
  auto deadline = steady_clock::now() + milliseconds(3000);
  while (server.connections() > 1 && steady_clock::now() < deadline) {
    std::this_thread::sleep_for(milliseconds(10));
  }
  RawClient fourth(server.port());
  ASSERT_TRUE(fourth.Send("GET / HTTP/1.1\r\nHost: t\r\n\r\n"));
  EXPECT_EQ(StatusOf(fourth.ReadResponse()), 200);
}

}  // namespace
}  // namespace sonde
