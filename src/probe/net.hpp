// Network plumbing shared by the probe kinds: resolving a host with a deadline and an address
// family, connecting a stream, TLS contexts built from options (CA file, client certificate,
// verification on or off) and reading what a TLS peer presented.
//
// Thread safety: the coroutines run on the caller's executor; a TlsContext is immutable after
// MakeTlsContext and may be shared by every connection on one thread.
// Failure: never throws for network errors; they come back as messages that name the target.
#pragma once

#include <boost/asio/awaitable.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl/context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "core/result.hpp"
#include "core/time.hpp"

namespace sonde {

enum class IpFamily { kAny, kV4, kV6 };

// "any", "ip4", "ip6" (also "ipv4"/"ipv6"); nullopt otherwise.
std::optional<IpFamily> ParseIpFamily(std::string_view text);

// host:port with IPv6 hosts in brackets ("[::1]:53"). Error when the port is missing or not a
// number in 1..65535.
struct HostPort {
  std::string host;
  uint16_t port = 0;
};
Result<HostPort> ParseHostPort(std::string_view text);

// The addresses of `host` in `family`, IP literals without asking the resolver. Finishes by
// `deadline` (steady clock); errors read "resolve example.test: Host not found".
boost::asio::awaitable<Result<std::vector<boost::asio::ip::tcp::endpoint>>> Resolve(
    std::string host, uint16_t port, IpFamily family,
    std::chrono::steady_clock::time_point deadline);

// One timer for a whole probe run. When `deadline` passes it closes the socket it watches, so
// the operation pending on it ends at once, as a beast::tcp_stream's own expiry would, without
// arming and cancelling a timer for every read, write and connect. Errors that follow are
// reported as beast::error::timeout (Translate), so messages read as with a stream expiry.
// Not thread-safe: used by one coroutine on one executor. The socket must stay watched only
// while it lives (Watching does both).
class ProbeDeadline {
 public:
  ProbeDeadline(const boost::asio::any_io_executor& executor,
                std::chrono::steady_clock::time_point deadline);
  ~ProbeDeadline();
  ProbeDeadline(const ProbeDeadline&) = delete;
  ProbeDeadline& operator=(const ProbeDeadline&) = delete;

  // Scoped watch of one socket (null: none).
  class Watching {
   public:
    Watching(ProbeDeadline& deadline, boost::asio::ip::tcp::socket& socket);
    ~Watching();
    Watching(const Watching&) = delete;
    Watching& operator=(const Watching&) = delete;
    void Switch(boost::asio::ip::tcp::socket& socket);  // the socket moved (e.g. into TLS)

   private:
    ProbeDeadline& deadline_;
  };

  bool expired() const { return state_->fired; }
  std::chrono::steady_clock::time_point expiry() const { return timer_.expiry(); }
  // `ec`, or beast::error::timeout once the deadline has closed the socket.
  boost::system::error_code Translate(boost::system::error_code ec) const;

 private:
  // Shared with the timer's handler, which may run after this object is gone.
  struct State {
    boost::asio::ip::tcp::socket* socket = nullptr;
    bool fired = false;
  };
  std::shared_ptr<State> state_;
  boost::asio::steady_timer timer_;
};

// Connects `stream` to the first endpoint that answers. The stream's expiry must be set, or
// `deadline` watch it. Returns the connected endpoint, or an error such as "connect
// 127.0.0.1:1: Connection refused" (all endpoints failed: the last error).
boost::asio::awaitable<Result<boost::asio::ip::tcp::endpoint>> Connect(
    boost::beast::tcp_stream& stream, const std::vector<boost::asio::ip::tcp::endpoint>& endpoints,
    const ProbeDeadline* deadline = nullptr);

struct TlsOptions {
  bool verify = true;     // check the chain and the host name
  std::string ca_file;    // PEM; empty: the system's trust store
  std::string cert_file;  // PEM client certificate (with key_file)
  std::string key_file;
  std::string server_name;  // SNI and the name verified; empty: the target's host
  bool operator==(const TlsOptions&) const = default;
};

using TlsContext = std::shared_ptr<boost::asio::ssl::context>;
// Loads the files now, so a bad path is an error when the config loads, not at each run.
Result<TlsContext> MakeTlsContext(const TlsOptions& options);

// Contexts that use no files (the system trust store, verification on or off) are shared by
// every probe one registry parses: building one parses the whole trust store (~20 ms), which a
// thousand probes must not pay each. Contexts with CA, certificate or key files are built per
// probe, so a reload picks up rotated files. Not thread-safe; used while a config loads.
class TlsContextCache {
 public:
  Result<TlsContext> Get(const TlsOptions& options);

 private:
  TlsContext verifying_, insecure_;
};

// The notAfter of the certificate the peer presented; nullopt when there is none.
std::optional<TimePoint> PeerCertificateNotAfter(SSL* ssl);

// Steady-clock deadline `timeout` from now.
inline std::chrono::steady_clock::time_point DeadlineAfter(Duration timeout) {
  return std::chrono::steady_clock::now() +
         std::chrono::duration_cast<std::chrono::steady_clock::duration>(timeout);
}

// "127.0.0.1:8080", "[::1]:53".
std::string FormatEndpoint(const boost::asio::ip::tcp::endpoint& endpoint);
// "127.0.0.1", "::1": as address::to_string(), without printf for IPv4.
std::string FormatAddress(const boost::asio::ip::address& address);

// "Connection refused", "timed out after 2s", ... for an error on the way to `timeout`.
std::string DescribeNetError(const boost::system::error_code& ec, Duration timeout);

}  // namespace sonde
