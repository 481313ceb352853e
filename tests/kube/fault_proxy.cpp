#include "kube/fault_proxy.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>
#include <functional>
#include <list>
#include <mutex>
#include <thread>
#include <vector>

namespace sonde::testing {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;
using Stream = beast::ssl_stream<beast::tcp_stream>;
constexpr auto kToken = asio::as_tuple(asio::use_awaitable);
// Test streams live as long as a test: one generous deadline per operation.
constexpr auto kIoDeadline = std::chrono::minutes(10);

namespace {

struct Fault {
  int remaining;
  int status;
  std::string path_part;
  std::string method;
  int retry_after;
};

bool IsWatch(std::string_view target) {
  return target.find("watch=1") != std::string_view::npos ||
         target.find("watch=true") != std::string_view::npos;
}

bool ResumesFromVersion(std::string_view target) {
  const auto at = target.find("resourceVersion=");
  if (at == std::string_view::npos) return false;
  const auto value = target.substr(at + 16);
  return !value.empty() && value.front() != '&' && value.front() != '0';
}

std::string StatusJson(int code, std::string_view reason, std::string_view message) {
  return R"({"kind":"Status","apiVersion":"v1","metadata":{},"status":"Failure","message":")" +
         std::string(message) + R"(","reason":")" + std::string(reason) + R"(","code":)" +
         std::to_string(code) + "}";
}

}  // namespace

struct FaultProxy::Impl {
  explicit Impl(FaultProxyOptions o) : options(std::move(o)) {}

  // Declaration order matters: `io` is destroyed before the TLS contexts and the closers its
  // pending coroutine frames still refer to.
  FaultProxyOptions options;
  asio::ssl::context server_tls{asio::ssl::context::tls_server};
  asio::ssl::context client_tls{asio::ssl::context::tls_client};

  std::mutex mu;  // guards the fault settings below
  std::vector<Fault> faults;
  int expire_resumes = 0;
  bool down = false;

  std::atomic<uint64_t> requests{0}, watches{0}, injected{0};
  // Proxy thread only: closers of the watch streams being relayed.
  std::list<std::function<void()>> watch_closers;

  asio::io_context io;
  tcp::acceptor acceptor{io};
  std::thread thread;

  bool Down() {
    std::lock_guard lock(mu);
    return down;
  }

  std::optional<Fault> TakeFault(std::string_view method, std::string_view target) {
    std::lock_guard lock(mu);
    for (auto& f : faults) {
      if (f.remaining > 0 && target.find(f.path_part) != std::string_view::npos &&
          (f.method.empty() || f.method == method)) {
        --f.remaining;
        return f;
      }
    }
    return std::nullopt;
  }

  bool TakeExpire() {
    std::lock_guard lock(mu);
    if (expire_resumes <= 0) return false;
    --expire_resumes;
    return true;
  }

  void CloseWatches() {
    for (auto& close : watch_closers) close();
  }

  asio::awaitable<void> Accept() {
    for (;;) {
      auto [ec, socket] = co_await acceptor.async_accept(kToken);
      if (ec) co_return;
      asio::co_spawn(io, Serve(std::move(socket)), asio::detached);
    }
  }

  asio::awaitable<void> Answer(Stream& down_stream, int status, std::string body, int retry_after,
                               bool keep_alive) {
    http::response<http::string_body> response{static_cast<http::status>(status), 11};
    response.set(http::field::content_type, "application/json");
    if (retry_after >= 0) response.set(http::field::retry_after, std::to_string(retry_after));
    response.keep_alive(keep_alive);
    response.body() = std::move(body);
    response.prepare_payload();
    ++injected;
    beast::get_lowest_layer(down_stream).expires_after(kIoDeadline);
    co_await http::async_write(down_stream, response, kToken);
  }

  asio::awaitable<void> Serve(tcp::socket socket) {
    if (Down()) co_return;  // the socket closes as it goes out of scope
    Stream down_stream(std::move(socket), server_tls);
    beast::get_lowest_layer(down_stream).expires_after(kIoDeadline);
    auto [hec] = co_await down_stream.async_handshake(asio::ssl::stream_base::server, kToken);
    if (hec) co_return;
    beast::flat_buffer buffer;
    for (;;) {
      http::request_parser<http::string_body> parser;
      parser.body_limit(64u << 20);
      beast::get_lowest_layer(down_stream).expires_after(kIoDeadline);
      auto [ec, n] = co_await http::async_read(down_stream, buffer, parser, kToken);
      if (ec || Down()) co_return;
      ++requests;
      auto request = parser.release();
      const std::string target(request.target());
      const std::string method(request.method_string());
      if (auto fault = TakeFault(method, target)) {
        co_await Answer(down_stream, fault->status,
                        StatusJson(fault->status, "InjectedFault", "injected by the test proxy"),
                        fault->retry_after, true);
        continue;
      }
      if (IsWatch(target) && ResumesFromVersion(target) && TakeExpire()) {
        co_await Answer(down_stream, 200,
                        R"({"type":"ERROR","object":)" +
                            StatusJson(410, "Expired", "too old resource version") + "}\n",
                        -1, false);
        co_return;
      }
      if (!co_await Relay(down_stream, request, IsWatch(target))) co_return;
      if (!request.keep_alive()) co_return;
    }
  }

