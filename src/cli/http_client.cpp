// HttpCall: Beast on a private io_context. The deadline is enforced by beast::tcp_stream,
// so a hung peer ends the call with a timeout error instead of blocking.
#include "cli/http_client.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core/error.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http/error.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/string_body.hpp>
#include <boost/beast/http/write.hpp>
#include <boost/url/parse.hpp>
#include <cctype>
#include <exception>

namespace sonde {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
namespace urls = boost::urls;
using tcp = asio::ip::tcp;
using Request = http::request<http::string_body>;

constexpr auto kToken = asio::as_tuple(asio::use_awaitable);
// Generous for status documents, yet bounded so a broken server cannot exhaust memory.
constexpr uint64_t kMaxResponseBody = 64 * 1024 * 1024;
constexpr uint32_t kMaxResponseHeader = 64 * 1024;

struct Endpoint {
  std::string host;         // "127.0.0.1", "::1", "example.com"
  std::string port;         // "80"
  std::string host_header;  // "127.0.0.1:8080", "[::1]:8080"
  std::string target;       // "/path?query"
};

Result<Endpoint> ParseHttpUrl(std::string_view url) {
  auto parsed = urls::parse_uri(url);
  if (!parsed) return Result<Endpoint>::Error("invalid URL: " + parsed.error().message());
  if (parsed->scheme_id() == urls::scheme::https) {
    return Result<Endpoint>::Error("https is not supported yet; use http://");
  }
  if (parsed->scheme_id() != urls::scheme::http) {
    return Result<Endpoint>::Error("unsupported scheme \"" + std::string(parsed->scheme()) +
                                   "\" (want http)");
  }
  if (!parsed->has_authority() || parsed->encoded_host().empty()) {
    return Result<Endpoint>::Error("URL has no host");
  }
  Endpoint out;
  out.host = parsed->host_address();
  out.port = parsed->has_port() ? std::string(parsed->port()) : "80";
  out.host_header = parsed->encoded_host_and_port();
  out.target = parsed->encoded_target();
  if (out.target.empty() || out.target.front() != '/') out.target.insert(0, "/");
  return out;
}

bool IsToken(std::string_view s) {
  if (s.empty()) return false;
  for (unsigned char c : s) {
    if (!std::isalnum(c) &&
        std::string_view("!#$%&'*+-.^_`|~").find(static_cast<char>(c)) == std::string_view::npos) {
      return false;
    }
  }
  return true;
}

bool HasLineBreakOrNul(std::string_view s) {
  return s.find_first_of(std::string_view("\r\n\0", 3)) != std::string_view::npos;
}

std::string Describe(const beast::error_code& ec, Duration timeout, const Endpoint& endpoint) {
  if (ec == beast::error::timeout) return "timed out after " + FormatGoDuration(timeout);
  if (ec == asio::error::connection_refused) return "connection refused";
  if (ec == asio::error::host_not_found || ec == asio::error::host_not_found_try_again) {
    return "cannot resolve host \"" + endpoint.host + "\"";
  }
  if (ec == http::error::end_of_stream || ec == http::error::partial_message) {
    return "connection closed before the whole response arrived";
  }
  std::string text = ec.message();
  if (!text.empty()) text[0] = static_cast<char>(std::tolower(static_cast<unsigned char>(text[0])));
  return text;
}

struct Outcome {
  beast::error_code ec;
  ClientResponse response;
};

ClientResponse ToClientResponse(http::response<http::string_body>&& message) {
  ClientResponse out;
  out.status = static_cast<int>(message.result_int());
  for (const auto& field : message) {
    std::string name(field.name_string());
    for (char& c : name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    auto [it, inserted] = out.headers.try_emplace(std::move(name), field.value());
    if (!inserted) (it->second += ", ").append(field.value());
  }
  out.body = std::move(message.body());
  return out;
}

asio::awaitable<Outcome> Exchange(const Endpoint& endpoint, Request& request,
                                  asio::steady_timer::time_point deadline) {
  auto executor = co_await asio::this_coro::executor;
  tcp::resolver resolver(executor);
  auto [rec, addresses] = co_await resolver.async_resolve(endpoint.host, endpoint.port, kToken);
  if (rec) co_return Outcome{rec, {}};
  if (asio::steady_timer::clock_type::now() >= deadline)
    co_return Outcome{beast::error::timeout, {}};

  beast::tcp_stream stream(executor);
  stream.expires_at(deadline);
  auto [cec, connected] = co_await stream.async_connect(addresses, kToken);
  if (cec) co_return Outcome{cec, {}};
  auto [wec, written] = co_await http::async_write(stream, request, kToken);
  if (wec) co_return Outcome{wec, {}};

  http::response_parser<http::string_body> parser;
  parser.header_limit(kMaxResponseHeader);
  parser.body_limit(kMaxResponseBody);
  parser.skip(request.method() == http::verb::head);  // HEAD answers carry no body
  beast::flat_buffer buffer;
  auto [rdec, read] = co_await http::async_read(stream, buffer, parser, kToken);
  if (rdec) co_return Outcome{rdec, {}};
  beast::error_code ignored;
  stream.socket().shutdown(tcp::socket::shutdown_both, ignored);
  co_return Outcome{{}, ToClientResponse(parser.release())};
}

Result<Request> BuildRequest(std::string_view method, const Endpoint& endpoint,
                             std::string_view body,
                             const std::vector<std::pair<std::string, std::string>>& headers) {
  if (!IsToken(method)) return Result<Request>::Error("invalid method");
  Request request;
  request.version(11);
  request.method_string(method);
  request.target(endpoint.target);
  request.set(http::field::host, endpoint.host_header);
  request.set(http::field::user_agent, "sonde");
  request.set(http::field::connection, "close");
  if (!body.empty() || method == "POST" || method == "PUT" || method == "PATCH") {
    request.body() = std::string(body);
    request.content_length(body.size());
  }
  for (const auto& [name, value] : headers) {
    if (!IsToken(name) || HasLineBreakOrNul(value)) {
      return Result<Request>::Error("invalid header \"" + name + "\"");
    }
    request.set(name, value);
  }
  return request;
}

}  // namespace

Result<ClientResponse> HttpCall(std::string_view method, std::string_view url,
                                std::string_view body,
                                const std::vector<std::pair<std::string, std::string>>& headers,
                                Duration timeout) {
  const std::string what = std::string(method) + " " + std::string(url) + ": ";
  Result<Endpoint> endpoint = ParseHttpUrl(url);
  if (!endpoint.ok()) return Result<ClientResponse>::Error(what + endpoint.error());
  Result<Request> request = BuildRequest(method, endpoint.value(), body, headers);
  if (!request.ok()) return Result<ClientResponse>::Error(what + request.error());

  const auto deadline = asio::steady_timer::clock_type::now() +
                        std::chrono::duration_cast<asio::steady_timer::duration>(timeout);
  asio::io_context io;
  Outcome outcome;
  std::exception_ptr failure;
  asio::co_spawn(io, Exchange(endpoint.value(), request.value(), deadline),
                 [&](std::exception_ptr e, Outcome o) {
                   failure = e;
                   outcome = std::move(o);
                 });
  io.run();
  if (failure) {
    // Only resource exhaustion (e.g. bad_alloc) throws; report it like any other failure.
    try {
      std::rethrow_exception(failure);
    } catch (const std::exception& e) {
      return Result<ClientResponse>::Error(what + e.what());
    } catch (...) {
      return Result<ClientResponse>::Error(what + "unknown failure");
    }
  }
  if (outcome.ec) {
    return Result<ClientResponse>::Error(what + Describe(outcome.ec, timeout, endpoint.value()));
  }
  return std::move(outcome.response);
}

}  // namespace sonde
