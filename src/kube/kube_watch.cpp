// KubeClient::Watch: a streamed GET read event by event (one JSON object per line), on a
// connection of its own that never returns to the pool.
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/string_body.hpp>
#include <boost/beast/http/write.hpp>
#include <boost/beast/ssl/ssl_stream.hpp>
#include <boost/json/parse.hpp>

#include "kube/kube_client.hpp"
#include "kube/kube_connection.hpp"
#include "probe/net.hpp"

namespace sonde::kube {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
namespace json = boost::json;

namespace {

constexpr auto kToken = asio::as_tuple(asio::use_awaitable);

// Splits complete lines off `pending` and hands each event to `handler`. Returns an error
// message for a line that is not an event, "" otherwise; `stop` is set when the handler
// asks to end the watch.
std::string DeliverLines(std::string& pending, const WatchHandler& handler, bool& stop) {
  size_t start = 0;
  for (size_t end; !stop && (end = pending.find('\n', start)) != std::string::npos;
       start = end + 1) {
    const std::string_view line(pending.data() + start, end - start);
    if (line.find_first_not_of(" \r\t") == std::string_view::npos) continue;
    boost::system::error_code ec;
    json::value parsed = json::parse(line, ec);
    if (ec || !parsed.is_object() || !parsed.as_object().contains("type") ||
        !parsed.as_object().at("type").is_string()) {
      return "not a watch event: " + std::string(line.substr(0, 200));
    }
    auto& event_object = parsed.as_object();
    WatchEvent event;
    event.type = std::string(event_object.at("type").as_string());
    if (auto* object = event_object.if_contains("object"); object && object->is_object()) {
      event.object = std::move(object->as_object());
    }
    stop = !handler(event);
  }
  pending.erase(0, start);
  return "";
}

}  // namespace

asio::awaitable<Result<Response>> KubeClient::Watch(std::string path, WatchHandler handler,
                                                    Duration max_duration) {
  using R = Result<Response>;
  const std::string what = "GET " + config_.server + path;
  co_await WaitForToken();
  const auto deadline = DeadlineAfter(max_duration);
  auto connected = co_await Connect(deadline);
  if (!connected.ok()) co_return R::Error(what + ": " + connected.error());
  auto& connection = *connected.value();

  http::request<http::string_body> request{http::verb::get, path, 11};
  request.set(http::field::host, host_header_);
  request.set(http::field::user_agent, options_.user_agent);
  request.set(http::field::accept, "application/json");
  if (const std::string token = BearerToken(false); !token.empty()) {
    request.set(http::field::authorization, "Bearer " + token);
  }
  ++requests_sent_;
  auto [ec, n] = co_await http::async_write(connection.stream, request, kToken);
  http::response_parser<http::string_body> parser;
  parser.body_limit(options_.max_response_bytes);
  if (!ec) {
    std::tie(ec, n) =
        co_await http::async_read_header(connection.stream, connection.buffer, parser, kToken);
  }
  if (ec) co_return R::Error(what + ": " + DescribeNetError(ec, max_duration));
  const int status = static_cast<int>(parser.get().result_int());
  if (status != 200) {
    std::tie(ec, n) =
        co_await http::async_read(connection.stream, connection.buffer, parser, kToken);
    if (ec) co_return R::Error(what + ": " + DescribeNetError(ec, max_duration));
    co_return Response{status, std::move(parser.get().body()), {}};
  }

  // Chunks go to `pending` instead of the body, so a stream of any length stays bounded by
  // the largest single event.
  std::string pending;
  parser.body_limit(boost::none);
  auto to_pending = [&pending](uint64_t, std::string_view chunk, beast::error_code&) {
    pending.append(chunk);
    return chunk.size();
  };
  parser.on_chunk_body(to_pending);  // Beast keeps a reference: to_pending outlives the reads
  bool stop = false;
  while (!stop && !parser.is_done()) {
    std::tie(ec, n) =
        co_await http::async_read_some(connection.stream, connection.buffer, parser, kToken);
    if (ec) break;
    if (std::string bad = DeliverLines(pending, handler, stop); !bad.empty()) {
      co_return R::Error(what + ": " + bad);
    }
    if (pending.size() > options_.max_watch_event_bytes) {
      co_return R::Error(what + ": an event is larger than " +
                         std::to_string(options_.max_watch_event_bytes) + " bytes");
    }
  }
  // A stream that reached its deadline or was closed by the server ends like one that
  // timed out on the server: the caller resumes from the last resourceVersion it saw.
  if (ec && ec != beast::error::timeout && ec != http::error::end_of_stream &&
      ec != asio::error::eof && ec != asio::error::operation_aborted) {
    co_return R::Error(what + ": " + DescribeNetError(ec, max_duration));
  }
  if (ec == asio::error::operation_aborted) co_return R::Error(what + ": cancelled");
  pending.append(parser.get().body());  // a server that answered without chunking
  pending.push_back('\n');
  if (std::string bad = DeliverLines(pending, handler, stop); !bad.empty()) {
    co_return R::Error(what + ": " + bad);
  }
  co_return Response{200, {}, {}};
}

}  // namespace sonde::kube
