// The per-connection HTTP/1.x protocol loop. This is the server's only translation unit
// that includes Beast, to keep build times down.
#include "server/http_connection.hpp"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <array>
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core/error.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/string.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http/error.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/status.hpp>
#include <boost/beast/http/string_body.hpp>
#include <boost/url/parse.hpp>
#include <cctype>
#include <limits>
#include <string>
#include <string_view>
#include <tuple>
#include <vector>

namespace sonde {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
namespace urls = boost::urls;
using tcp = asio::ip::tcp;
using Parser = http::request_parser<http::string_body>;

constexpr auto kToken = asio::as_tuple(asio::use_awaitable);
constexpr std::string_view k100Continue = "HTTP/1.1 100 Continue\r\n\r\n";
// After an error answer the peer may still be sending; reading a little of it before closing
// avoids a TCP reset that would destroy the answer in flight.
constexpr size_t kDrainBytes = 256 * 1024;
constexpr auto kDrainTime = std::chrono::milliseconds(500);
// An output buffer up to this size is kept for the connection's next answer.
constexpr size_t kKeptOutputBytes = 64 * 1024;

// asio::async_write's transfer_all offers the socket at most 64 KiB per write: a 23 MiB
// /metrics answer took about 360 writes, each also arming and cancelling the stream's write
// timer. This offers everything left (up to 16 buffers) at once; the socket's send buffer bounds
// what one write takes, and write_timeout still bounds the whole answer.
struct TransferAllAtOnce {
  size_t operator()(const beast::error_code& ec, size_t /*bytes_transferred*/) const {
    return ec ? 0 : std::numeric_limits<size_t>::max();
  }
};

std::string Lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

std::string RemoteAddress(const tcp::socket& socket) {
  beast::error_code ec;
  tcp::endpoint endpoint = socket.remote_endpoint(ec);
  if (ec) return "unknown";
  asio::ip::address address = endpoint.address();
  // A dual-stack listener sees IPv4 peers as ::ffff:a.b.c.d; report them as IPv4.
  if (address.is_v6() && address.to_v6().is_v4_mapped()) {
    return asio::ip::make_address_v4(asio::ip::v4_mapped, address.to_v6()).to_string();
  }
  return address.to_string();
}

// Origin-form targets ("/a?b") are parsed as such so that "//x" stays a path; anything else
// (absolute-form, "*") as a URI reference.
Status FillPathAndQuery(std::string_view target, HttpRequest& out) {
  auto url = (!target.empty() && target[0] == '/') ? urls::parse_origin_form(target)
                                                   : urls::parse_uri_reference(target);
  if (!url) return Status::Error("invalid request target");
  out.path = url->path();
  if (out.path.empty()) out.path = "/";
  // '+' means a space in queries, as in Go's url.ParseQuery which Kuberhealthy clients expect.
  for (const urls::param& p : url->params(urls::encoding_opts(/*space_as_plus=*/true))) {
    out.query.emplace_back(p.key, p.value);
  }
  return Status::Ok();
}

Result<HttpRequest> ToHttpRequest(http::request<http::string_body>&& request,
                                  const std::string& remote_address) {
  HttpRequest out;
  out.method = std::string(request.method_string());
  out.target = std::string(request.target());
  if (Status s = FillPathAndQuery(out.target, out); !s.ok()) {
    return Result<HttpRequest>::Error(s.message());
  }
  for (const auto& field : request) {
    auto [it, inserted] = out.headers.try_emplace(Lower(field.name_string()), field.value());
    if (!inserted) (it->second += ", ").append(field.value());
  }
  out.body = std::move(request.body());
  out.remote_address = remote_address;
  return out;
}

bool IsHttpParseError(const beast::error_code& ec) {
  return ec.category() == http::make_error_code(http::error::bad_method).category() &&
         ec != http::error::end_of_stream && ec != http::error::partial_message &&
         ec != http::error::short_read;  // these three mean the peer left
}

// Header names the server computes itself; a handler must not override them.
bool IsReservedHeader(std::string_view name) {
  return beast::iequals(name, "content-length") || beast::iequals(name, "transfer-encoding") ||
         beast::iequals(name, "connection");
}

bool HasLineBreakOrNul(std::string_view s) {
  return s.find_first_of(std::string_view("\r\n\0", 3)) != std::string_view::npos;
}

// What may go out: a valid status, and only the handler's headers that cannot break framing.
void Sanitise(HttpResponse& response) {
  if (response.status < 100 || response.status > 999) {
    spdlog::error("http: handler returned invalid status {}", response.status);
    response = HttpResponse::Text(500, "internal error");
  }
  std::erase_if(response.headers, [](const std::pair<std::string, std::string>& header) {
    const auto& [name, value] = header;
    if (IsReservedHeader(name) || name.empty() || HasLineBreakOrNul(name) ||
        HasLineBreakOrNul(value)) {
      spdlog::warn("http: dropping response header \"{}\" set by the handler", name);
      return true;
    }
    return false;
  });
}

void AppendHeader(std::string& out, std::string_view name, std::string_view value) {
  out.append(name).append(": ").append(value).append("\r\n");
}

}  // namespace

