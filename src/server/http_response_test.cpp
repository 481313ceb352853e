// SerializeResponse writes the same bytes as Beast's serializer did for the message the
// connection used to build (the reference below is that former code, kept here verbatim).
#include <gtest/gtest.h>

#include <boost/beast/http/message.hpp>
#include <boost/beast/http/string_body.hpp>
#include <boost/beast/http/write.hpp>
#include <sstream>

#include "server/http_connection.hpp"

namespace sonde {
namespace {

namespace http = boost::beast::http;

bool IsReservedHeader(std::string_view name) {
  return boost::beast::iequals(name, "content-length") ||
         boost::beast::iequals(name, "transfer-encoding") ||
         boost::beast::iequals(name, "connection");
}

bool HasLineBreakOrNul(std::string_view s) {
  return s.find_first_of(std::string_view("\r\n\0", 3)) != std::string_view::npos;
}

std::string BeastBytes(HttpResponse response, unsigned version, bool keep_alive, bool head) {
  if (response.status < 100 || response.status > 999) {
    response = HttpResponse::Text(500, "internal error");
  }
  http::response<http::string_body> out;
  out.version(version);
  out.result(static_cast<unsigned>(response.status));
  out.set(http::field::server, "sonde");
  out.set(http::field::content_type, response.content_type);
  for (const auto& [name, value] : response.headers) {
    if (IsReservedHeader(name) || name.empty() || HasLineBreakOrNul(name) ||
        HasLineBreakOrNul(value)) {
      continue;
    }
    out.insert(name, value);
  }
  out.body() = std::move(response.body);
  out.content_length(out.body().size());
  if (keep_alive) {
    out.keep_alive(true);
  } else {
    out.set(http::field::connection, "close");
  }
  std::ostringstream os;
  if (head) {
    os << out.base();
  } else {
    os << out;
  }
  return os.str();
}

HttpResponse With(int status, std::string content_type, std::string body,
                  std::vector<std::pair<std::string, std::string>> headers = {}) {
  HttpResponse r;
  r.status = status;
  r.content_type = std::move(content_type);
  r.body = std::move(body);
  r.headers = std::move(headers);
  return r;
}

TEST(SerializeResponse, WritesWhatBeastWrote) {
  const std::vector<HttpResponse> responses = {
      HttpResponse::Text(200, "heartbeat of bench/h1 recorded"),
      With(200, "application/json", "{\"OK\":true}\n"),
      With(204, "text/plain", ""),
      HttpResponse::Text(404, "no heartbeat check has this URL"),
      With(429, "text/plain; charset=utf-8", "too many\n", {{"Retry-After", "3"}}),
      With(405, "text/plain", "no\n", {{"Allow", "POST"}, {"X-Two", "a, b"}}),
      With(503, "text/plain", "", {{"Content-Length", "99"}, {"Connection", "x"}}),
      With(200, "text/plain", "", {{"Bad\r\nName", "v"}, {"Ok", "bad\nvalue"}, {"", "e"}}),
      With(299, "text/plain", "unknown reason phrase\n"),
      With(999, "text/plain", "largest status\n"),
      With(42, "text/plain", "invalid status\n"),
      With(1000, "text/plain", "invalid status\n"),
      With(200, "application/octet-stream", std::string(100000, 'x')),
  };
  std::string out = "left over from a previous answer";
  for (const HttpResponse& response : responses) {
    for (unsigned version : {10u, 11u}) {
      for (bool keep_alive : {false, true}) {
        for (bool head : {false, true}) {
          SCOPED_TRACE(testing::Message()
                       << response.status << " " << response.body.substr(0, 40) << " version "
                       << version << " keep_alive " << keep_alive << " head " << head);
          SerializeResponse(response, version, keep_alive, head, out);
          EXPECT_EQ(out, BeastBytes(response, version, keep_alive, head));
        }
      }
    }
  }
}

// A body given as shared parts is written as the same bytes as the joined body.
TEST(SerializeResponse, SharedPartsAreTheJoinedBody) {
  auto kept = std::make_shared<const std::string>(std::string(70000, 'k') + "\n");
  struct Case {
    std::string name;
    std::string body;
    std::vector<std::string_view> parts;
  };
  const std::vector<Case> cases = {
      {"one part", "", {*kept}},
      {"body then parts", "head:", {"a", "", "bc", *kept}},
      {"empty parts", "x", {"", ""}},
      {"slices of one string",
       "",
       {std::string_view(*kept).substr(0, 10), "|", std::string_view(*kept).substr(69990)}},
  };
  std::string joined_out;
  std::string parts_out;
  for (const Case& c : cases) {
    HttpResponse parts = With(200, "text/plain", c.body, {{"X-Case", c.name}});
    for (std::string_view p : c.parts) parts.body_parts.push_back({kept, p});
    HttpResponse joined = With(200, "text/plain", parts.BodyString(), {{"X-Case", c.name}});
    EXPECT_EQ(parts.BodySize(), joined.body.size()) << c.name;
    for (bool head : {false, true}) {
      SerializeResponse(parts, 11, true, head, parts_out);
      SerializeResponse(joined, 11, true, head, joined_out);
      EXPECT_EQ(parts_out, joined_out) << c.name << " head " << head;
    }
  }
}

}  // namespace
}  // namespace sonde
