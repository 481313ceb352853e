#include "probe/dns_probe.hpp"

#include <ldns/ldns.h>

#include <algorithm>
#include <array>
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/experimental/awaitable_operators.hpp>
#include <boost/asio/ip/udp.hpp>
#include <boost/asio/read.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>
#include <cctype>
#include <cstdlib>
#include <fstream>
#include <sstream>

#include "probe/registry.hpp"

namespace sonde {
namespace {

namespace asio = boost::asio;
using tcp = asio::ip::tcp;
using udp = asio::ip::udp;
using Clock = std::chrono::steady_clock;
constexpr auto kToken = asio::as_tuple(asio::use_awaitable);
// The largest DNS message over either transport (TCP's length prefix is 16 bits).
constexpr size_t kMaxMessage = 65535;

struct RecordType {
  std::string_view name;
  ldns_rr_type type;
};
constexpr RecordType kTypes[] = {
    {"A", LDNS_RR_TYPE_A},     {"AAAA", LDNS_RR_TYPE_AAAA}, {"CNAME", LDNS_RR_TYPE_CNAME},
    {"MX", LDNS_RR_TYPE_MX},   {"NS", LDNS_RR_TYPE_NS},     {"TXT", LDNS_RR_TYPE_TXT},
    {"PTR", LDNS_RR_TYPE_PTR}, {"SRV", LDNS_RR_TYPE_SRV},   {"SOA", LDNS_RR_TYPE_SOA},
};
constexpr std::string_view kTypeNames[] = {"A",   "AAAA", "CNAME", "MX", "NS",
                                           "TXT", "PTR",  "SRV",   "SOA"};

// ldns hands out C objects; these own them.
struct PktFree {
  void operator()(ldns_pkt* p) const { ldns_pkt_free(p); }
};
using PktPtr = std::unique_ptr<ldns_pkt, PktFree>;
struct CFree {
  void operator()(void* p) const { std::free(p); }  // NOLINT: ldns allocates with malloc
};
std::string TakeString(char* s) {
  std::unique_ptr<char, CFree> owned(s);
  return s ? std::string(s) : std::string();
}

std::string Upper(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  return out;
}

std::optional<ldns_rr_type> FindType(std::string_view name) {
  const std::string upper = Upper(name);
  for (const RecordType& t : kTypes) {
    if (t.name == upper) return t.type;
  }
  return std::nullopt;
}

// A name rdf or an address rdf as presentation text ("a.example.test.", "127.0.0.1").
std::string RdfText(const ldns_rr* rr, size_t i) {
  if (ldns_rr_rd_count(rr) <= i) return "";
  return TakeString(ldns_rdf2str(ldns_rr_rdf(rr, i)));
}

// TXT character-strings are length-prefixed; joined unquoted, as the publisher wrote them.
std::string TxtText(const ldns_rr* rr) {
  std::string out;
  for (size_t i = 0; i < ldns_rr_rd_count(rr); ++i) {
    const ldns_rdf* rdf = ldns_rr_rdf(rr, i);
    const uint8_t* data = ldns_rdf_data(rdf);
    const size_t size = ldns_rdf_size(rdf);
    if (size == 0) continue;
    const size_t len = std::min<size_t>(data[0], size - 1);
    out.append(reinterpret_cast<const char*>(data + 1), len);
  }
  return out;
}

std::string AnswerText(const ldns_rr* rr, ldns_rr_type type) {
  switch (type) {
    case LDNS_RR_TYPE_MX:
      return RdfText(rr, 1);
    case LDNS_RR_TYPE_SRV:
      return RdfText(rr, 3) + ":" + RdfText(rr, 2);
    case LDNS_RR_TYPE_TXT:
      return TxtText(rr);
    default:  // A, AAAA, CNAME, NS, PTR: the one rdf; SOA: the first, the primary server
      return RdfText(rr, 0);
  }
}

struct Query {
  std::vector<uint8_t> wire;
  uint16_t id = 0;
};

Result<Query> BuildQuery(const std::string& name, ldns_rr_type type) {
  ldns_pkt* raw = nullptr;
  const ldns_status st =
      ldns_pkt_query_new_frm_str(&raw, name.c_str(), type, LDNS_RR_CLASS_IN, LDNS_RD);
  PktPtr pkt(raw);
  if (st != LDNS_STATUS_OK) {
    return Result<Query>::Error("invalid name \"" + name + "\": " + ldns_get_errorstr_by_id(st));
  }
  ldns_pkt_set_random_id(pkt.get());
  uint8_t* wire = nullptr;
  size_t size = 0;
  if (ldns_pkt2wire(&wire, pkt.get(), &size) != LDNS_STATUS_OK) {
    return Result<Query>::Error("cannot encode a query for \"" + name + "\"");
  }
  std::unique_ptr<uint8_t, CFree> owned(wire);
  return Query{std::vector<uint8_t>(wire, wire + size), ldns_pkt_id(pkt.get())};
}

// A parsed reply to query `id`; nullptr (and `why`) when the bytes are no such reply.
PktPtr ParseReply(const uint8_t* data, size_t size, uint16_t id, std::string& why) {
  ldns_pkt* raw = nullptr;
  const ldns_status st = ldns_wire2pkt(&raw, data, size);
  PktPtr pkt(raw);
  if (st != LDNS_STATUS_OK) {
    why = std::string("malformed reply: ") + ldns_get_errorstr_by_id(st);
    return nullptr;
  }
  if (!ldns_pkt_qr(pkt.get()) || ldns_pkt_id(pkt.get()) != id) {
    why = "a reply to another query";
    return nullptr;
  }
  return pkt;
}

class DnsProbe final : public Probe {
 public:
  DnsProbe(DnsProbeConfig config, HostPort server, ldns_rr_type type)
      : config_(std::move(config)), server_(std::move(server)), type_(type) {
    const bool v6 = server_.host.find(':') != std::string::npos;
    server_text_ =
        (v6 ? "[" + server_.host + "]" : server_.host) + ":" + std::to_string(server_.port);
  }