// The bytes are those Beast's serializer writes for a response<string_body> built with
// set(server), set(content_type), insert(each extra header), content_length(), then
// keep_alive(true) or set(connection, "close") (http_response_test.cpp compares the two), but
// written into one reused buffer with no per-field allocation.
void SerializeResponse(HttpResponse response, unsigned version, bool keep_alive, bool head,
                       std::string& out) {
  Sanitise(response);
  SerializeHead(response, version, keep_alive, out);
  if (head) return;
  out.append(response.body);
  for (const SharedText& part : response.body_parts) out.append(part.text);
}

void SerializeHead(const HttpResponse& response, unsigned version, bool keep_alive,
                   std::string& out) {
  out.clear();
  out.append(version == 10 ? "HTTP/1.0 " : "HTTP/1.1 ");
  char digits[3] = {static_cast<char>('0' + response.status / 100),
                    static_cast<char>('0' + response.status / 10 % 10),
                    static_cast<char>('0' + response.status % 10)};
  out.append(digits, 3).append(" ");
  out.append(http::obsolete_reason(static_cast<http::status>(response.status))).append("\r\n");
  AppendHeader(out, "Server", "sonde");
  AppendHeader(out, "Content-Type", response.content_type);
  for (const auto& [name, value] : response.headers) AppendHeader(out, name, value);
  AppendHeader(out, "Content-Length", std::to_string(response.BodySize()));
  if (!keep_alive) {
    AppendHeader(out, "Connection", "close");
  } else if (version < 11) {
    AppendHeader(out, "Connection", "keep-alive");
  }
  out.append("\r\n");
}

class HttpConnection {
 public:
  HttpConnection(tcp::socket socket, std::shared_ptr<HttpServerState> state)
      : state_(std::move(state)),
        remote_address_(RemoteAddress(socket)),
        stream_(std::move(socket)) {
    state_->connections.insert(this);
  }
  ~HttpConnection() { state_->connections.erase(this); }
  HttpConnection(const HttpConnection&) = delete;
  HttpConnection& operator=(const HttpConnection&) = delete;

  // Owns the connection for the coroutine's lifetime, so a never-run coroutine that is
  // destroyed with its io_context still unregisters it.
  static asio::awaitable<void> Serve(std::unique_ptr<HttpConnection> self) { co_await self->Run(); }

  void CloseIfIdle() {
    if (idle_) stream_.cancel();
  }

 private:
  asio::awaitable<void> Run();
  asio::awaitable<bool> AwaitRequestStart(bool first);
  asio::awaitable<beast::error_code> ReadRequest(Parser& parser);
  asio::awaitable<HttpResponse> CallHandler(HttpRequest request);
  asio::awaitable<bool> Write(HttpResponse response, unsigned version, bool keep_alive, bool head);
  asio::awaitable<void> AnswerReadError(const beast::error_code& ec);
  asio::awaitable<void> RejectAndClose(HttpResponse response);
  void Close();

