// Test support (header-only, for tests only): an HttpServer on 127.0.0.1 with its own
// io_context thread, and a raw blocking TCP client for malformed or slow input.
// TestServer is driven from the test thread; everything that touches the server is
// posted to its executor. RawClient is not thread-safe.
#pragma once

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <chrono>
#include <future>
#include <optional>
#include <string>
#include <string_view>
#include <thread>
#include <utility>

#include "server/http_server.hpp"

namespace sonde::testing {

class TestServer {
 public:
  explicit TestServer(HttpHandler handler, HttpServerOptions options = {}) {
    options.host = "127.0.0.1";
    options.port = 0;
    server_.emplace(io_.get_executor(), options, std::move(handler));
    Status started = server_->Start();
    EXPECT_TRUE(started.ok()) << started.message();
    thread_ = std::thread([this] { io_.run(); });
  }
  ~TestServer() {
    io_.stop();
    thread_.join();
    server_.reset();  // io_ is no longer running, so this thread may touch the server
  }
  TestServer(const TestServer&) = delete;
  TestServer& operator=(const TestServer&) = delete;

  uint16_t port() const { return server_->port(); }
  boost::asio::io_context& io() { return io_; }

  // Runs `f(server)` on the server's executor and returns its result.
  template <class F>
  auto Run(F f) {
    std::packaged_task<decltype(f(*server_))()> task([&] { return f(*server_); });
    auto result = task.get_future();
    boost::asio::post(io_, [&task] { task(); });
    return result.get();
  }
  size_t connections() {
    return Run([](HttpServer& s) { return s.connections(); });
  }
  void Stop() {
    Run([](HttpServer& s) { s.Stop(); });
  }

 private:
  boost::asio::io_context io_;
  // Keeps run() going after Stop() so that Run() can still reach the executor.
  boost::asio::executor_work_guard<boost::asio::io_context::executor_type> work_ =
      boost::asio::make_work_guard(io_);
  std::optional<HttpServer> server_;
  std::thread thread_;
};

// A blocking POSIX TCP client with deadlines on every read.
class RawClient {
 public:
  explicit RawClient(uint16_t port) : fd_(::socket(AF_INET, SOCK_STREAM, 0)) {
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(port);
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    connected_ = ::connect(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0;
  }
  ~RawClient() { ::close(fd_); }
  RawClient(const RawClient&) = delete;
  RawClient& operator=(const RawClient&) = delete;

  bool connected() const { return connected_; }

  bool Send(std::string_view data) {
    while (!data.empty()) {
      ssize_t n = ::send(fd_, data.data(), data.size(), MSG_NOSIGNAL);
      if (n <= 0) return false;
      data.remove_prefix(static_cast<size_t>(n));
    }
    return true;
  }

  // Reads what is available within `wait`; nullopt when the peer closed (EOF or reset),
  // "" on timeout.
  std::optional<std::string> ReadSome(std::chrono::milliseconds wait) {
    pollfd p{fd_, POLLIN, 0};
    if (::poll(&p, 1, static_cast<int>(wait.count())) <= 0) return std::string();
    char buf[65536];
    ssize_t n = ::recv(fd_, buf, sizeof buf, 0);
    if (n <= 0) return std::nullopt;
    return std::string(buf, static_cast<size_t>(n));
  }

  // Reads until the peer closes or `wait` passes; returns everything read, and sets
  // `closed` when the peer closed.
  std::string ReadUntilClose(std::chrono::milliseconds wait, bool* closed) {
    std::string out;
    *closed = false;
    auto deadline = std::chrono::steady_clock::now() + wait;
    while (std::chrono::steady_clock::now() < deadline) {
      auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
          deadline - std::chrono::steady_clock::now());
      std::optional<std::string> chunk = ReadSome(left + std::chrono::milliseconds(1));
      if (!chunk) {
        *closed = true;
        break;
      }
      out += *chunk;
    }
    return out;
  }

  // Reads one response: the header, then Content-Length bytes of body (none for HEAD).
  // Leaves any further bytes for the next call. "" on timeout or early close.
  std::string ReadResponse(std::chrono::milliseconds wait = std::chrono::seconds(5),
                           bool head = false) {
    auto deadline = std::chrono::steady_clock::now() + wait;
    for (;;) {
      size_t end = pending_.find("\r\n\r\n");
      if (end != std::string::npos) {
        size_t total = end + 4 + (head ? 0 : ContentLength(pending_.substr(0, end)));
        if (pending_.size() >= total) {
          std::string response = pending_.substr(0, total);
          pending_.erase(0, total);
          return response;
        }
      }
      auto now = std::chrono::steady_clock::now();
      if (now >= deadline) return "";
      auto chunk = ReadSome(std::chrono::duration_cast<std::chrono::milliseconds>(deadline - now) +
                            std::chrono::milliseconds(1));
      if (!chunk) return "";
      pending_ += *chunk;
    }
  }

 private:
  static size_t ContentLength(const std::string& header) {
    size_t at = header.find("Content-Length: ");
    return at == std::string::npos ? 0 : std::stoul(header.substr(at + 16));
  }

  int fd_;
  bool connected_ = false;
  std::string pending_;
};

// "HTTP/1.1 404 Not Found..." -> 404; 0 when not a status line.
inline int StatusOf(std::string_view response) {
  if (response.size() < 12 || response.substr(0, 5) != "HTTP/") return 0;
  return std::stoi(std::string(response.substr(9, 3)));
}

}  // namespace sonde::testing