  // Relays one request and its answer. False: the client connection is done.
  asio::awaitable<bool> Relay(Stream& down_stream, http::request<http::string_body>& request,
                              bool watch) {
    Stream up(co_await asio::this_coro::executor, client_tls);
    auto& up_tcp = beast::get_lowest_layer(up);
    up_tcp.expires_after(kIoDeadline);
    auto [cec] = co_await up_tcp.async_connect(
        tcp::endpoint(asio::ip::make_address(options.upstream_host), options.upstream_port),
        kToken);
    if (!cec) std::tie(cec) = co_await up.async_handshake(asio::ssl::stream_base::client, kToken);
    if (cec) {
      co_await Answer(down_stream, 502, StatusJson(502, "BadGateway", cec.message()), -1, false);
      co_return false;
    }
    co_await http::async_write(up, request, kToken);

    auto closer = watch_closers.end();
    if (watch) {
      ++watches;
      closer = watch_closers.insert(watch_closers.end(), [&down_stream, &up] {
        beast::get_lowest_layer(down_stream).close();
        beast::get_lowest_layer(up).close();
      });
    }
    const bool ok = co_await RelayAnswer(up, down_stream, watch);
    if (closer != watch_closers.end()) watch_closers.erase(closer);
    co_return ok;
  }

  // A watch's answer crosses byte for byte as it comes, so events are not held back; the
  // stream ends when either side closes (or DropWatches closes both).
  asio::awaitable<bool> RelayAnswer(Stream& up, Stream& down_stream, bool watch) {
    beast::flat_buffer buffer;
    if (!watch) {
      http::response_parser<http::string_body> parser;
      parser.body_limit(64u << 20);
      beast::get_lowest_layer(up).expires_after(kIoDeadline);
      auto [ec, n] = co_await http::async_read(up, buffer, parser, kToken);
      if (ec || Down()) co_return false;
      auto response = parser.release();
      beast::get_lowest_layer(down_stream).expires_after(kIoDeadline);
      std::tie(ec, n) = co_await http::async_write(down_stream, response, kToken);
      co_return !ec && response.keep_alive();
    }
    char chunk[16384];
    for (;;) {
      beast::get_lowest_layer(up).expires_after(kIoDeadline);
      auto [ec, n] = co_await up.async_read_some(asio::buffer(chunk), kToken);
      // A watch opened just before SetDown may not be registered yet when DropWatches runs,
      // so a down proxy also refuses to pass on what arrives afterwards.
      if (ec || n == 0 || Down()) co_return false;
      beast::get_lowest_layer(down_stream).expires_after(kIoDeadline);
      std::tie(ec, n) = co_await asio::async_write(down_stream, asio::buffer(chunk, n), kToken);
      if (ec) co_return false;
    }
  }
};

FaultProxy::FaultProxy(FaultProxyOptions options)
    : impl_(std::make_shared<Impl>(std::move(options))) {
  auto& i = *impl_;
  i.server_tls.use_certificate_chain_file(i.options.cert_file);
  i.server_tls.use_private_key_file(i.options.key_file, asio::ssl::context::pem);
  i.client_tls.load_verify_file(i.options.ca_file);
  i.client_tls.set_verify_mode(asio::ssl::verify_peer);
  const tcp::endpoint local(asio::ip::make_address("127.0.0.1"), 0);
  i.acceptor.open(local.protocol());
  i.acceptor.set_option(tcp::acceptor::reuse_address(true));
  i.acceptor.bind(local);
  i.acceptor.listen();
  asio::co_spawn(i.io, i.Accept(), asio::detached);
  i.thread = std::thread([&i] { i.io.run(); });
}

FaultProxy::~FaultProxy() {
  asio::post(impl_->io, [impl = impl_.get()] {
    impl->CloseWatches();
    impl->acceptor.close();
    impl->io.stop();
  });
  impl_->thread.join();
}

uint16_t FaultProxy::port() const { return impl_->acceptor.local_endpoint().port(); }

void FaultProxy::DropWatches() {
  asio::post(impl_->io, [impl = impl_.get()] { impl->CloseWatches(); });
}

void FaultProxy::FailNext(int count, int status, std::string path_part, std::string method,
                          int retry_after_seconds) {
  std::lock_guard lock(impl_->mu);
  impl_->faults.push_back(
      {count, status, std::move(path_part), std::move(method), retry_after_seconds});
}

void FaultProxy::ExpireNextWatchResumes(int count) {
  std::lock_guard lock(impl_->mu);
  impl_->expire_resumes += count;
}

void FaultProxy::SetDown(bool down) {
  {
    std::lock_guard lock(impl_->mu);
    impl_->down = down;
  }
  if (down) DropWatches();
}

uint64_t FaultProxy::requests() const { return impl_->requests; }
uint64_t FaultProxy::watches_relayed() const { return impl_->watches; }
uint64_t FaultProxy::faults_injected() const { return impl_->injected; }

}  // namespace sonde::testing