  std::shared_ptr<HttpServerState> state_;
  std::string remote_address_;
  beast::tcp_stream stream_;
  beast::flat_buffer buffer_;
  std::string out_;       // the answer being written; reused across keep-alive requests
  std::string handling_;  // "METHOD target" of the request being handled
  bool idle_ = false;     // waiting for the first byte of a keep-alive request
};

asio::awaitable<void> HttpConnection::Run() {
  // A new connection must deliver its first request within request_timeout of the accept.
  stream_.expires_after(state_->options.request_timeout);
  for (bool first = true;; first = false) {
    if (!co_await AwaitRequestStart(first)) break;
    Parser parser;
    parser.header_limit(
        static_cast<std::uint32_t>(std::min<size_t>(state_->options.max_header_bytes, UINT32_MAX)));
    parser.body_limit(state_->options.max_body_bytes);
    if (beast::error_code ec = co_await ReadRequest(parser)) {
      co_await AnswerReadError(ec);
      co_return;
    }
    stream_.expires_never();  // the handler's time is its own business
    http::request<http::string_body> request = parser.release();
    const unsigned version = request.version();
    const bool head = request.method() == http::verb::head;
    const bool wants_keep_alive = request.keep_alive();
    Result<HttpRequest> converted = ToHttpRequest(std::move(request), remote_address_);
    if (!converted.ok()) {
      co_await RejectAndClose(HttpResponse::Text(400, "malformed request: " + converted.error()));
      co_return;
    }
    HttpResponse response = co_await CallHandler(std::move(converted).value());
    const bool keep_alive = wants_keep_alive && !state_->stopping;
    if (!co_await Write(std::move(response), version, keep_alive, head) || !keep_alive) break;
  }
  Close();
}

// Waits (up to idle_timeout) for the first byte of a keep-alive request, then starts the
// request_timeout clock. False when the connection should end instead.
asio::awaitable<bool> HttpConnection::AwaitRequestStart(bool first) {
  if (buffer_.size() == 0) {
    if (state_->stopping) co_return false;
    if (!first) stream_.expires_after(state_->options.idle_timeout);
    idle_ = true;
    auto [ec, n] = co_await stream_.async_read_some(buffer_.prepare(4096), kToken);
    idle_ = false;
    if (ec) {
      spdlog::debug("http: {} closed while idle: {}", remote_address_, ec.message());
      co_return false;
    }
    buffer_.commit(n);
  }
  if (!first) stream_.expires_after(state_->options.request_timeout);
  co_return true;
}

asio::awaitable<beast::error_code> HttpConnection::ReadRequest(Parser& parser) {
  auto [ec, n] = co_await http::async_read_header(stream_, buffer_, parser, kToken);
  if (ec || parser.is_done()) co_return ec;
  // curl and others wait up to a second for this before sending a large body.
  const auto& header = parser.get();
  if (header.version() >= 11 && beast::iequals(header[http::field::expect], "100-continue")) {
    auto [wec, wn] = co_await asio::async_write(stream_, asio::buffer(k100Continue), kToken);
    if (wec) co_return wec;
  }
  auto [rec, rn] = co_await http::async_read(stream_, buffer_, parser, kToken);
  co_return rec;
}

asio::awaitable<HttpResponse> HttpConnection::CallHandler(HttpRequest request) {
  std::string& what = handling_;  // for the log line of a failure; its capacity is reused
  what.assign(request.method).append(" ").append(request.target);
  try {
    co_return co_await state_->handler(std::move(request));
  } catch (const std::exception& e) {
    spdlog::error("http: handler for {} from {} failed: {}", what, remote_address_, e.what());
  } catch (...) {
    spdlog::error("http: handler for {} from {} failed: unknown exception", what, remote_address_);
  }
  co_return HttpResponse::Text(500, "internal error");
}

