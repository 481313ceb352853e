// The request and response values exchanged between the HTTP server and its handler.
// Plain values with no I/O; thread-safe to copy and move between threads.
#pragma once

#include <map>
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

struct HttpResponse {
  int status = 200;
  std::string content_type = "application/json";
  std::string body;
  std::vector<std::pair<std::string, std::string>> headers;  // extra headers

  // A plain-text answer whose body is `reason` + "\n"; used for every error answer.
  static HttpResponse Text(int status, std::string reason);
};

}  // namespace sonde
