#include "kube/kube_client.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/ssl/error.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/string_body.hpp>
#include <boost/beast/http/write.hpp>
#include <boost/beast/ssl/ssl_stream.hpp>
#include <boost/json/parse.hpp>
#include <boost/url/parse.hpp>
#include <fstream>
#include <sstream>

#include "kube/kube_connection.hpp"
#include "probe/net.hpp"
#include "probe/tls_probe.hpp"

namespace sonde::kube {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
namespace json = boost::json;
using SteadyClock = std::chrono::steady_clock;
constexpr auto kToken = asio::as_tuple(asio::use_awaitable);

namespace {

std::string FirstLine(std::string_view text) {
  const auto end = text.find('\n');
  std::string line(text.substr(0, std::min<size_t>(end, 300)));
  return line;
}

// A stale keep-alive connection the server closed while it sat in the pool.
bool IsStaleConnection(const beast::error_code& ec) {
  return ec == http::error::end_of_stream || ec == asio::error::eof ||
         ec == asio::error::connection_reset || ec == asio::error::broken_pipe ||
         ec == asio::ssl::error::stream_truncated;
}

Duration RetryAfter(const http::response<http::string_body>& response) {
  const auto value = response[http::field::retry_after];
  if (value.empty()) return Duration{};
  try {
    return std::chrono::seconds(std::clamp(std::stoi(std::string(value)), 0, 60));
  } catch (const std::exception&) {  // an HTTP date or junk: the caller's default wait
    return Duration{};
  }
}

}  // namespace

std::string DescribeStatus(const Response& response) {
  std::string text = std::to_string(response.status);
  const auto reason = http::obsolete_reason(static_cast<http::status>(response.status));
  if (!reason.empty() && reason != "<unknown-status>") text += " " + std::string(reason);
  boost::system::error_code ec;
  const auto parsed = json::parse(response.body, ec);
  if (!ec && parsed.is_object()) {
    if (const auto* message = parsed.as_object().if_contains("message");
        message != nullptr && message->is_string()) {
      return text + ": " + std::string(message->as_string());
    }
  }
  if (!response.body.empty()) text += ": " + FirstLine(response.body);
  return text;
}

int StatusCode(const json::object& status) {
  if (const auto* code = status.if_contains("code"); code != nullptr && code->is_int64()) {
    return static_cast<int>(code->as_int64());
  }
  return 0;
}

KubeClient::KubeClient(asio::any_io_executor executor, const Clock& clock, ClusterConfig config,
                       ClientOptions options)
    : executor_(std::move(executor)),
      clock_(clock),
      config_(std::move(config)),
      options_(std::move(options)),
      limiter_(options_.qps, options_.burst),
      token_(config_.token),
      token_read_(clock.Now()) {}

KubeClient::~KubeClient() = default;

Status KubeClient::Init() {
  auto url = boost::urls::parse_uri(config_.server);
  if (!url || url->scheme() != "https" || url->host().empty()) {
    return Status::Error(config_.source + ": server \"" + config_.server +
                         "\" is not an https URL");
  }
  host_ = url->host_address();
  port_ = url->has_port() ? std::string(url->port()) : "443";
  host_header_ = url->encoded_host_and_port();
  auto tls = std::make_unique<asio::ssl::context>(asio::ssl::context::tls_client);
  tls->set_options(asio::ssl::context::no_sslv2 | asio::ssl::context::no_sslv3 |
                   asio::ssl::context::no_tlsv1 | asio::ssl::context::no_tlsv1_1);
  boost::system::error_code ec;
  if (config_.insecure_skip_verify) {
    tls->set_verify_mode(asio::ssl::verify_none);
  } else {
    tls->set_verify_mode(asio::ssl::verify_peer);
    if (config_.ca_pem.empty()) {
      tls->set_default_verify_paths(ec);
    } else {
      tls->add_certificate_authority(asio::buffer(config_.ca_pem), ec);
    }
    if (ec) return Status::Error(config_.source + ": certificate authority: " + ec.message());
  }
  if (!config_.client_cert_pem.empty()) {
    tls->use_certificate_chain(asio::buffer(config_.client_cert_pem), ec);
    if (ec) return Status::Error(config_.source + ": client certificate: " + ec.message());
    tls->use_private_key(asio::buffer(config_.client_key_pem), asio::ssl::context::pem, ec);
    if (ec) return Status::Error(config_.source + ": client key: " + ec.message());
  }
  tls_ = std::move(tls);
  return Status::Ok();
}

std::string KubeClient::BearerToken(bool force_reread) {
  if (config_.token_file.empty()) return token_;
  const TimePoint now = clock_.Now();
  if (force_reread || now - token_read_ >= options_.token_reread) {
    std::ifstream in(config_.token_file);
    std::ostringstream text;
    text << in.rdbuf();
    std::string token = text.str();
    while (!token.empty() && (token.back() == '\n' || token.back() == '\r')) token.pop_back();
    // A failed read keeps the last token: the file is replaced atomically when it rotates.
    if (in && !token.empty()) token_ = token;
    token_read_ = now;
  }
  return token_;
}

asio::awaitable<void> KubeClient::WaitForToken() {
  while (!limiter_.Allow(clock_.Now())) {
    asio::steady_timer timer(executor_, limiter_.RetryAfter(clock_.Now()));
    co_await timer.async_wait(kToken);
  }
}

asio::awaitable<Result<std::unique_ptr<KubeClient::Connection>>> KubeClient::Connect(
    SteadyClock::time_point deadline) {
  using R = Result<std::unique_ptr<Connection>>;
  if (!tls_) co_return R::Error("the client is not initialised (Init)");
  auto port = static_cast<uint16_t>(std::stoi(port_));
  auto endpoints = co_await Resolve(host_, port, IpFamily::kAny, deadline);
  if (!endpoints.ok()) co_return R::Error(endpoints.error());
  auto connection = std::make_unique<Connection>(executor_, *tls_);
  auto& tcp = beast::get_lowest_layer(connection->stream);
  tcp.expires_at(deadline);
  auto connected = co_await sonde::Connect(tcp, endpoints.value());
  if (!connected.ok()) co_return R::Error(connected.error());
  const std::string name = config_.tls_server_name.empty() ? host_ : config_.tls_server_name;
  ConfigureTlsPeerName(connection->stream.native_handle(), name, !config_.insecure_skip_verify);
  auto [ec] = co_await connection->stream.async_handshake(asio::ssl::stream_base::client, kToken);
  if (ec) {
    co_return R::Error(
        DescribeHandshakeError(connection->stream.native_handle(), ec, options_.request_timeout));
  }
  co_return connection;
}

asio::awaitable<Result<Response>> KubeClient::Exchange(const std::string& method,
                                                       const std::string& path,
                                                       const std::string& body,
                                                       const std::string& content_type) {
  const auto deadline = DeadlineAfter(options_.request_timeout);
  http::request<http::string_body> request{http::string_to_verb(method), path, 11};
  request.set(http::field::host, host_header_);
  request.set(http::field::user_agent, options_.user_agent);
  request.set(http::field::accept, "application/json");
  if (!body.empty()) {
    request.set(http::field::content_type, content_type);
    request.body() = body;
  }
  for (int attempt = 0; attempt < 2; ++attempt) {
    const std::string token = BearerToken(false);
    if (!token.empty()) request.set(http::field::authorization, "Bearer " + token);
    request.prepare_payload();
    std::unique_ptr<Connection> connection;
    const bool reused = !idle_.empty();
    if (reused) {
      connection = std::move(idle_.back());
      idle_.pop_back();
    } else {
      auto fresh = co_await Connect(deadline);
      if (!fresh.ok()) co_return Result<Response>::Error(fresh.error());
      connection = std::move(fresh).value();
    }
    beast::get_lowest_layer(connection->stream).expires_at(deadline);
    ++requests_sent_;
    auto [wec, written] = co_await http::async_write(connection->stream, request, kToken);
    http::response_parser<http::string_body> parser;
    parser.body_limit(options_.max_response_bytes);
    beast::error_code ec = wec;
    if (!ec)
      std::tie(ec, std::ignore) =
          co_await http::async_read(connection->stream, connection->buffer, parser, kToken);
    if (ec && reused && IsStaleConnection(ec)) continue;  // once, on a fresh connection
    if (ec == http::error::body_limit) {
      co_return Result<Response>::Error("the answer is larger than " +
                                        std::to_string(options_.max_response_bytes) + " bytes");
    }
    if (ec) co_return Result<Response>::Error(DescribeNetError(ec, options_.request_timeout));
    auto& response = parser.get();
    Response out{static_cast<int>(response.result_int()), std::move(response.body()),
                 RetryAfter(response)};
    if (response.keep_alive() && idle_.size() < options_.max_idle_connections) {
      idle_.push_back(std::move(connection));
    }
    co_return out;
  }
  co_return Result<Response>::Error("the connection closed twice before an answer");
}

asio::awaitable<Result<Response>> KubeClient::Call(std::string method, std::string path,
                                                   std::string body, std::string content_type) {
  const auto give_up = SteadyClock::now() + options_.request_timeout;
  bool reread_token = false;
  for (int retries_429 = 0;;) {
    co_await WaitForToken();
    auto response = co_await Exchange(method, path, body, content_type);
    if (!response.ok()) {
      co_return Result<Response>::Error(method + " " + config_.server + path + ": " +
                                        response.error());
    }
    const int status = response.value().status;
    if (status == 401 && !config_.token_file.empty() && !reread_token) {
      reread_token = true;  // the token may have rotated since it was last read
      BearerToken(true);
      continue;
    }
    if (status == 429 && retries_429 < options_.max_retries_429) {
      ++retries_429;
      const Duration asked = response.value().retry_after;
      const Duration wait = asked > Duration{} ? asked : std::chrono::seconds(retries_429);
      if (SteadyClock::now() + wait < give_up) {
        asio::steady_timer timer(executor_, wait);
        co_await timer.async_wait(kToken);
        continue;
      }
    }
    co_return response;
  }
}

}  // namespace sonde::kube
