// Test support (header-only, for tests only): certificates made at test time by the openssl
// CLI, and a TLS server on 127.0.0.1 that serves one of them.
//
// TestPki writes into a fresh temporary directory, removed by its destructor: a CA, leaves
// signed by it that expire in 3 and 100 days, an expired one (issued by `openssl ca` with
// explicit dates in 2020), and a self-signed one. Every leaf is for "localhost" and 127.0.0.1.
// TlsTestServer runs its own io_context thread; it completes handshakes and, in http mode,
// answers one request per connection with "200 ok". Neither is thread-safe; drive them from
// the test thread.
#pragma once

#include <gtest/gtest.h>
#include <stdlib.h>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/read_until.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>
#include <thread>

namespace sonde::testing {

struct Cert {
  std::string cert;  // PEM paths
  std::string key;
};

class TestPki {
 public:
  TestPki() {
    char tmpl[] = "/tmp/sonde-pki-XXXXXX";
    const char* made = ::mkdtemp(tmpl);
    EXPECT_NE(made, nullptr);
    dir_ = made ? made : "/tmp";
    const std::string ec = " -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes";
    Write("ext.cnf", "subjectAltName=DNS:localhost,IP:127.0.0.1\n");
    Run("openssl req -x509" + ec +
        " -keyout ca.key -out ca.pem -days 30 -subj '/CN=Sonde Test CA'");
    Run("openssl req" + ec + " -keyout leaf.key -out leaf.csr -subj /CN=localhost");
    for (int days : {3, 100}) {
      Run("openssl x509 -req -in leaf.csr -CA ca.pem -CAkey ca.key -CAcreateserial -days " +
          std::to_string(days) + " -extfile ext.cnf -out leaf" + std::to_string(days) + ".pem");
    }
    // `x509 -days` cannot date a certificate in the past; `openssl ca` takes explicit dates.
    Write("index.txt", "");
    Write("serial", "1000\n");
    Write("ca.cnf", "[ca]\ndefault_ca = test\n[test]\ndatabase = " + dir_ +
                        "/index.txt\nnew_certs_dir = " + dir_ + "\nserial = " + dir_ +
                        "/serial\ndefault_md = sha256\npolicy = any\nunique_subject = no\n"
                        "[any]\ncommonName = supplied\n");
    Run("openssl ca -batch -config ca.cnf -cert ca.pem -keyfile ca.key -in leaf.csr -notext"
        " -startdate 20200101000000Z -enddate 20200201000000Z -extfile ext.cnf -out expired.pem");
    Run("openssl req -x509" + ec +
        " -keyout self.key -out self.pem -days 100 -subj /CN=localhost"
        " -addext subjectAltName=DNS:localhost,IP:127.0.0.1");
  }
  ~TestPki() {
    std::error_code ec;
    std::filesystem::remove_all(dir_, ec);
  }
  TestPki(const TestPki&) = delete;
  TestPki& operator=(const TestPki&) = delete;

  std::string ca() const { return Path("ca.pem"); }
  Cert in3days() const { return {Path("leaf3.pem"), Path("leaf.key")}; }
  Cert in100days() const { return {Path("leaf100.pem"), Path("leaf.key")}; }
  Cert expired() const { return {Path("expired.pem"), Path("leaf.key")}; }
  Cert self_signed() const { return {Path("self.pem"), Path("self.key")}; }
  std::string Path(const std::string& name) const { return dir_ + "/" + name; }

 private:
  void Write(const std::string& name, const std::string& text) const {
    std::ofstream(Path(name)) << text;
  }
  void Run(const std::string& command) const {
    const std::string line = "cd '" + dir_ + "' && " + command + " >openssl.log 2>&1";
    EXPECT_EQ(std::system(line.c_str()), 0) << command;
  }
  std::string dir_;
};

// A suite sharing one TestPki: making the certificates runs openssl several times.
class PkiTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() { pki_ = new TestPki(); }
  static void TearDownTestSuite() {
    delete pki_;
    pki_ = nullptr;
  }
  static inline TestPki* pki_ = nullptr;
};

class TlsTestServer {
 public:
  TlsTestServer(const Cert& cert, bool http) : http_(http) {
    ctx_.use_certificate_chain_file(cert.cert);
    ctx_.use_private_key_file(cert.key, boost::asio::ssl::context::pem);
    acceptor_.open(boost::asio::ip::tcp::v4());
    acceptor_.bind({boost::asio::ip::make_address("127.0.0.1"), 0});
    acceptor_.listen();
    port_ = acceptor_.local_endpoint().port();
    boost::asio::co_spawn(io_, Accept(), boost::asio::detached);
    thread_ = std::thread([this] { io_.run(); });
  }
  ~TlsTestServer() {
    io_.stop();
    thread_.join();
  }
  TlsTestServer(const TlsTestServer&) = delete;
  TlsTestServer& operator=(const TlsTestServer&) = delete;

  uint16_t port() const { return port_; }

 private:
  using Stream = boost::asio::ssl::stream<boost::asio::ip::tcp::socket>;
  static constexpr auto kToken = boost::asio::as_tuple(boost::asio::use_awaitable);

  boost::asio::awaitable<void> Accept() {
    for (;;) {
      auto [ec, socket] = co_await acceptor_.async_accept(kToken);
      if (ec) co_return;
      boost::asio::co_spawn(io_, Serve(std::move(socket)), boost::asio::detached);
    }
  }
  boost::asio::awaitable<void> Serve(boost::asio::ip::tcp::socket socket) {
    Stream stream(std::move(socket), ctx_);
    auto [ec] = co_await stream.async_handshake(Stream::server, kToken);
    if (ec || !http_) co_return;
    std::string request;
    auto dynamic = boost::asio::dynamic_buffer(request, 64 * 1024);
    auto [rec, n] = co_await boost::asio::async_read_until(stream, dynamic, "\r\n\r\n", kToken);
    if (rec) co_return;
    const std::string response =
        "HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: close\r\n\r\nok";
    co_await boost::asio::async_write(stream, boost::asio::buffer(response), kToken);
  }

  bool http_;
  boost::asio::io_context io_;
  boost::asio::ssl::context ctx_{boost::asio::ssl::context::tls_server};
  boost::asio::ip::tcp::acceptor acceptor_{io_};
  uint16_t port_ = 0;
  std::thread thread_;
};

}  // namespace sonde::testing
