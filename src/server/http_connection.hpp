// Internal to the server module: the state HttpServer shares with its accept loop and
// connection coroutines, and the entry point that serves one connection.
// Everything here is touched only on the server's single-threaded executor.
#pragma once

#include <boost/asio/ip/tcp.hpp>
#include <cstdint>
#include <exception>
#include <memory>
#include <string>
#include <unordered_set>

#include "server/http_server.hpp"

namespace sonde {

class HttpConnection;  // one open connection; defined in http_connection.cpp

struct HttpServerState {
  HttpServerState(boost::asio::any_io_executor executor, HttpServerOptions server_options,
                  HttpHandler request_handler)
      : options(std::move(server_options)),
        handler(std::move(request_handler)),
        acceptor(std::move(executor)) {}

  const HttpServerOptions options;
  const HttpHandler handler;
  boost::asio::ip::tcp::acceptor acceptor;
  uint16_t port = 0;
  bool stopping = false;
  // Every open connection. Registered as soon as it is accepted, so the count that
  // max_connections is checked against is exact.
  std::unordered_set<HttpConnection*> connections;
};

// Registers the accepted `socket` and spawns the coroutine that serves it until the peer
// leaves, an error or timeout ends it, or the server stops.
void StartConnection(boost::asio::ip::tcp::socket socket, std::shared_ptr<HttpServerState> state);

// Makes every connection that is waiting for its next request close now.
void CloseIdleConnections(HttpServerState& state);

// Writes `response` as the bytes of an HTTP/1.x answer (`version` 10 or 11) into `out`, which
// it replaces: status line, Server, Content-Type, the handler's headers (those that could
// break framing are dropped and logged), Content-Length, Connection; the body unless `head`.
// An invalid status becomes a 500.
void SerializeResponse(HttpResponse response, unsigned version, bool keep_alive, bool head,
                       std::string& out);
// The same up to the end of the header (the body's parts are written as they are, unserialized).
// REQUIRES: `response` already checked (SerializeResponse's status and header rules).
void SerializeHead(const HttpResponse& response, unsigned version, bool keep_alive,
                   std::string& out);

// co_spawn completion handler: logs a coroutine's escaped exception instead of letting it
// propagate out of io_context::run().
struct LogCoroutineFailure {
  const char* what;
  void operator()(std::exception_ptr error) const;
};

}  // namespace sonde
