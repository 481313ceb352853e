// A header-only Kuberhealthy checker client for C++20 (Boost.Asio/Beast, no other library).
//
//   #include "kh_client.hpp"
//   kh::Status sent = ok ? kh::ReportSuccess() : kh::ReportFailure({"db answered 503"});
//   kh::Result<kh::TimePoint> deadline = kh::Deadline();
//
// It reads the variables Kuberhealthy (and Sonde) inject into every checker:
//   KH_REPORTING_URL       where to POST the report (http only; its query string is kept)
//   KH_RUN_UUID            sent as the kh-run-uuid header, so the server knows the run
//   KH_CHECK_RUN_DEADLINE  Unix seconds by which the report must have arrived
// and sends {"OK":true,"Errors":[]} or {"OK":false,"Errors":[...]}, as Kuberhealthy's Go
// client. Retries follow that client: any answer but 200 or 400, and any connection failure,
// is retried with exponential back-off (0.5 s, x1.5, +-50% jitter) for at most 30 s in all;
// a 400 is final. Unlike the Go client, which returns no error on a 400, a 400 here is an
// error value carrying the server's reason, because it means the report was not recorded.
//
// Failure: nothing throws; every problem is a kh::Status / kh::Result naming what failed.
// Thread safety: the functions share no state; call them from any thread. Each call blocks
// for at most the retry budget (plus one request's timeout).
#pragma once

#include <algorithm>
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/string_body.hpp>
#include <boost/beast/http/write.hpp>
#include <charconv>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <optional>
#include <random>
#include <string>
#include <string_view>
#include <thread>
#include <utility>
#include <variant>
#include <vector>

namespace kh {

using TimePoint = std::chrono::system_clock::time_point;

// OK, or an error message that says what failed.
class Status {
 public:
  static Status Ok() { return Status(); }
  static Status Error(std::string message) { return Status(std::move(message)); }
  bool ok() const { return !failed_; }
  const std::string& message() const { return message_; }  // "" when ok()

 private:
  Status() = default;
  explicit Status(std::string m) : failed_(true), message_(std::move(m)) {}
  bool failed_ = false;
  std::string message_;
};

// A value or an error message.
template <class T>
class Result {
 public:
  Result(T value) : v_(std::move(value)) {}  // NOLINT(google-explicit-constructor)
  static Result Error(std::string message) { return Result(Err{std::move(message)}); }
  bool ok() const { return v_.index() == 0; }
  const T& value() const { return std::get<0>(v_); }                    // REQUIRES: ok()
  const std::string& error() const { return std::get<1>(v_).message; }  // REQUIRES: !ok()

