#include "server/http_types.hpp"

#include <gtest/gtest.h>

#include "server/http_server.hpp"

namespace sonde {
namespace {

TEST(HttpRequestTest, QueryReturnsFirstValue) {
  HttpRequest request;
  request.query = {{"a", "1"}, {"b", ""}, {"a", "2"}};
  EXPECT_EQ(request.Query("a"), "1");
  EXPECT_EQ(request.Query("b"), "");
  EXPECT_EQ(request.Query("c"), std::nullopt);
}

TEST(HttpRequestTest, HeaderIsEmptyWhenAbsent) {
  HttpRequest request;
  request.headers = {{"x-a", "v"}};
  EXPECT_EQ(request.Header("x-a"), "v");
  EXPECT_EQ(request.Header("x-b"), "");
}

TEST(HttpResponseTest, TextEndsWithNewline) {
  HttpResponse response = HttpResponse::Text(404, "not found");
  EXPECT_EQ(response.status, 404);
  EXPECT_EQ(response.body, "not found\n");
  EXPECT_EQ(response.content_type, "text/plain; charset=utf-8");
}

TEST(ParseListenAddressTest, Accepts) {
  using Want = std::pair<std::string, uint16_t>;
  EXPECT_EQ(ParseListenAddress("127.0.0.1:8080").value(), Want("127.0.0.1", 8080));
  EXPECT_EQ(ParseListenAddress(":80").value(), Want("0.0.0.0", 80));
  EXPECT_EQ(ParseListenAddress("[::1]:8080").value(), Want("::1", 8080));
  EXPECT_EQ(ParseListenAddress("localhost:0").value(), Want("localhost", 0));
  EXPECT_EQ(ParseListenAddress("0.0.0.0:65535").value(), Want("0.0.0.0", 65535));
}

TEST(ParseListenAddressTest, RejectsWithReason) {
  struct Case {
    const char* in;
    const char* want;
  };
  const Case cases[] = {
      {"", "empty"},
      {"8080", "missing port"},
      {"host:", "invalid port \"\""},
      {"host:http", "invalid port \"http\""},
      {"host:65536", "invalid port \"65536\""},
      {"host:-1", "invalid port \"-1\""},
      {"::1:8080", "too many colons"},
      {"[::1:8080", "missing ']'"},
      {"[::1]8080", "missing port"},
      {"[]:80", "empty IPv6 address"},
  };
  for (const Case& c : cases) {
    auto got = ParseListenAddress(c.in);
    ASSERT_FALSE(got.ok()) << c.in;
    EXPECT_NE(got.error().find(c.want), std::string::npos) << got.error();
    EXPECT_NE(got.error().find('"' + std::string(c.in) + '"'), std::string::npos) << got.error();
  }
}

}  // namespace
}  // namespace sonde
