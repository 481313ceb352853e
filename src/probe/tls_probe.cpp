#include "probe/tls_probe.hpp"

#include <openssl/ssl.h>
#include <openssl/x509v3.h>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/ssl/ssl_stream.hpp>

#include "probe/registry.hpp"

namespace sonde {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
using Clock = std::chrono::steady_clock;
constexpr auto kToken = asio::as_tuple(asio::use_awaitable);

class TlsProbe final : public Probe {
 public:
  TlsProbe(TlsProbeConfig config, TlsContext ctx)
      : config_(std::move(config)), ctx_(std::move(ctx)) {}

  asio::awaitable<Observation> Run(Duration timeout) const override {
    const auto start = Clock::now();
    const auto deadline = DeadlineAfter(timeout);
    Observation out;
    if (std::string error = co_await Handshake(deadline, timeout, out); !error.empty()) {
      out.error = Target() + ": " + error;
      out.connected = false;
    }
    out.response_time = Clock::now() - start;
    co_return out;
  }

  std::string Target() const override {
    const bool v6 = config_.host.find(':') != std::string::npos;
    return "tls://" + (v6 ? "[" + config_.host + "]" : config_.host) + ":" +
           std::to_string(config_.port);
  }

 private:
  asio::awaitable<std::string> Handshake(Clock::time_point deadline, Duration timeout,
                                         Observation& out) const {
    auto endpoints = co_await Resolve(config_.host, config_.port, config_.family, deadline);
    if (!endpoints.ok()) co_return endpoints.error();
    auto executor = co_await asio::this_coro::executor;
    // One timer for the run, not Beast's per connect and handshake step (see ProbeDeadline).
    ProbeDeadline run_deadline(executor, deadline);
    beast::tcp_stream tcp_stream(executor);
    ProbeDeadline::Watching watching(run_deadline, tcp_stream.socket());
    auto connected = co_await Connect(tcp_stream, endpoints.value(), &run_deadline);
    if (!connected.ok()) co_return connected.error();
    out.ip = connected.value().address().to_string();

    beast::ssl_stream<beast::tcp_stream> stream(std::move(tcp_stream), *ctx_);
    watching.Switch(beast::get_lowest_layer(stream).socket());
    const std::string& name =
        config_.tls.server_name.empty() ? config_.host : config_.tls.server_name;
    ConfigureTlsPeerName(stream.native_handle(), name, config_.tls.verify);
    auto [ec] = co_await stream.async_handshake(asio::ssl::stream_base::client, kToken);
    // The certificate is read even when verification failed, so that a message about an
    // expired certificate can still say when it expired.
    out.certificate_not_after = PeerCertificateNotAfter(stream.native_handle());
    ec = run_deadline.Translate(ec);
    if (ec) co_return DescribeHandshakeError(stream.native_handle(), ec, timeout);
    out.connected = true;
    // A polite close_notify is not awaited: the probe's answer is the handshake, and a
    // peer that never answers the shutdown must not cost the probe its deadline.
    co_return "";
  }

  TlsProbeConfig config_;
  TlsContext ctx_;
};

std::shared_ptr<const Probe> ParseTls(const config_internal::MapView& m, TlsContextCache& tls) {
  using namespace config_internal;
  static constexpr std::string_view kKeys[] = {
      "address", "insecureSkipVerify", "caFile", "certFile", "keyFile", "serverName", "ipFamily"};
  m.RejectUnknown(kKeys);
  const size_t errors = m.sink().count();
  TlsProbeConfig config;
  const YAML::Node* address = m.Get("address");
  if (address) {
    if (auto text = ReadString(*address, m.Path("address"), m.sink())) {
      auto hp = ParseHostPort(*text);
      if (!hp.ok()) {
        m.sink().Add(*address, m.Path("address"), hp.error());
      } else {
        config.host = hp.value().host;
        config.port = hp.value().port;
      }
    }
  } else {
    m.sink().Add(m.node(), m.Path("address"), "is required, e.g. example.com:443");
  }
  ReadTlsOptions(m, config.tls);
  if (const YAML::Node* v = m.Get("ipFamily")) {
    static constexpr std::string_view kFamilies[] = {"any", "ip4", "ip6"};
    config.family =
        *ParseIpFamily(ReadEnum(*v, m.Path("ipFamily"), kFamilies, m.sink()).value_or("any"));
  }
  if (m.sink().count() != errors) return nullptr;
  auto context = tls.Get(config.tls);
  if (!context.ok()) {
    m.sink().Add(address ? *address : m.node(), m.path(), context.error());
    return nullptr;
  }
  config.tls_context = context.value();
  auto probe = MakeTlsProbe(std::move(config));
  if (!probe.ok()) {
    m.sink().Add(address ? *address : m.node(), m.path(), probe.error());
    return nullptr;
  }
  return probe.value();
}

}  // namespace

