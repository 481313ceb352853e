// A Kubernetes API client over HTTPS (HTTP/1.1, keep-alive), for the operator and the
// bundled Kubernetes checks. Requests are coroutines on the caller's executor; every request
// has a deadline and a bounded response; the client limits its own rate (QPS and burst,
// Kuberhealthy #1534) and re-reads a rotating service-account token.
//
// Thread safety: not thread-safe. Use one client from one executor (the daemon's event loop).
// Ownership: the client owns its connections; a WatchHandler is borrowed for the call.
// Failure: an HTTP answer of any status is a value (Response); only transport failures
// (connect, TLS, timeout, oversized answer) are errors, with messages that name the request:
// "GET https://127.0.0.1:6443/api/v1/pods: connect: Connection refused".
#pragma once

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/ssl/context.hpp>
#include <boost/json/object.hpp>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "core/clock.hpp"
#include "core/result.hpp"
#include "kube/kube_config.hpp"
#include "scheduler/heartbeat.hpp"

namespace sonde::kube {

struct ClientOptions {
  // Client-side rate limit: client-go's defaults (5 QPS, burst 10) throttle operators with
  // many checks, so Sonde's are higher and configurable.
  double qps = 50;
  int64_t burst = 100;
  Duration request_timeout = std::chrono::seconds(30);
  size_t max_response_bytes = 64u << 20;  // a list of many pods fits
  size_t max_watch_event_bytes = 8u << 20;
  Duration token_reread = std::chrono::minutes(1);  // kubelet rotates tokens well before expiry
  size_t max_idle_connections = 4;
  int max_retries_429 = 3;  // Retry-After honoured within the request's deadline
  std::string user_agent = "sonde";
};

struct Response {
  int status = 0;
  std::string body;
  Duration retry_after{};  // from a 429/503's Retry-After (seconds form), else 0
};

// A watch event: "ADDED", "MODIFIED", "DELETED", "BOOKMARK" or "ERROR" (object: a Status).
struct WatchEvent {
  std::string type;
  boost::json::object object;
};
// Called for each event of a watch; returning false ends the watch.
using WatchHandler = std::function<bool(WatchEvent&)>;

// "409 Conflict: Operation cannot be fulfilled on leases ..." from an error answer's Status.
std::string DescribeStatus(const Response& response);
// The Status `code` of a watch ERROR event (410 for "too old resource version"); 0 if none.
int StatusCode(const boost::json::object& status);

class KubeClient {
 public:
  KubeClient(boost::asio::any_io_executor executor, const Clock& clock, ClusterConfig config,
             ClientOptions options = {});
  ~KubeClient();
  KubeClient(const KubeClient&) = delete;
  KubeClient& operator=(const KubeClient&) = delete;

  // Checks the TLS material (CA, client certificate and key) once; call before requests.
  Status Init();

  // One request. `path` includes the query ("/api/v1/pods?limit=500"). `content_type` is for
  // the body ("application/merge-patch+json" for a merge patch).
  boost::asio::awaitable<Result<Response>> Call(std::string method, std::string path,
                                                std::string body = {},
                                                std::string content_type = "application/json");

  // A watch: streams events to `handler` until the server ends the stream (its
  // timeoutSeconds), the handler returns false, or `max_duration` passes. Returns the
  // response: 200 with an empty body after a stream, or the server's error answer.
  boost::asio::awaitable<Result<Response>> Watch(std::string path, WatchHandler handler,
                                                 Duration max_duration);

  const ClusterConfig& config() const { return config_; }
  // Requests sent (after rate limiting), for tests and the docs' API-writes figure.
  uint64_t requests_sent() const { return requests_sent_; }

 private:
  struct Connection;
  boost::asio::awaitable<Result<std::unique_ptr<Connection>>> Connect(
      std::chrono::steady_clock::time_point deadline);
  boost::asio::awaitable<Result<Response>> Exchange(const std::string& method,
                                                    const std::string& path,
                                                    const std::string& body,
                                                    const std::string& content_type);
  boost::asio::awaitable<void> WaitForToken();
  std::string BearerToken(bool force_reread);

  boost::asio::any_io_executor executor_;
  const Clock& clock_;
  ClusterConfig config_;
  ClientOptions options_;
  std::string host_, port_, host_header_;
  std::unique_ptr<boost::asio::ssl::context> tls_;
  RateLimiter limiter_;
  std::vector<std::unique_ptr<Connection>> idle_;
  std::string token_;
  TimePoint token_read_{};
  uint64_t requests_sent_ = 0;
};

}  // namespace sonde::kube
