// Test support (header-only, for tests only): Debian's dnsmasq as an authoritative-only DNS
// server on 127.0.0.1 and a free high port, answering for the .test domain from these records
// and nothing else (no upstream, no /etc/hosts), NXDOMAIN for any other name under .test:
//
//   ok.test        A     127.0.0.7          v6.test     AAAA  ::7
//   alias.test     CNAME ok.test            mail.test   MX    10 mx1.test
//   txt.test       TXT   "hello world"      _sip._tcp.test SRV 0 0 5060 sip.test
//   7.0.0.127.in-addr.arpa PTR ok.test      big.test    TXT   750 bytes (truncated over UDP)
//
// The constructor waits (up to 5 s) until the server answers, trying another port when the
// one chosen was taken meanwhile; the destructor stops it with SIGTERM and reaps it. Not
// thread-safe; drive it from the test thread.
#pragma once

#include <fcntl.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ip/udp.hpp>
#include <string>
#include <thread>
#include <vector>

#include "probe/dns_probe.hpp"

extern char** environ;

namespace sonde::testing {

// A UDP port on 127.0.0.1 that was free a moment ago (nothing listens on it now).
inline uint16_t FreeUdpPort() {
  boost::asio::io_context io;
  boost::asio::ip::udp::socket s(
      io, boost::asio::ip::udp::endpoint(boost::asio::ip::make_address("127.0.0.1"), 0));
  return s.local_endpoint().port();
}

// A port on 127.0.0.1 free for both UDP and TCP a moment ago (a DNS server needs both).
inline uint16_t FreeDnsPort() {
  namespace asio = boost::asio;
  asio::io_context io;
  for (;;) {
    asio::ip::udp::socket udp(io, asio::ip::udp::endpoint(asio::ip::make_address("127.0.0.1"), 0));
    const uint16_t port = udp.local_endpoint().port();
    asio::ip::tcp::acceptor tcp(io);
    boost::system::error_code ec;
    tcp.open(asio::ip::tcp::v4(), ec);
    if (!ec) tcp.bind({asio::ip::make_address("127.0.0.1"), port}, ec);
    if (!ec) return port;
  }
}

class Dnsmasq {
 public:
  // Another process can still take the port before dnsmasq binds it: then try another.
  Dnsmasq() {
    for (int attempt = 0; attempt < 5; ++attempt) {
      port_ = FreeDnsPort();
      if (Start() && WaitUntilReady()) return;
      Stop();
    }
    ADD_FAILURE() << "dnsmasq did not start";
  }
  ~Dnsmasq() { Stop(); }
  Dnsmasq(const Dnsmasq&) = delete;
  Dnsmasq& operator=(const Dnsmasq&) = delete;

  uint16_t port() const { return port_; }
  std::string server() const { return "127.0.0.1:" + std::to_string(port_); }

 private:
  bool Start() {
    std::vector<std::string> args = {
        "/usr/sbin/dnsmasq", "--keep-in-foreground", "--conf-file=/dev/null",
        "--pid-file=", "--no-resolv", "--no-hosts", "--bind-interfaces",
        "--listen-address=127.0.0.1", "--port=" + std::to_string(port_), "--local=/test/",
        "--user=" + CurrentUser(), "--host-record=ok.test,127.0.0.7", "--host-record=v6.test,::7",
        "--cname=alias.test,ok.test", "--mx-host=mail.test,mx1.test,10",
        "--txt-record=txt.test,hello world", "--srv-host=_sip._tcp.test,sip.test,5060",
        "--ptr-record=7.0.0.127.in-addr.arpa,ok.test",
        // Three 250-byte strings: over UDP's 512 bytes, truncated.
        "--txt-record=big.test," + std::string(250, 'a') + "," + std::string(250, 'b') + "," +
            std::string(250, 'c'),
        "--log-facility=/dev/null"};
    std::vector<char*> argv;
    argv.reserve(args.size() + 1);
    for (std::string& a : args) argv.push_back(a.data());
    argv.push_back(nullptr);
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_addopen(&actions, 1, "/dev/null", O_WRONLY, 0);
    posix_spawn_file_actions_addopen(&actions, 2, "/dev/null", O_WRONLY, 0);
    const int rc = posix_spawn(&pid_, argv[0], &actions, nullptr, argv.data(), environ);
    posix_spawn_file_actions_destroy(&actions);
    EXPECT_EQ(rc, 0) << "cannot start /usr/sbin/dnsmasq (Debian package dnsmasq-base)";
    if (rc != 0) pid_ = -1;
    return rc == 0;
  }
  void Stop() {
    if (pid_ <= 0) return;
    ::kill(pid_, SIGTERM);
    int status = 0;
    ::waitpid(pid_, &status, 0);
    pid_ = -1;
  }
  static std::string CurrentUser() {
    // dnsmasq drops privileges to "nobody" unless told otherwise; as root keep root so that
    // no user account is needed, otherwise stay who we are.
    return ::geteuid() == 0 ? "root" : std::string(::getenv("USER") ? ::getenv("USER") : "");
  }
  // True once the server answers; false when it exited (e.g. the port was taken) or stayed
  // silent for 5 s.
  bool WaitUntilReady() {
    auto probe = MakeDnsProbe({.name = "ok.test", .server = server()});
    if (!probe.ok()) return false;
    for (int i = 0; i < 50; ++i) {
      if (RunProbeBlocking(*probe.value(), std::chrono::milliseconds(100)).connected) return true;
      int status = 0;
      if (::waitpid(pid_, &status, WNOHANG) == pid_) {
        pid_ = -1;  // reaped
        return false;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
    return false;
  }

  uint16_t port_ = 0;
  pid_t pid_ = -1;
};

}  // namespace sonde::testing