 private:
  struct Err {
    std::string message;
  };
  explicit Result(Err e) : v_(std::move(e)) {}
  std::variant<T, Err> v_;
};

struct ClientOptions {
  std::string reporting_url;                        // KH_REPORTING_URL
  std::string run_uuid;                             // KH_RUN_UUID; the header is omitted when empty
  std::chrono::milliseconds max_elapsed{30'000};    // the whole retry budget
  std::chrono::milliseconds initial_interval{500};  // the first back-off
  std::chrono::milliseconds request_timeout{10'000};  // one attempt: connect, send, answer

  // From the environment; an error names the missing variable.
  static Result<ClientOptions> FromEnv() {
    ClientOptions o;
    const char* url = std::getenv("KH_REPORTING_URL");
    if (!url || !*url) return Result<ClientOptions>::Error("KH_REPORTING_URL is not set");
    o.reporting_url = url;
    if (const char* uuid = std::getenv("KH_RUN_UUID")) o.run_uuid = uuid;
    return o;
  }
};

namespace detail {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;

// JSON string literal: quotes, backslashes and control characters escaped; other bytes
// (UTF-8) pass through.
inline std::string Quote(std::string_view s) {
  std::string out = "\"";
  for (const char ch : s) {
    const auto c = static_cast<unsigned char>(ch);
    if (c == '"' || c == '\\') {
      out += '\\';
      out += ch;
    } else if (c == '\n') {
      out += "\\n";
    } else if (c == '\t') {
      out += "\\t";
    } else if (c == '\r') {
      out += "\\r";
    } else if (c < 0x20) {
      char buf[8];
      std::snprintf(buf, sizeof buf, "\\u%04x", c);
      out += buf;
    } else {
      out += ch;
    }
  }
  return out + "\"";
}

inline std::string ReportBody(bool ok, const std::vector<std::string>& errors) {
  std::string body = std::string("{\"OK\":") + (ok ? "true" : "false") + ",\"Errors\":[";
  for (size_t i = 0; i < errors.size(); ++i) body += (i ? "," : "") + Quote(errors[i]);
  return body + "]}";
}

struct Url {
  std::string host;  // without brackets
  std::string port;
  std::string host_header;
  std::string target;  // path and query, "/" at least
};

inline Result<Url> ParseUrl(std::string_view url) {
  constexpr std::string_view kScheme = "http://";
  if (!url.starts_with(kScheme)) {
    return Result<Url>::Error("KH_REPORTING_URL \"" + std::string(url) +
                              "\" must start with http:// (https is not supported)");
  }
  std::string_view rest = url.substr(kScheme.size());
  const size_t end = rest.find_first_of("/?#");
  std::string_view authority = rest.substr(0, end);
  Url u;
  u.host_header = std::string(authority);
  u.target = end == std::string_view::npos ? "/" : std::string(rest.substr(end));
  if (const size_t hash = u.target.find('#'); hash != std::string::npos) u.target.resize(hash);
  if (u.target.empty() || u.target.front() != '/') u.target.insert(0, "/");
  if (authority.find('@') != std::string_view::npos) {
    return Result<Url>::Error("KH_REPORTING_URL must not carry credentials");
  }
  std::string_view port = "80";
  if (authority.starts_with("[")) {
    const size_t close = authority.find(']');
    if (close == std::string_view::npos)
      return Result<Url>::Error("KH_REPORTING_URL: bad IPv6 host");
    u.host = std::string(authority.substr(1, close - 1));
    if (authority.size() > close + 1) {
      if (authority[close + 1] != ':') return Result<Url>::Error("KH_REPORTING_URL: bad port");
      port = authority.substr(close + 2);
    }
  } else if (const size_t colon = authority.rfind(':'); colon != std::string_view::npos) {
    u.host = std::string(authority.substr(0, colon));
    port = authority.substr(colon + 1);
  } else {
    u.host = std::string(authority);
  }
  unsigned value = 0;
  auto [p, ec] = std::from_chars(port.data(), port.data() + port.size(), value);
  if (u.host.empty() || ec != std::errc() || p != port.data() + port.size() || value == 0 ||
      value > 65535) {
    return Result<Url>::Error("KH_REPORTING_URL \"" + std::string(url) +
                              "\" has no valid host:port");
  }
  u.port = std::string(port);
  return u;
}

struct Answer {
  int status = 0;
  std::string body;
};

// One POST, bounded by `timeout` from start to the end of the answer (resolving included).
inline Result<Answer> Post(const Url& url, const std::string& run_uuid, const std::string& body,
                           std::chrono::milliseconds timeout) {
  std::optional<Result<Answer>> result;
  {
    asio::io_context io;
    auto attempt = [&]() -> asio::awaitable<void> {
      constexpr auto token = asio::as_tuple(asio::use_awaitable);
      asio::ip::tcp::resolver resolver(io);
      auto [rec, endpoints] = co_await resolver.async_resolve(url.host, url.port, token);
      if (rec) {
        result = Result<Answer>::Error("resolve " + url.host + ": " + rec.message());
        co_return;
      }
      beast::tcp_stream stream(io);
      auto [cec, ep] = co_await stream.async_connect(endpoints, token);
      if (cec) {
        result = Result<Answer>::Error("connect " + url.host_header + ": " + cec.message());
        co_return;
      }
      http::request<http::string_body> req{http::verb::post, url.target, 11};
      req.set(http::field::host, url.host_header);
      req.set(http::field::user_agent, "kh-client-cpp");
      req.set(http::field::content_type, "application/json");
      req.set(http::field::connection, "close");
      if (!run_uuid.empty()) req.set("kh-run-uuid", run_uuid);
      req.body() = body;
      req.prepare_payload();
      auto [wec, wn] = co_await http::async_write(stream, req, token);
      if (wec) {
        result = Result<Answer>::Error("send: " + wec.message());
        co_return;
      }
      beast::flat_buffer buffer;
      http::response_parser<http::string_body> parser;
      parser.body_limit(64 * 1024);  // the server answers with a short reason at most
      auto [rdec, rn] = co_await http::async_read(stream, buffer, parser, token);
      if (rdec) {
        result = Result<Answer>::Error("read the answer: " + rdec.message());
        co_return;
      }
      result = Answer{static_cast<int>(parser.get().result_int()), parser.get().body()};
    };
    asio::co_spawn(io, attempt, asio::detached);
    io.run_for(timeout);
    // Leaving the scope destroys the io_context and with it an unfinished attempt.
  }
  if (!result)
    return Result<Answer>::Error("no answer within " + std::to_string(timeout.count()) + " ms");
  return *result;
}

inline std::string Trimmed(std::string s) {
  while (!s.empty() && (s.back() == '\n' || s.back() == '\r' || s.back() == ' ')) s.pop_back();
  return s.size() > 200 ? s.substr(0, 200) + "..." : s;
}

}  // namespace detail

// Sends one report with the retry rule above. The error names the URL and the last failure,
// e.g. `report to http://kh/check: 503 "store busy" (gave up after 6 attempts in 30.2 s)`.
inline Status SendReport(const ClientOptions& options, bool ok,
                         const std::vector<std::string>& errors) {
  using Clock = std::chrono::steady_clock;
  auto url = detail::ParseUrl(options.reporting_url);
  if (!url.ok()) return Status::Error(url.error());
  const std::string body = detail::ReportBody(ok, errors);
  const std::string where = "report to " + options.reporting_url + ": ";
  const auto start = Clock::now();
  const auto give_up = start + options.max_elapsed;
  std::mt19937 random(std::random_device{}());
  double interval_ms = static_cast<double>(options.initial_interval.count());
  std::string last;
  for (int attempt = 1;; ++attempt) {
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(give_up - Clock::now());
    // At least a moment even when the budget is spent, so that the last try is a real one.
    const auto attempt_timeout =
        std::max(std::min(left, options.request_timeout), std::chrono::milliseconds(100));
    auto answer = detail::Post(url.value(), options.run_uuid, body, attempt_timeout);
    if (answer.ok() && answer.value().status == 200) return Status::Ok();
    if (answer.ok() && answer.value().status == 400) {
      return Status::Error(where + "rejected with 400 \"" + detail::Trimmed(answer.value().body) +
                           "\" (not retried)");
    }
    last = answer.ok() ? std::to_string(answer.value().status) + " \"" +
                             detail::Trimmed(answer.value().body) + "\""
                       : answer.error();
    std::uniform_real_distribution<double> jitter(0.5, 1.5);
    const auto wait = std::chrono::milliseconds(static_cast<int64_t>(interval_ms * jitter(random)));
    interval_ms *= 1.5;
    if (Clock::now() + wait >= give_up) {
      char took[32];
      std::snprintf(took, sizeof took, "%.1f",
                    std::chrono::duration<double>(Clock::now() - start).count());
      return Status::Error(where + last + " (gave up after " + std::to_string(attempt) +
                           (attempt == 1 ? " attempt" : " attempts") + " in " + took + " s)");
    }
    std::this_thread::sleep_for(wait);
  }
}

inline Status ReportSuccess(const ClientOptions& options) { return SendReport(options, true, {}); }

// REQUIRES (checked): at least one error, none empty, as Kuberhealthy's server demands.
inline Status ReportFailure(const ClientOptions& options, const std::vector<std::string>& errors) {
  if (errors.empty()) return Status::Error("ReportFailure needs at least one error message");
  for (const std::string& e : errors) {
    if (e.empty()) return Status::Error("ReportFailure: error messages must not be empty");
  }
  return SendReport(options, false, errors);
}

// The same, configured from the environment.
inline Status ReportSuccess() {
  auto o = ClientOptions::FromEnv();
  return o.ok() ? ReportSuccess(o.value()) : Status::Error(o.error());
}
inline Status ReportFailure(const std::vector<std::string>& errors) {
  auto o = ClientOptions::FromEnv();
  return o.ok() ? ReportFailure(o.value(), errors) : Status::Error(o.error());
}

// KH_CHECK_RUN_DEADLINE as a time point; an error when unset or not decimal Unix seconds.
inline Result<TimePoint> Deadline() {
  const char* text = std::getenv("KH_CHECK_RUN_DEADLINE");
  if (!text || !*text) return Result<TimePoint>::Error("KH_CHECK_RUN_DEADLINE is not set");
  const std::string_view s(text);
  int64_t seconds = 0;
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), seconds);
  if (ec != std::errc() || p != s.data() + s.size() || seconds <= 0) {
    return Result<TimePoint>::Error("KH_CHECK_RUN_DEADLINE \"" + std::string(s) +
                                    "\" is not Unix seconds");
  }
  return TimePoint(std::chrono::seconds(seconds));
}

}  // namespace kh
