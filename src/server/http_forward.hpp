// Hands a request received here to another HTTP server and returns its answer: in operator
// mode a follower forwards checkers' reports to the leader, whose engine runs the check.
//
// Thread safety: a coroutine on the caller's executor; no shared state.
// Failure: an unreachable or slow peer is an error value naming it, never an exception.
#pragma once

#include <boost/asio/awaitable.hpp>
#include <string>

#include "core/result.hpp"
#include "core/time.hpp"
#include "server/http_types.hpp"

namespace sonde {

// POSTs (or whatever the request's method is) `request.target` with its body and its
// content-type and kh-run-uuid headers to `base_url` ("http://10.1.2.3:8080", plain HTTP).
// The whole exchange has `timeout`; answers larger than `max_body_bytes` are an error.
boost::asio::awaitable<Result<HttpResponse>> ForwardRequest(const std::string& base_url,
                                                            const HttpRequest& request,
                                                            Duration timeout,
                                                            size_t max_body_bytes = 1 << 20);

}  // namespace sonde