  asio::awaitable<Observation> Run(Duration timeout) const override {
    const auto start = Clock::now();
    const auto deadline = DeadlineAfter(timeout);
    Observation out;
    std::string error = co_await Exchange(deadline, timeout, out);
    if (!error.empty()) {
      out.error = Target() + ": " + error;
      out.connected = false;
    }
    out.response_time = Clock::now() - start;
    co_return out;
  }

  std::string Target() const override {
    return Upper(config_.type) + " " + config_.name + " @" + server_text_;
  }

 private:
  // Returns an error, or "" after filling `out` from the reply.
  asio::awaitable<std::string> Exchange(Clock::time_point deadline, Duration timeout,
                                        Observation& out) const {
    auto query = BuildQuery(config_.name, type_);
    if (!query.ok()) co_return query.error();
    auto endpoints = co_await Resolve(server_.host, server_.port, IpFamily::kAny, deadline);
    if (!endpoints.ok()) co_return endpoints.error();
    const tcp::endpoint server = endpoints.value().front();
    out.ip = server.address().to_string();

    std::vector<uint8_t> reply;
    std::string error;
    bool over_tcp = config_.tcp;
    if (!over_tcp) {
      error = co_await ExchangeUdp(server, query.value(), deadline, timeout, reply);
      if (!error.empty()) co_return error;
      std::string why;
      PktPtr pkt = ParseReply(reply.data(), reply.size(), query.value().id, why);
      // A truncated answer is incomplete: ask again over TCP, as resolvers do.
      over_tcp = pkt && ldns_pkt_tc(pkt.get());
    }
    if (over_tcp) {
      error = co_await ExchangeTcp(endpoints.value(), query.value(), deadline, timeout, reply);
      if (!error.empty()) co_return error;
    }
    std::string why;
    PktPtr pkt = ParseReply(reply.data(), reply.size(), query.value().id, why);
    if (!pkt) co_return why;
    out.connected = true;
    out.dns_rcode = TakeString(ldns_pkt_rcode2str(ldns_pkt_get_rcode(pkt.get())));
    const ldns_rr_list* answers = ldns_pkt_answer(pkt.get());
    for (size_t i = 0; answers && i < ldns_rr_list_rr_count(answers); ++i) {
      const ldns_rr* rr = ldns_rr_list_rr(answers, i);
      if (ldns_rr_get_type(rr) != type_) continue;  // e.g. the CNAMEs before an A
      out.dns_answers.push_back(AnswerText(rr, type_));
    }
    for (const std::string& a : out.dns_answers) {
      out.body += (out.body.empty() ? "" : ", ") + a;
    }
    co_return "";
  }

