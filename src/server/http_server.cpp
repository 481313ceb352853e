// Listening and accepting. The protocol itself lives in http_connection.cpp.
#include "server/http_server.hpp"

#include <spdlog/spdlog.h>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <string>
#include <string_view>

#include "server/http_connection.hpp"

namespace sonde {
namespace {

namespace asio = boost::asio;
using tcp = asio::ip::tcp;
using boost::system::error_code;

constexpr auto kToken = asio::as_tuple(asio::use_awaitable);
// Accept failures such as EMFILE repeat at once; pausing keeps the loop from spinning.
constexpr auto kAcceptBackoff = std::chrono::milliseconds(100);
constexpr auto kRefusalLogInterval = std::chrono::seconds(10);

std::string HostPort(const std::string& host, uint16_t port) {
  const bool ipv6 = host.find(':') != std::string::npos;
  return (ipv6 ? "[" + host + "]" : host) + ":" + std::to_string(port);
}

// Over the connection limit: a best-effort 503 and an immediate close. The write never
// blocks: a fresh socket's send buffer always has room for these few bytes.
void Reject(tcp::socket& socket) {
  static constexpr std::string_view kResponse =
      "HTTP/1.1 503 Service Unavailable\r\n"
      "Server: sonde\r\n"
      "Content-Type: text/plain; charset=utf-8\r\n"
      "Content-Length: 21\r\n"
      "Connection: close\r\n"
      "\r\n"
      "too many connections\n";
  error_code ignored;
  socket.non_blocking(true, ignored);
  socket.write_some(asio::buffer(kResponse), ignored);
  socket.shutdown(tcp::socket::shutdown_both, ignored);
  socket.close(ignored);
}

asio::awaitable<void> AcceptLoop(std::shared_ptr<HttpServerState> state) {
  asio::steady_timer backoff(state->acceptor.get_executor());
  uint64_t refused = 0;
  auto next_warning = std::chrono::steady_clock::now();
  for (;;) {
    auto [ec, socket] = co_await state->acceptor.async_accept(kToken);
    if (state->stopping || ec == asio::error::operation_aborted) co_return;
    if (ec) {
      spdlog::warn("http: accept on port {} failed: {}", state->port, ec.message());
      backoff.expires_after(kAcceptBackoff);
      co_await backoff.async_wait(kToken);
      continue;
    }
    if (state->connections.size() >= state->options.max_connections) {
      Reject(socket);
      // A flood must not flood the log too: one line per interval with a count.
      ++refused;
      if (std::chrono::steady_clock::now() >= next_warning) {
        spdlog::warn("http: connection limit ({}) reached; refused {} connection(s)",
                     state->options.max_connections, refused);
        refused = 0;
        next_warning = std::chrono::steady_clock::now() + kRefusalLogInterval;
      }
      continue;
    }
    error_code ignored;
    socket.set_option(tcp::no_delay(true), ignored);  // responses are written in one go
    StartConnection(std::move(socket), state);
  }
}

Result<tcp::endpoint> ResolveListenEndpoint(const asio::any_io_executor& executor,
                                            const std::string& host, uint16_t port) {
  error_code ec;
  asio::ip::address address = asio::ip::make_address(host, ec);
  if (!ec) return tcp::endpoint(address, port);
  tcp::resolver resolver(executor);
  auto results = resolver.resolve(host, std::to_string(port), tcp::resolver::passive, ec);
  if (ec) return Result<tcp::endpoint>::Error(ec.message());
  if (results.empty()) return Result<tcp::endpoint>::Error("host has no addresses");
  return results.begin()->endpoint();
}

}  // namespace

HttpServer::HttpServer(asio::any_io_executor executor, HttpServerOptions options,
                       HttpHandler handler)
    : state_(std::make_shared<HttpServerState>(std::move(executor), std::move(options),
                                               std::move(handler))) {}

HttpServer::~HttpServer() { Stop(); }

Status HttpServer::Start() {
  HttpServerState& s = *state_;
  const std::string where = HostPort(s.options.host, s.options.port);
  auto fail = [&](const std::string& why) {
    error_code ignored;
    s.acceptor.close(ignored);
    return Status::Error("cannot listen on " + where + ": " + why);
  };
  Result<tcp::endpoint> endpoint =
      ResolveListenEndpoint(s.acceptor.get_executor(), s.options.host, s.options.port);
  if (!endpoint.ok()) return fail(endpoint.error());
  error_code ec;
  s.acceptor.open(endpoint.value().protocol(), ec);
  // Lets a restarted daemon bind while old connections linger in TIME_WAIT; on Linux it
  // does not allow two listeners on one port.
  if (!ec) s.acceptor.set_option(tcp::acceptor::reuse_address(true), ec);
  if (!ec) s.acceptor.bind(endpoint.value(), ec);
  if (!ec) s.acceptor.listen(asio::socket_base::max_listen_connections, ec);
  if (!ec) s.port = s.acceptor.local_endpoint(ec).port();
  if (ec) return fail(ec.message());
  asio::co_spawn(s.acceptor.get_executor(), AcceptLoop(state_), LogCoroutineFailure{"accept loop"});
  spdlog::info("http: listening on {}", HostPort(s.options.host, s.port));
  return Status::Ok();
}

uint16_t HttpServer::port() const { return state_->port; }

void HttpServer::Stop() {
  state_->stopping = true;
  error_code ignored;
  state_->acceptor.close(ignored);
  CloseIdleConnections(*state_);
}

size_t HttpServer::connections() const { return state_->connections.size(); }

}  // namespace sonde