void ReadTlsOptions(const config_internal::MapView& m, TlsOptions& out) {
  using namespace config_internal;
  if (const YAML::Node* v = m.Get("insecureSkipVerify")) {
    out.verify = !ReadBool(*v, m.Path("insecureSkipVerify"), m.sink()).value_or(false);
  }
  const std::string& file = m.sink().file();
  const std::string dir =
      file.rfind('/') == std::string::npos ? "" : file.substr(0, file.rfind('/') + 1);
  for (auto [key, field] :
       {std::pair{"caFile", &out.ca_file}, std::pair{"certFile", &out.cert_file},
        std::pair{"keyFile", &out.key_file}}) {
    if (const YAML::Node* v = m.Get(key)) {
      *field = ReadString(*v, m.Path(key), m.sink()).value_or("");
      if (!field->empty() && field->front() != '/') *field = dir + *field;
    }
  }
  if (const YAML::Node* v = m.Get("serverName")) {
    out.server_name = ReadString(*v, m.Path("serverName"), m.sink()).value_or("");
  }
}

void ConfigureTlsPeerName(SSL* ssl, const std::string& name, bool verify) {
  boost::system::error_code not_ip;
  asio::ip::make_address(name, not_ip);
  if (not_ip) SSL_set_tlsext_host_name(ssl, name.c_str());  // SNI carries names only
  if (!verify) return;
  X509_VERIFY_PARAM* param = SSL_get0_param(ssl);
  X509_VERIFY_PARAM_set_hostflags(param, X509_CHECK_FLAG_NO_PARTIAL_WILDCARDS);
  if (not_ip) {
    X509_VERIFY_PARAM_set1_host(param, name.c_str(), name.size());
  } else {
    X509_VERIFY_PARAM_set1_ip_asc(param, name.c_str());
  }
}

std::string DescribeHandshakeError(SSL* ssl, const boost::system::error_code& ec,
                                   Duration timeout) {
  const long verify = SSL_get_verify_result(ssl);
  if (verify != X509_V_OK && ec.category() == asio::error::get_ssl_category()) {
    return std::string("TLS handshake: certificate verify failed: ") +
           X509_verify_cert_error_string(verify);
  }
  const std::string text = DescribeNetError(ec, timeout);
  return "TLS handshake: " + (text.starts_with("TLS: ") ? text.substr(5) : text);
}

Result<std::shared_ptr<const Probe>> MakeTlsProbe(TlsProbeConfig config) {
  using Out = Result<std::shared_ptr<const Probe>>;
  if (config.host.empty()) return Out::Error("the host is empty");
  if (config.port == 0) return Out::Error("the port must be 1 to 65535");
  TlsContext ctx = config.tls_context;
  if (!ctx) {
    auto made = MakeTlsContext(config.tls);
    if (!made.ok()) return Out::Error(made.error());
    ctx = made.value();
  }
  return std::shared_ptr<const Probe>(std::make_shared<TlsProbe>(std::move(config), ctx));
}

void RegisterTlsProbe(ProbeRegistry& registry) {
  registry.Add(ProbeKind{
      .name = "tls",
      .placeholders = {Placeholder::kConnected, Placeholder::kCertificateExpiration,
                       Placeholder::kResponseTime, Placeholder::kIp},
      .default_conditions = {"[CONNECTED] == true"},
      .parse = ParseTls,
  });
}

}  // namespace sonde
