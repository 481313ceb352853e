// A small synchronous HTTP/1.1 client for the CLI and for integration tests.
// Each call owns its io_context and connection, so calls are independent and may run on
// any thread concurrently.
#pragma once

#include <map>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/result.hpp"
#include "core/time.hpp"

namespace sonde {

struct ClientResponse {
  int status = 0;
  std::string body;
  std::map<std::string, std::string> headers;  // lower-case names; repeats joined with ", "
};

// Sends one request ("Connection: close") and reads the whole response; any status is a
// successful call. http:// only: an https URL is an error saying it is not supported yet.
// The connection, the write and the read share one deadline, `timeout` from the call.
// (Resolving a host name that is not an IP address is checked against it only afterwards.)
// Errors are values that name the call, e.g. "GET http://127.0.0.1:1/x: connection refused",
// "POST http://h/: timed out after 5s". `headers` override the defaults (Host, User-Agent).
Result<ClientResponse> HttpCall(
    std::string_view method, std::string_view url, std::string_view body = {},
    const std::vector<std::pair<std::string, std::string>>& headers = {},
    Duration timeout = std::chrono::seconds(10));

}  // namespace sonde
