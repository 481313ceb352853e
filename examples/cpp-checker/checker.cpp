// An example checker in C++ with the header-only client (clients/cpp/kh_client.hpp): it connects
// to a TCP service (TARGET, host:port), sends SEND if set (escapes \r and \n understood), reads
// the first line of the answer (a banner, a status line) and checks that it contains EXPECT;
// then it reports the result.
// Build: g++ -std=c++20 -O2 checker.cpp -I../../clients/cpp -o checker -pthread
// (`make` builds it as build/release/examples/cpp-checker, and tests run it under the daemon).
#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/read_until.hpp>
#include <boost/asio/streambuf.hpp>
#include <boost/asio/write.hpp>
#include <cstdio>
#include <cstdlib>
#include <string>

#include "kh_client.hpp"

namespace {

std::string Unescape(const char* s) {
  std::string out;
  for (; s && *s; ++s) {
    if (s[0] == '\\' && (s[1] == 'r' || s[1] == 'n')) {
      out += s[1] == 'r' ? '\r' : '\n';
      ++s;
    } else {
      out += *s;
    }
  }
  return out;
}

// The first line of the answer, or an error saying what went wrong. Blocking I/O bounded by
// SO_RCVTIMEO keeps the example short; the run's deadline bounds the whole process anyway.
std::string FirstLine(const std::string& host, const std::string& port, const std::string& send,
                      std::string& error) {
  namespace asio = boost::asio;
  asio::io_context io;
  boost::system::error_code ec;
  asio::ip::tcp::resolver resolver(io);
  const auto endpoints = resolver.resolve(host, port, ec);
  if (ec) return error = "resolve " + host + ": " + ec.message(), "";
  asio::ip::tcp::socket socket(io);
  asio::connect(socket, endpoints, ec);
  if (ec) return error = "connect " + host + ":" + port + ": " + ec.message(), "";
  if (!send.empty()) asio::write(socket, asio::buffer(send), ec);
  if (ec) return error = "send to " + host + ":" + port + ": " + ec.message(), "";
  const timeval five_seconds{5, 0};
  setsockopt(socket.native_handle(), SOL_SOCKET, SO_RCVTIMEO, &five_seconds, sizeof five_seconds);
  asio::streambuf line(4096);
  asio::read_until(socket, line, '\n', ec);
  if (ec && line.size() == 0) return error = "no answer from " + host + ":" + port, "";
  std::string text(asio::buffers_begin(line.data()), asio::buffers_end(line.data()));
  return text.substr(0, text.find_first_of("\r\n"));
}

}  // namespace

int main() {
  const char* target = std::getenv("TARGET");
  const char* expect = std::getenv("EXPECT");
  kh::Status sent = kh::Status::Ok();
  const std::string t = target ? target : "";
  const size_t colon = t.rfind(':');
  if (colon == std::string::npos) {
    sent = kh::ReportFailure({"TARGET must be host:port, found \"" + t + "\""});
  } else {
    std::string error;
    const std::string banner =
        FirstLine(t.substr(0, colon), t.substr(colon + 1), Unescape(std::getenv("SEND")), error);
    if (!error.empty()) {
      sent = kh::ReportFailure({error});
    } else if (expect && banner.find(expect) == std::string::npos) {
      sent = kh::ReportFailure({t + " answered \"" + banner + "\", without \"" + expect + "\""});
    } else {
      sent = kh::ReportSuccess();
    }
  }
  if (!sent.ok()) {
    std::fprintf(stderr, "%s\n", sent.message().c_str());
    return 1;
  }
  return 0;
}