  // Sends the query and waits for the datagram that answers it (ignoring strays) until
  // `deadline`. A closed UDP port shows as "Connection refused" through ICMP.
  asio::awaitable<std::string> ExchangeUdp(const tcp::endpoint& server, const Query& query,
                                           Clock::time_point deadline, Duration timeout,
                                           std::vector<uint8_t>& reply) const {
    using namespace asio::experimental::awaitable_operators;
    auto executor = co_await asio::this_coro::executor;
    udp::socket socket(executor);
    const udp::endpoint peer(server.address(), server.port());
    boost::system::error_code ec;
    socket.open(peer.protocol(), ec);
    if (!ec) socket.connect(peer, ec);
    if (!ec)
      std::tie(ec, std::ignore) = co_await socket.async_send(asio::buffer(query.wire), kToken);
    if (ec) co_return DescribeNetError(ec, timeout);
    reply.resize(kMaxMessage);
    asio::steady_timer timer(executor, deadline);
    for (;;) {
      auto raced =
          co_await (socket.async_receive(asio::buffer(reply), kToken) || timer.async_wait(kToken));
      if (raced.index() == 1) co_return "timed out after " + FormatGoDuration(timeout);
      auto [rec, n] = std::get<0>(raced);
      if (rec) co_return DescribeNetError(rec, timeout);
      std::string why;
      if (ParseReply(reply.data(), n, query.id, why)) {
        reply.resize(n);
        co_return "";
      }
    }
  }

  // RFC 1035 4.2.2: each message is preceded by its 16-bit length.
  asio::awaitable<std::string> ExchangeTcp(const std::vector<tcp::endpoint>& endpoints,
                                           const Query& query, Clock::time_point deadline,
                                           Duration timeout, std::vector<uint8_t>& reply) const {
    auto executor = co_await asio::this_coro::executor;
    // One timer for the exchange, not Beast's per connect, write and read (see ProbeDeadline).
    ProbeDeadline run_deadline(executor, deadline);
    boost::beast::tcp_stream stream(executor);
    ProbeDeadline::Watching watching(run_deadline, stream.socket());
    auto connected = co_await Connect(stream, endpoints, &run_deadline);
    if (!connected.ok()) co_return "TCP: " + connected.error();
    std::vector<uint8_t> framed;
    framed.reserve(query.wire.size() + 2);
    framed.push_back(static_cast<uint8_t>(query.wire.size() >> 8));
    framed.push_back(static_cast<uint8_t>(query.wire.size() & 0xff));
    framed.insert(framed.end(), query.wire.begin(), query.wire.end());
    auto [wec, written] = co_await asio::async_write(stream, asio::buffer(framed), kToken);
    wec = run_deadline.Translate(wec);
    if (wec) co_return "TCP: " + DescribeNetError(wec, timeout);
    std::array<uint8_t, 2> length{};
    auto [lec, got] = co_await asio::async_read(stream, asio::buffer(length), kToken);
    lec = run_deadline.Translate(lec);
    if (lec) co_return "TCP: " + DescribeNetError(lec, timeout);
    reply.resize((size_t{length[0]} << 8) | length[1]);
    auto [rec, n] = co_await asio::async_read(stream, asio::buffer(reply), kToken);
    rec = run_deadline.Translate(rec);
    if (rec) co_return "TCP: " + DescribeNetError(rec, timeout);
    co_return "";
  }