asio::awaitable<bool> HttpConnection::Write(HttpResponse response, unsigned version,
                                            bool keep_alive, bool head) {
  beast::error_code ec;
  stream_.expires_after(state_->options.write_timeout);
  if (response.body_parts.empty() || head) {
    SerializeResponse(std::move(response), version, keep_alive, head, out_);
    std::tie(ec, std::ignore) =
        co_await asio::async_write(stream_, asio::buffer(out_), TransferAllAtOnce{}, kToken);
  } else {
    // A gather write of the shared parts: no copy of a kept body into out_.
    Sanitise(response);
    SerializeHead(response, version, keep_alive, out_);
    out_.append(response.body);
    std::vector<asio::const_buffer> buffers;
    buffers.reserve(response.body_parts.size() + 1);
    buffers.emplace_back(out_.data(), out_.size());
    for (const SharedText& part : response.body_parts) {
      if (!part.text.empty()) buffers.emplace_back(part.text.data(), part.text.size());
    }
    std::tie(ec, std::ignore) =
        co_await asio::async_write(stream_, buffers, TransferAllAtOnce{}, kToken);
  }
  stream_.expires_never();
  if (out_.capacity() > kKeptOutputBytes) std::string().swap(out_);  // a big answer: let it go
  if (ec) spdlog::debug("http: writing to {} failed: {}", remote_address_, ec.message());
  co_return !ec;
}

asio::awaitable<void> HttpConnection::AnswerReadError(const beast::error_code& ec) {
  const auto& options = state_->options;
  if (ec == http::error::header_limit) {
    co_await RejectAndClose(HttpResponse::Text(
        431,
        "request header fields exceed " + std::to_string(options.max_header_bytes) + " bytes"));
  } else if (ec == http::error::body_limit) {
    co_await RejectAndClose(HttpResponse::Text(
        413, "request body exceeds " + std::to_string(options.max_body_bytes) + " bytes"));
  } else if (IsHttpParseError(ec)) {
    co_await RejectAndClose(HttpResponse::Text(400, "malformed request: " + ec.message()));
  } else {
    // EOF, reset, timeout (slowloris) or Stop(): nobody to answer.
    spdlog::debug("http: reading a request from {} failed: {}", remote_address_, ec.message());
    Close();
  }
}

// Answers an unusable request with "Connection: close", then closes after draining what the
// peer is still sending.
asio::awaitable<void> HttpConnection::RejectAndClose(HttpResponse response) {
  spdlog::debug("http: rejecting a request from {}: {} {}", remote_address_, response.status,
                response.body.substr(0, response.body.size() - 1));
  if (!co_await Write(std::move(response), 11, /*keep_alive=*/false, /*head=*/false)) {
    Close();
    co_return;
  }
  beast::error_code ignored;
  stream_.socket().shutdown(tcp::socket::shutdown_send, ignored);
  stream_.expires_after(kDrainTime);
  std::array<char, 8192> scratch;
  for (size_t drained = 0; drained < kDrainBytes;) {
    auto [ec, n] = co_await stream_.async_read_some(asio::buffer(scratch), kToken);
    if (ec) break;
    drained += n;
  }
  Close();
}

void HttpConnection::Close() {
  beast::error_code ignored;
  stream_.socket().shutdown(tcp::socket::shutdown_both, ignored);
  stream_.close();
}

void StartConnection(tcp::socket socket, std::shared_ptr<HttpServerState> state) {
  auto executor = socket.get_executor();
  auto connection = std::make_unique<HttpConnection>(std::move(socket), std::move(state));
  asio::co_spawn(executor, HttpConnection::Serve(std::move(connection)),
                 LogCoroutineFailure{"connection"});
}

void CloseIdleConnections(HttpServerState& state) {
  for (HttpConnection* connection : state.connections) connection->CloseIfIdle();
}

void LogCoroutineFailure::operator()(std::exception_ptr error) const {
  if (!error) return;
  try {
    std::rethrow_exception(error);
  } catch (const std::exception& e) {
    spdlog::error("http: {} failed: {}", what, e.what());
  } catch (...) {
    spdlog::error("http: {} failed: unknown exception", what);
  }
}

}  // namespace sonde
