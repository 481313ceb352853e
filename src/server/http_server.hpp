// A small bounded HTTP/1.x server for Sonde's APIs (Kuberhealthy status and check reports).
//
// One coroutine per connection on a single-threaded executor. Every resource a peer can hold
// is bounded: header and body sizes, the time to send a request, idle keep-alive time, write
// time and the number of open connections. Network failures are handled as values and end
// only the affected connection; a handler that throws answers 500 and the server carries on.
#pragma once

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <utility>

#include "core/result.hpp"
#include "core/time.hpp"
#include "server/http_types.hpp"

namespace sonde {

struct HttpServerState;  // internal; see server/http_connection.hpp

// Answers one request. Runs on the server's executor; may co_await freely. Exceptions it
// throws become 500 "internal error" (and are logged), never a dead server.
using HttpHandler = std::function<boost::asio::awaitable<HttpResponse>(HttpRequest)>;

struct HttpServerOptions {
  std::string host = "127.0.0.1";
  uint16_t port = 8080;  // 0 = any free port; see HttpServer::port()
  // Larger -> 431 "request header fields exceed 16384 bytes", then close.
  size_t max_header_bytes = 16 * 1024;
  // Larger (by Content-Length or chunked) -> 413 "request body exceeds 1048576 bytes", then close.
  size_t max_body_bytes = 1024 * 1024;
  // The whole request must arrive within this time of its first byte (slowloris defence); a
  // new connection must also send its first request within it. Then the connection is closed.
  Duration request_timeout = std::chrono::seconds(10);
  Duration idle_timeout = std::chrono::seconds(30);  // keep-alive wait for the next request
  Duration write_timeout = std::chrono::seconds(10);
  // Beyond this, new connections get a best-effort 503 and are closed at once, so the
  // listener never stalls.
  size_t max_connections = 1024;
};

// Non-copyable. Lives on one single-threaded executor and is not thread-safe: call every
// member (and the destructor) on that executor's thread, or while it is not running.
// Connection coroutines share state with the server, so destroying it while connections
// are still open is safe; they finish (or are torn down with the io_context).
class HttpServer {
 public:
  HttpServer(boost::asio::any_io_executor executor, HttpServerOptions options, HttpHandler handler);
  ~HttpServer();
  HttpServer(const HttpServer&) = delete;
  HttpServer& operator=(const HttpServer&) = delete;

  // Binds, listens and starts accepting. Failure is a value, e.g.
  // "cannot listen on 127.0.0.1:8080: Address already in use". Call at most once.
  Status Start();
  // The bound port after a successful Start (useful with port 0); 0 before.
  uint16_t port() const;
  // Stops accepting now and closes idle keep-alive connections. Requests already being read
  // or handled finish and are answered with "Connection: close". Idempotent.
  void Stop();
  // The number of open connections.
  size_t connections() const;

 private:
  // Shared with the accept loop and the connections, which may outlive this object.
  std::shared_ptr<HttpServerState> state_;
};

// Parses "HOST:PORT", "[::1]:8080" or ":8080" (host defaults to "0.0.0.0") into host and
// port. The error text quotes the input and says what is wrong.
Result<std::pair<std::string, uint16_t>> ParseListenAddress(std::string_view text);

}  // namespace sonde
