#include "probe/http_probe.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core/buffers_range.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/serializer.hpp>
#include <boost/beast/http/string_body.hpp>
#include <boost/beast/ssl/ssl_stream.hpp>
#include <boost/url/parse.hpp>
#include <boost/url/url.hpp>
#include <cctype>
#include <optional>

#include "probe/registry.hpp"
#include "probe/tls_probe.hpp"
#include "sonde_version.hpp"

namespace sonde {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
namespace urls = boost::urls;
using tcp = asio::ip::tcp;
using Clock = std::chrono::steady_clock;
constexpr auto kToken = asio::as_tuple(asio::use_awaitable);
constexpr int kMaxRedirects = 10;

struct Target {
  bool tls = false;
  std::string host;  // without brackets
  uint16_t port = 0;
  std::string host_header;
  std::string path;  // "/x?y"
};

Result<Target> ParseTarget(const urls::url_view& url) {
  Target t;
  if (url.scheme_id() == urls::scheme::https) {
    t.tls = true;
  } else if (url.scheme_id() != urls::scheme::http) {
    return Result<Target>::Error("unsupported scheme \"" + std::string(url.scheme()) +
                                 "\" (want http or https)");
  }
  if (!url.has_authority() || url.encoded_host().empty()) {
    return Result<Target>::Error("the URL has no host");
  }
  t.host = url.host_address();
  t.port = url.has_port() ? url.port_number() : (t.tls ? 443 : 80);
  if (t.port == 0) return Result<Target>::Error("the URL's port must be 1 to 65535");
  t.host_header = url.encoded_host_and_port();
  t.path = url.encoded_target();
  if (t.path.empty() || t.path.front() != '/') t.path.insert(0, "/");
  return t;
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

bool IsRedirect(int status) {
  return status == 301 || status == 302 || status == 303 || status == 307 || status == 308;
}

// The request's bytes, exactly as Beast serializes the message (what the probe sent before it
// built them once per target instead of once per run).
std::string SerializeRequest(const HttpProbeConfig& config, const Target& t,
                             const std::string& method, const std::string& body) {
  const http::verb verb = http::string_to_verb(method);
  http::request<http::string_body> request{verb, t.path, 11};
  request.set(http::field::host, t.host_header);
  request.set(http::field::user_agent, "sonde/" SONDE_VERSION);
  request.set(http::field::accept, "*/*");
  request.set(http::field::connection, "close");
  for (const auto& [name, value] : config.headers) request.set(name, value);
  if (verb == http::verb::unknown) request.method_string(method);
  if (!body.empty()) request.body() = body;
  request.prepare_payload();
  http::request_serializer<http::string_body> serializer(request);
  std::string out;
  beast::error_code ec;
  while (!ec && !serializer.is_done()) {
    serializer.next(ec, [&](beast::error_code&, const auto& buffers) {
      size_t n = 0;
      for (const auto b : beast::buffers_range_ref(buffers)) {
        out.append(static_cast<const char*>(b.data()), b.size());
        n += b.size();
      }
      serializer.consume(n);
    });
  }
  return out;
}

// Keeps of a response what a probe uses (status, Location, body), where http::response_parser
// would also store every header field in a fields container on each run. Bounds as the
// string body did: `body_limit` on the parser, and the length reserved when it is announced.
class ResponseParser final : public http::basic_parser<false> {
 public:
  int status = 0;
  std::string location;  // the first Location field
  std::string body;

 private:
  void on_request_impl(http::verb, beast::string_view, beast::string_view, int,
                       beast::error_code&) override {}
  void on_response_impl(int code, beast::string_view, int, beast::error_code&) override {
    status = code;
  }
  void on_field_impl(http::field name, beast::string_view, beast::string_view value,
                     beast::error_code&) override {
    if (name == http::field::location && location.empty()) location.assign(value);
  }
  void on_header_impl(beast::error_code&) override {}
  void on_body_init_impl(const boost::optional<std::uint64_t>& length,
                         beast::error_code&) override {
    if (length) body.reserve(static_cast<size_t>(*length));  // within body_limit by now
  }
  size_t on_body_impl(beast::string_view data, beast::error_code&) override {
    body.append(data.data(), data.size());
    return data.size();
  }
  void on_chunk_header_impl(std::uint64_t, beast::string_view, beast::error_code&) override {}
  size_t on_chunk_body_impl(std::uint64_t, beast::string_view data, beast::error_code&) override {
    body.append(data.data(), data.size());
    return data.size();
  }
  void on_finish_impl(beast::error_code&) override {}
};

// One hop of a run: where to connect and what to send.
struct Hop {
  Target target;
  std::string request;
};

class HttpProbe final : public Probe {
 public:
  HttpProbe(HttpProbeConfig config, TlsContext tls, urls::url url, struct Target target)
      : config_(std::move(config)),
        tls_(tls),
        url_(std::move(url)),
        first_{target, SerializeRequest(config_, target, config_.method, config_.body)} {}

  asio::awaitable<Observation> Run(Duration timeout) const override {
    const auto start = Clock::now();
    ProbeDeadline deadline(co_await asio::this_coro::executor, DeadlineAfter(timeout));
    Observation out;
    // The first hop is prepared once per probe; only a redirect builds its own.
    const Hop* hop = &first_;
    std::optional<Hop> next;
    std::optional<urls::url> url;  // after a redirect
    std::string method = config_.method;
    std::string body;  // after a redirect; before it, config_.body
    for (int hops = 0;; ++hops) {
      std::string location;
      std::string error = co_await Exchange(*hop, deadline, timeout, out, location);
      const auto where = [&] {
        return method + " " + std::string(url ? url->buffer() : url_.buffer());
      };
      if (!error.empty()) {
        out.error = where() + ": " + error;
        out.connected = false;
        break;
      }
      if (!config_.follow_redirects || !IsRedirect(out.status) || location.empty()) break;
      if (hops == kMaxRedirects) {
        out.error = where() + ": stopped after " + std::to_string(kMaxRedirects) + " redirects";
        break;
      }
      if (!url) {
        url = url_;
        body = config_.body;
      }
      auto ref = urls::parse_uri_reference(location);
      urls::url resolved = *url;
      if (!ref || !resolved.resolve(*ref)) {
        out.error = where() + ": bad redirect Location \"" + location + "\"";
        break;
      }
      url = std::move(resolved);
      // As browsers and Go: 303 always, and 301/302 after a POST, continue as GET.
      if (out.status == 303 || (method == "POST" && out.status <= 302)) {
        method = "GET";
        body.clear();
      }
      auto target = ParseTarget(*url);
      if (!target.ok()) {
        out.error = where() + ": " + target.error();
        out.connected = false;
        break;
      }
      next = Hop{target.value(), SerializeRequest(config_, target.value(), method, body)};
      hop = &*next;
    }
    out.response_time = Clock::now() - start;
    co_return out;
  }

  std::string Target() const override { return config_.method + " " + config_.url; }

 private:
  // One request/response on a fresh connection. Returns an error message, or "" after filling
  // `out` (status, body, ip, certificate) and `location` (a redirect's target).
  asio::awaitable<std::string> Exchange(const Hop& hop, ProbeDeadline& deadline, Duration timeout,
                                        Observation& out, std::string& location) const {
    const struct Target& t = hop.target;
    auto endpoints = co_await Resolve(t.host, t.port, config_.family, deadline.expiry());
    if (!endpoints.ok()) co_return endpoints.error();

    beast::tcp_stream tcp_stream(co_await asio::this_coro::executor);
    ProbeDeadline::Watching watching(deadline, tcp_stream.socket());
    auto connected = co_await Connect(tcp_stream, endpoints.value(), &deadline);
    if (!connected.ok()) co_return connected.error();
    out.ip = FormatAddress(connected.value().address());

    ResponseParser parser;
    parser.body_limit(config_.max_body_bytes);
    parser.header_limit(64 * 1024);
    beast::flat_buffer buffer;
    beast::error_code ec;
    const auto request = asio::buffer(hop.request);
    if (!t.tls) {
      std::tie(ec, std::ignore) = co_await asio::async_write(tcp_stream, request, kToken);
      if (!ec)
        std::tie(ec, std::ignore) = co_await http::async_read(tcp_stream, buffer, parser, kToken);
    } else {
      beast::ssl_stream<beast::tcp_stream> stream(std::move(tcp_stream), *tls_);
      watching.Switch(beast::get_lowest_layer(stream).socket());
      const std::string name = config_.tls.server_name.empty() ? t.host : config_.tls.server_name;
      ConfigureTlsPeerName(stream.native_handle(), name, config_.tls.verify);
      std::tie(ec) = co_await stream.async_handshake(asio::ssl::stream_base::client, kToken);
      out.certificate_not_after = PeerCertificateNotAfter(stream.native_handle());
      ec = deadline.Translate(ec);
      if (ec) co_return DescribeHandshakeError(stream.native_handle(), ec, timeout);
      std::tie(ec, std::ignore) = co_await asio::async_write(stream, request, kToken);
      if (!ec)
        std::tie(ec, std::ignore) = co_await http::async_read(stream, buffer, parser, kToken);
    }
    ec = deadline.Translate(ec);
    if (ec == http::error::body_limit) {
      co_return "the response body is larger than " + std::to_string(config_.max_body_bytes) +
          " bytes";
    }
    if (ec) co_return DescribeNetError(ec, timeout);
    out.connected = true;
    out.status = parser.status;
    location = std::move(parser.location);
    out.body = std::move(parser.body);
    co_return "";
  }

  HttpProbeConfig config_;
  TlsContext tls_;
  urls::url url_;  // config_.url, parsed
  Hop first_;
};

void ReadTls(const config_internal::MapView& m, TlsOptions& tls) {
  static constexpr std::string_view kKeys[] = {"insecureSkipVerify", "caFile", "certFile",
                                               "keyFile", "serverName"};
  m.RejectUnknown(kKeys);
  ReadTlsOptions(m, tls);
}

std::shared_ptr<const Probe> ParseHttp(const config_internal::MapView& m, TlsContextCache& tls) {
  using namespace config_internal;
  static constexpr std::string_view kKeys[] = {
      "url", "method", "headers", "body", "followRedirects", "tls", "ipFamily", "maxBodyBytes"};
  m.RejectUnknown(kKeys);
  const size_t errors = m.sink().count();
  HttpProbeConfig config;
  const YAML::Node* url = m.Get("url");
  if (url) {
    config.url = ReadString(*url, m.Path("url"), m.sink()).value_or("");
  } else {
    m.sink().Add(m.node(), m.Path("url"), "is required, e.g. http://127.0.0.1:8080/health");
  }
  if (const YAML::Node* v = m.Get("method")) {
    config.method = ReadString(*v, m.Path("method"), m.sink()).value_or("GET");
    if (!IsToken(config.method)) m.sink().Add(*v, m.Path("method"), "is not an HTTP method");
  }
  if (const YAML::Node* v = m.Get("headers")) {
    auto headers = ReadStringMap(*v, m.Path("headers"), m.sink());
    for (auto& [k, val] : headers ? *headers : std::map<std::string, std::string>{}) {
      if (!IsToken(k) || val.find_first_of("\r\n") != std::string::npos) {
        m.sink().Add(*v, m.Path("headers") + "." + k, "is not a valid header");
      }
      config.headers.emplace_back(k, val);
    }
  }
  if (const YAML::Node* v = m.Get("body")) {
    config.body = ReadString(*v, m.Path("body"), m.sink()).value_or("");
  }
  if (const YAML::Node* v = m.Get("followRedirects")) {
    config.follow_redirects = ReadBool(*v, m.Path("followRedirects"), m.sink()).value_or(true);
  }
  if (const YAML::Node* v = m.Get("tls")) {
    if (v->IsMap()) {
      ReadTls(MapView(*v, m.Path("tls"), m.sink()), config.tls);
    } else {
      m.sink().Add(*v, m.Path("tls"), "must be a mapping, found " + Describe(*v));
    }
  }
  if (const YAML::Node* v = m.Get("ipFamily")) {
    static constexpr std::string_view kFamilies[] = {"any", "ip4", "ip6"};
    config.family =
        *ParseIpFamily(ReadEnum(*v, m.Path("ipFamily"), kFamilies, m.sink()).value_or("any"));
  }
  if (const YAML::Node* v = m.Get("maxBodyBytes")) {
    config.max_body_bytes =
        static_cast<size_t>(ReadInt(*v, m.Path("maxBodyBytes"), 1, m.sink()).value_or(1));
  }
  if (m.sink().count() != errors) return nullptr;
  auto context = tls.Get(config.tls);
  if (!context.ok()) {
    m.sink().Add(*m.Get("tls"), m.Path("tls"), context.error());
    return nullptr;
  }
  config.tls_context = context.value();
  auto probe = MakeHttpProbe(std::move(config));
  if (!probe.ok()) {
    m.sink().Add(url ? *url : m.node(), m.path(), probe.error());
    return nullptr;
  }
  return probe.value();
}

}  // namespace

Result<std::shared_ptr<const Probe>> MakeHttpProbe(HttpProbeConfig config) {
  using Out = Result<std::shared_ptr<const Probe>>;
  auto url = urls::parse_uri(config.url);
  if (!url) {
    // Boost.URL's own messages ("mismatch") do not help a user; say what a URL looks like.
    return Out::Error("invalid URL \"" + config.url +
                      "\": want http://host[:port]/path or https://...");
  }
  auto target = ParseTarget(*url);
  if (!target.ok()) return Out::Error(target.error());
  // Redirects may lead from http to https, so every probe gets a context.
  TlsContext tls = config.tls_context;
  if (!tls) {
    auto made = MakeTlsContext(config.tls);
    if (!made.ok()) return Out::Error(made.error());
    tls = made.value();
  }
  return std::shared_ptr<const Probe>(
      std::make_shared<HttpProbe>(std::move(config), tls, urls::url(*url), target.value()));
}

void RegisterHttpProbe(ProbeRegistry& registry) {
  registry.Add(ProbeKind{
      .name = "http",
      .placeholders = {Placeholder::kStatus, Placeholder::kBody, Placeholder::kResponseTime,
                       Placeholder::kConnected, Placeholder::kIp,
                       Placeholder::kCertificateExpiration},
      .default_conditions = {"[STATUS] == 2xx"},
      .parse = ParseHttp,
  });
}

}  // namespace sonde
