// The request and response values exchanged between the HTTP server and its handler.
// Plain values with no I/O; thread-safe to copy and move between threads.
#pragma once

#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace sonde {

struct HttpRequest {
  std::string method;                                      // "GET", "POST", ... as sent
  std::string target;                                      // raw request-target
  std::string path;                                        // percent-decoded path without the query
  std::vector<std::pair<std::string, std::string>> query;  // decoded ('+' is a space), in order
  std::map<std::string, std::string> headers;  // names lower-cased; repeats joined with ", "
  std::string body;
  std::string remote_address;  // "127.0.0.1"

  // The first value of query parameter `name`; nullopt when absent ("?flag" yields "").
  std::optional<std::string> Query(std::string_view name) const;
  // The value of header `lower_name` (which must be lower-case); "" when absent.
  std::string Header(std::string_view lower_name) const;
};

// Text a response shares instead of copying: `text` points into memory that `owner` keeps alive
// and that nobody changes while an owner is held (a body kept between requests, a cache's
// fragment).
struct SharedText {
  std::shared_ptr<const void> owner;
  std::string_view text;
};

struct HttpResponse {
  int status = 200;
  std::string content_type = "application/json";
  std::string body;
  // When not empty, the body is `body` followed by these parts, written without a copy: a big
  // answer (megabytes) that is kept between requests costs no copy per request.
  std::vector<SharedText> body_parts;
  std::vector<std::pair<std::string, std::string>> headers;  // extra headers

  size_t BodySize() const;
  // The whole body as one string (a copy when there are parts): for tests and logs.
  std::string BodyString() const;

  // A plain-text answer whose body is `reason` + "\n"; used for every error answer.
  static HttpResponse Text(int status, std::string reason);
};

}  // namespace sonde
