// Heartbeat endpoints: the checks' reporting URLs and token rotation. See docs/http-api.md.
#include <boost/asio/async_result.hpp>
#include <boost/asio/dispatch.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <chrono>

#include "engine/http_api.hpp"

namespace sonde {
namespace {

namespace asio = boost::asio;

// Runs `start(callback)` and waits for the callback's value, resumed on the caller's executor.
// A callback made later, from the executor's own thread (the engine's, after a commit),
// resumes the caller there and then instead of queueing another wake-up of the event loop;
// one made inside `start` is posted, so the caller is never resumed during its own suspension.
template <class T, class Start>
asio::awaitable<T> Await(Start start) {
  const auto executor = co_await asio::this_coro::executor;
  co_return co_await asio::async_initiate<const asio::use_awaitable_t<>&, void(T)>(
      [&](auto handler) {
        struct Pending {
          decltype(handler) resume;
          bool started = false;  // `start` has returned
        };
        auto pending = std::make_shared<Pending>(Pending{std::move(handler)});
        start([executor, pending](T v) {
          auto resume = [pending, v = std::move(v)]() mutable { pending->resume(std::move(v)); };
          if (pending->started) {
            asio::dispatch(executor, std::move(resume));
          } else {
            asio::post(executor, std::move(resume));
          }
        });
        pending->started = true;
      },
      asio::use_awaitable);
}

}  // namespace

void WriteHeartbeat(JsonWriter& w, const CheckSpec& spec, const HeartbeatView& hb) {
  w.Key("heartbeat");
  w.BeginObject();
  w.Key("url");
  hb.url.empty() ? w.Null() : w.String(hb.url);
  w.Key("due");
  w.String(FormatRfc3339Nano(hb.due));
  w.Key("graceSeconds");
  w.Double(std::chrono::duration<double>(hb.grace).count());
  w.Key("schedule");
  spec.heartbeat->schedule.empty() ? w.Null() : w.String(spec.heartbeat->schedule);
  w.Key("timezone");
  w.String(spec.heartbeat->timezone.empty() ? "UTC" : spec.heartbeat->timezone);
  w.Key("started");
  hb.started ? w.String(FormatRfc3339Nano(*hb.started)) : w.Null();
  w.EndObject();
}

asio::awaitable<HttpResponse> HttpApi::Heartbeat(const HttpRequest& request) {
  if (request.method != "POST" && !IsRead(request)) co_return MethodNotAllowed(request, "POST");
  std::string_view rest = std::string_view(request.path).substr(kHeartbeatPrefix.size());
  HeartbeatSignal signal = HeartbeatSignal::kReport;
  const size_t slash = rest.find('/');
  if (slash != std::string_view::npos) {
    const std::string_view suffix = rest.substr(slash + 1);
    if (suffix == "start") {
      signal = HeartbeatSignal::kStart;
    } else if (suffix == "fail") {
      signal = HeartbeatSignal::kFail;
    } else {
      co_return HttpResponse::Text(404,
                                   "no such endpoint: use the heartbeat URL, or it with "
                                   "/start or /fail");
    }
    rest = rest.substr(0, slash);
  }
  const std::string token(rest);
  const HeartbeatAnswer answer = co_await Await<HeartbeatAnswer>(
      [&](auto done) { engine_.HandleHeartbeat(token, signal, request.body, std::move(done)); });
  HttpResponse r = HttpResponse::Text(answer.http_status, answer.reason);
  if (answer.http_status == 429) {
    const auto secs = std::chrono::ceil<std::chrono::seconds>(answer.retry_after).count();
    r.headers.emplace_back("Retry-After", std::to_string(std::max<int64_t>(1, secs)));
  }
  co_return r;
}

asio::awaitable<HttpResponse> HttpApi::RotateHeartbeat(const HttpRequest& request) {
  if (request.method != "POST") co_return MethodNotAllowed(request, "POST");
  auto key = CheckParam(request);
  if (!key.ok()) co_return HttpResponse::Text(400, key.error());
  const Result<std::string> url = co_await Await<Result<std::string>>(
      [&](auto done) { engine_.RotateHeartbeatToken(key.value(), std::move(done)); });
  if (!url.ok()) {
    const bool unknown = url.error().rfind("no check ", 0) == 0;
    const bool not_heartbeat = url.error().find("is not a heartbeat") != std::string::npos;
    co_return HttpResponse::Text(unknown ? 404 : not_heartbeat ? 409 : 503, url.error());
  }
  JsonWriter w(true);
  w.BeginObject();
  w.Key("namespace");
  w.String(key.value().ns);
  w.Key("name");
  w.String(key.value().name);
  w.Key("url");
  w.String(url.value());
  w.EndObject();
  HttpResponse r;
  r.content_type = "application/json; charset=utf-8";
  r.body = w.str() + "\n";
  co_return r;
}

}  // namespace sonde
