#include "server/http_forward.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/string_body.hpp>
#include <boost/beast/http/write.hpp>
#include <boost/url/parse.hpp>

namespace sonde {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
constexpr auto kToken = asio::as_tuple(asio::use_awaitable);

asio::awaitable<Result<HttpResponse>> ForwardRequest(const std::string& base_url,
                                                     const HttpRequest& request, Duration timeout,
                                                     size_t max_body_bytes) {
  using R = Result<HttpResponse>;
  const std::string what = request.method + " " + base_url + request.target;
  auto url = boost::urls::parse_uri(base_url);
  if (!url || url->scheme() != "http" || url->host().empty()) {
    co_return R::Error(what + ": not a plain http:// URL");
  }
  const std::string port = url->has_port() ? std::string(url->port()) : "80";
  auto executor = co_await asio::this_coro::executor;
  asio::ip::tcp::resolver resolver(executor);
  auto [rec, endpoints] = co_await resolver.async_resolve(url->host_address(), port, kToken);
  if (rec) co_return R::Error(what + ": " + rec.message());
  beast::tcp_stream stream(executor);
  stream.expires_after(std::chrono::duration_cast<std::chrono::steady_clock::duration>(timeout));
  auto [cec, connected] = co_await stream.async_connect(endpoints, kToken);
  if (cec) co_return R::Error(what + ": " + cec.message());

  http::request<http::string_body> out{http::string_to_verb(request.method), request.target, 11};
  out.set(http::field::host, url->encoded_host_and_port());
  for (const char* name : {"content-type", "kh-run-uuid"}) {
    if (const std::string value = request.Header(name); !value.empty()) out.set(name, value);
  }
  out.set("x-forwarded-for", request.remote_address);
  out.body() = request.body;
  out.prepare_payload();
  auto [wec, written] = co_await http::async_write(stream, out, kToken);
  if (wec) co_return R::Error(what + ": " + wec.message());
  beast::flat_buffer buffer;
  http::response_parser<http::string_body> parser;
  parser.body_limit(max_body_bytes);
  auto [ec, read] = co_await http::async_read(stream, buffer, parser, kToken);
  if (ec) co_return R::Error(what + ": " + ec.message());
  auto& answer = parser.get();
  HttpResponse response;
  response.status = static_cast<int>(answer.result_int());
  response.content_type = std::string(answer[http::field::content_type]);
  response.body = std::move(answer.body());
  co_return response;
}

}  // namespace sonde