  DnsProbeConfig config_;
  HostPort server_;
  std::string server_text_;
  ldns_rr_type type_;
};

// "host", "host:port", "[v6]:port" or a bare IPv6 address; port 53 when absent.
Result<HostPort> ParseServer(const std::string& text) {
  boost::system::error_code ec;
  asio::ip::make_address(text, ec);
  if (!ec) return HostPort{text, 53};  // an IP literal, including bare IPv6
  if (text.find(':') == std::string::npos) return HostPort{text, 53};
  return ParseHostPort(text);
}

std::shared_ptr<const Probe> ParseDns(const config_internal::MapView& m, TlsContextCache&) {
  using namespace config_internal;
  static constexpr std::string_view kKeys[] = {"name", "type", "server", "transport"};
  m.RejectUnknown(kKeys);
  const size_t errors = m.sink().count();
  DnsProbeConfig config;
  const YAML::Node* name = m.Get("name");
  if (name) {
    config.name = ReadString(*name, m.Path("name"), m.sink()).value_or("");
  } else {
    m.sink().Add(m.node(), m.Path("name"), "is required, e.g. example.com");
  }
  if (const YAML::Node* v = m.Get("type")) {
    config.type = ReadEnum(*v, m.Path("type"), kTypeNames, m.sink()).value_or("A");
  }
  if (const YAML::Node* v = m.Get("server")) {
    config.server = ReadString(*v, m.Path("server"), m.sink()).value_or("");
  }
  if (const YAML::Node* v = m.Get("transport")) {
    static constexpr std::string_view kTransports[] = {"udp", "tcp"};
    config.tcp = ReadEnum(*v, m.Path("transport"), kTransports, m.sink()).value_or("udp") == "tcp";
  }
  if (m.sink().count() != errors) return nullptr;
  auto probe = MakeDnsProbe(std::move(config));
  if (!probe.ok()) {
    m.sink().Add(name ? *name : m.node(), m.path(), probe.error());
    return nullptr;
  }
  return probe.value();
}

}  // namespace

std::span<const std::string_view> DnsRecordTypes() { return kTypeNames; }

Result<std::string> FirstNameserver(const std::string& resolv_conf) {
  std::ifstream in(resolv_conf);
  if (!in) return Result<std::string>::Error("cannot read " + resolv_conf);
  std::string line;
  // Bounded: resolv.conf is a few lines; stop after a generous number of them.
  for (int n = 0; n < 10'000 && std::getline(in, line); ++n) {
    std::istringstream words(line);
    std::string key, value;
    if (!(words >> key >> value) || key != "nameserver") continue;
    boost::system::error_code ec;
    const auto addr = asio::ip::make_address(value.substr(0, value.find('%')), ec);
    if (ec) continue;
    return addr.is_v6() ? "[" + value + "]:53" : value + ":53";
  }
  return Result<std::string>::Error(resolv_conf + " names no nameserver");
}

Result<std::shared_ptr<const Probe>> MakeDnsProbe(DnsProbeConfig config) {
  using Out = Result<std::shared_ptr<const Probe>>;
  if (config.name.empty()) return Out::Error("the name to query is empty");
  const auto type = FindType(config.type);
  if (!type) {
    return Out::Error("unsupported record type \"" + config.type +
                      "\" (want A, AAAA, CNAME, MX, NS, TXT, PTR, SRV or SOA)");
  }
  if (auto query = BuildQuery(config.name, *type); !query.ok()) return Out::Error(query.error());
  std::string server = config.server;
  if (server.empty()) {
    auto first = FirstNameserver();
    if (!first.ok()) return Out::Error("no server given and " + first.error());
    server = first.value();
  }
  auto hp = ParseServer(server);
  if (!hp.ok()) return Out::Error("server: " + hp.error());
  return std::shared_ptr<const Probe>(
      std::make_shared<DnsProbe>(std::move(config), std::move(hp).value(), *type));
}

void RegisterDnsProbe(ProbeRegistry& registry) {
  registry.Add(ProbeKind{
      .name = "dns",
      .placeholders = {Placeholder::kDnsRcode, Placeholder::kDnsAnswers, Placeholder::kBody,
                       Placeholder::kConnected, Placeholder::kResponseTime, Placeholder::kIp},
      .default_conditions = {"[DNS_RCODE] == NOERROR"},
      .parse = ParseDns,
  });
}

}  // namespace sonde
