#include "probe/net.hpp"

#include <openssl/ssl.h>
#include <openssl/x509.h>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/experimental/awaitable_operators.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core/error.hpp>
#include <boost/beast/http/error.hpp>
#include <charconv>
#include <ctime>

namespace sonde {
namespace {

namespace asio = boost::asio;
using tcp = asio::ip::tcp;
constexpr auto kToken = asio::as_tuple(asio::use_awaitable);

bool InFamily(const tcp::endpoint& e, IpFamily family) {
  return family == IpFamily::kAny || (family == IpFamily::kV4) == e.address().is_v4();
}

std::string FamilyName(IpFamily family) {
  return family == IpFamily::kV4 ? "IPv4" : family == IpFamily::kV6 ? "IPv6" : "any";
}

}  // namespace

std::optional<IpFamily> ParseIpFamily(std::string_view text) {
  if (text == "any" || text.empty()) return IpFamily::kAny;
  if (text == "ip4" || text == "ipv4") return IpFamily::kV4;
  if (text == "ip6" || text == "ipv6") return IpFamily::kV6;
  return std::nullopt;
}

Result<HostPort> ParseHostPort(std::string_view text) {
  HostPort out;
  std::string_view port;
  if (text.starts_with("[")) {
    const size_t close = text.find(']');
    if (close == std::string_view::npos || text.substr(close + 1, 1) != ":") {
      return Result<HostPort>::Error("\"" + std::string(text) + "\" is not [host]:port");
    }
    out.host = std::string(text.substr(1, close - 1));
    port = text.substr(close + 2);
  } else {
    const size_t colon = text.rfind(':');
    if (colon == std::string_view::npos || colon == 0 || text.find(':') != colon) {
      return Result<HostPort>::Error("\"" + std::string(text) +
                                     "\" is not host:port (IPv6 hosts go in brackets)");
    }
    out.host = std::string(text.substr(0, colon));
    port = text.substr(colon + 1);
  }
  unsigned value = 0;
  auto [end, ec] = std::from_chars(port.data(), port.data() + port.size(), value);
  if (port.empty() || ec != std::errc() || end != port.data() + port.size() || value == 0 ||
      value > 65535) {
    return Result<HostPort>::Error("port \"" + std::string(port) + "\" must be 1 to 65535");
  }
  out.port = static_cast<uint16_t>(value);
  return out;
}

asio::awaitable<Result<std::vector<tcp::endpoint>>> Resolve(
    std::string host, uint16_t port, IpFamily family,
    std::chrono::steady_clock::time_point deadline) {
  using Out = Result<std::vector<tcp::endpoint>>;
  boost::system::error_code parse_error;
  const auto literal = asio::ip::make_address(host, parse_error);
  std::vector<tcp::endpoint> endpoints;
  if (!parse_error) {
    endpoints.emplace_back(literal, port);
  } else {
    using namespace asio::experimental::awaitable_operators;
    auto executor = co_await asio::this_coro::executor;
    tcp::resolver resolver(executor);
    asio::steady_timer timer(executor, deadline);
    auto raced = co_await (resolver.async_resolve(host, std::to_string(port), kToken) ||
                           timer.async_wait(kToken));
    if (raced.index() == 1) co_return Out::Error("resolve " + host + ": timed out");
    auto [ec, results] = std::get<0>(raced);
    if (ec) co_return Out::Error("resolve " + host + ": " + ec.message());
    for (const auto& r : results) endpoints.push_back(r.endpoint());
  }
  std::erase_if(endpoints, [&](const tcp::endpoint& e) { return !InFamily(e, family); });
  if (endpoints.empty()) {
    co_return Out::Error("resolve " + host + ": no " + FamilyName(family) + " address");
  }
  co_return endpoints;
}

ProbeDeadline::ProbeDeadline(const asio::any_io_executor& executor,
                             std::chrono::steady_clock::time_point deadline)
    : state_(std::make_shared<State>()), timer_(executor, deadline) {
  timer_.async_wait([state = state_](boost::system::error_code ec) {
    if (ec) return;  // cancelled: the run ended first
    state->fired = true;
    if (state->socket) state->socket->close(ec);
  });
}

ProbeDeadline::~ProbeDeadline() {
  state_->socket = nullptr;
  timer_.cancel();
}

boost::system::error_code ProbeDeadline::Translate(boost::system::error_code ec) const {
  if (ec && state_->fired) return boost::beast::error::timeout;
  return ec;
}

ProbeDeadline::Watching::Watching(ProbeDeadline& deadline, tcp::socket& socket)
    : deadline_(deadline) {
  Switch(socket);
}

ProbeDeadline::Watching::~Watching() { deadline_.state_->socket = nullptr; }

void ProbeDeadline::Watching::Switch(tcp::socket& socket) {
  deadline_.state_->socket = &socket;
  // Fired before this socket existed: it must not outlive the deadline either.
  if (deadline_.state_->fired) {
    boost::system::error_code ignored;
    socket.close(ignored);
  }
}

asio::awaitable<Result<tcp::endpoint>> Connect(boost::beast::tcp_stream& stream,
                                               const std::vector<tcp::endpoint>& endpoints,
                                               const ProbeDeadline* deadline) {
  auto [ec, endpoint] = co_await stream.async_connect(endpoints, kToken);
  if (deadline) ec = deadline->Translate(ec);
  if (ec) {
    const std::string where = endpoints.size() == 1 ? FormatEndpoint(endpoints.front())
                                                    : endpoints.front().address().to_string();
    co_return Result<tcp::endpoint>::Error("connect " + where + ": " + ec.message());
  }
  co_return endpoint;
}

Result<TlsContext> MakeTlsContext(const TlsOptions& options) {
  auto ctx = std::make_shared<asio::ssl::context>(asio::ssl::context::tls_client);
  boost::system::error_code ec;
  if (!options.verify) {
    ctx->set_verify_mode(asio::ssl::verify_none);
  } else {
    ctx->set_verify_mode(asio::ssl::verify_peer);
    if (options.ca_file.empty()) {
      ctx->set_default_verify_paths(ec);
    } else {
      ctx->load_verify_file(options.ca_file, ec);
      if (ec) return Result<TlsContext>::Error("cannot load CA file " + options.ca_file);
    }
  }
  if (!options.cert_file.empty() || !options.key_file.empty()) {
    if (options.cert_file.empty() || options.key_file.empty()) {
      return Result<TlsContext>::Error("a client certificate needs both certFile and keyFile");
    }
    ctx->use_certificate_chain_file(options.cert_file, ec);
    if (ec) return Result<TlsContext>::Error("cannot load certificate " + options.cert_file);
    ctx->use_private_key_file(options.key_file, asio::ssl::context::pem, ec);
    if (ec) return Result<TlsContext>::Error("cannot load private key " + options.key_file);
  }
  return ctx;
}

Result<TlsContext> TlsContextCache::Get(const TlsOptions& options) {
  const bool files =
      !options.ca_file.empty() || !options.cert_file.empty() || !options.key_file.empty();
  if (files) return MakeTlsContext(options);
  TlsContext& slot = options.verify ? verifying_ : insecure_;
  if (!slot) {
    auto made = MakeTlsContext(options);
    if (!made.ok()) return made;
    slot = made.value();
  }
  return slot;
}

std::optional<TimePoint> PeerCertificateNotAfter(SSL* ssl) {
  X509* cert = SSL_get1_peer_certificate(ssl);
  if (!cert) return std::nullopt;
  std::tm tm{};
  const int ok = ASN1_TIME_to_tm(X509_get0_notAfter(cert), &tm);
  X509_free(cert);
  if (!ok) return std::nullopt;
  return FromUnixSeconds(static_cast<int64_t>(timegm(&tm)));
}

std::string FormatEndpoint(const tcp::endpoint& endpoint) {
  const auto addr = endpoint.address();
  const std::string host = addr.is_v6() ? "[" + addr.to_string() + "]" : FormatAddress(addr);
  return host + ":" + std::to_string(endpoint.port());
}

std::string FormatAddress(const asio::ip::address& address) {
  if (!address.is_v4()) return address.to_string();
  const auto bytes = address.to_v4().to_bytes();
  std::string out;
  out.reserve(15);
  for (size_t i = 0; i < bytes.size(); ++i) {
    if (i > 0) out.push_back('.');
    char digits[3];
    auto [end, ec] = std::to_chars(digits, digits + sizeof digits, bytes[i]);
    out.append(digits, end);
  }
  return out;
}

std::string DescribeNetError(const boost::system::error_code& ec, Duration timeout) {
  namespace beast = boost::beast;
  if (ec == beast::error::timeout || ec == asio::error::operation_aborted) {
    return "timed out after " + FormatGoDuration(timeout);
  }
  if (ec == beast::http::error::end_of_stream || ec == asio::error::eof) {
    return "connection closed by the peer";
  }
  std::string text = ec.message();
  if (ec.category() == asio::error::get_ssl_category()) {
    // OpenSSL's reason strings lack context; keep the library's text but say it is TLS.
    text = "TLS: " + text;
  }
  return text;
}

}  // namespace sonde
