#include "checks/kube_session.hpp"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/json/parse.hpp>
#include <optional>

namespace sonde::checks_internal {

namespace asio = boost::asio;
namespace json = boost::json;

namespace {
// At most this many objects in one list: a check must not hold an unbounded cluster in memory.
constexpr size_t kMaxListItems = 200'000;
}  // namespace

Result<std::unique_ptr<KubeSession>> KubeSession::Open(const CheckEnv& env, Duration budget) {
  auto config =
      kube::ResolveClusterConfig("", "", [&env](const std::string& name) { return env.Get(name); });
  if (!config.ok()) {
    return Result<std::unique_ptr<KubeSession>>::Error("cannot find the Kubernetes API: " +
                                                       config.error());
  }
  std::unique_ptr<KubeSession> session(new KubeSession(std::move(config).value(), budget));
  if (Status s = session->client_->Init(); !s.ok()) {
    return Result<std::unique_ptr<KubeSession>>::Error(s.message());
  }
  return session;
}

KubeSession::KubeSession(kube::ClusterConfig config, Duration budget)
    : deadline_(std::chrono::steady_clock::now() +
                std::chrono::duration_cast<std::chrono::steady_clock::duration>(budget)),
      io_(std::make_unique<asio::io_context>()) {
  kube::ClientOptions options;
  options.request_timeout = budget;
  options.user_agent = "sonde-check";
  client_ =
      std::make_unique<kube::KubeClient>(io_->get_executor(), clock_, std::move(config), options);
}

KubeSession::~KubeSession() {
  if (abandoned_) {
    // A request's coroutine still refers to the client and its sockets to the event loop, and
    // neither can be torn down safely under it. The check's process is about to exit.
    (void)client_.release();
    (void)io_.release();
  }
}

Result<kube::Response> KubeSession::Call(const std::string& method, const std::string& path,
                                         const std::string& body, const std::string& content_type) {
  if (abandoned_) return Result<kube::Response>::Error(method + " " + path + ": out of time");
  std::optional<Result<kube::Response>> out;
  asio::co_spawn(
      *io_,
      [&]() -> asio::awaitable<void> {
        out.emplace(co_await client_->Call(method, path, body, content_type));
      },
      asio::detached);
  io_->restart();
  while (!out) {
    // The client's own request deadline ends the call; this bound only guards against a
    // request that never finishes (the client's rate limiter, a stuck handshake).
    if (io_->run_one_until(deadline_ + std::chrono::seconds(1)) == 0 && !out) {
      abandoned_ = true;
      return Result<kube::Response>::Error(method + " " + path +
                                           ": no answer before the check's deadline");
    }
  }
  return std::move(*out);
}

Result<json::object> KubeSession::Get(const std::string& path) {
  auto r = Call("GET", path);
  if (!r.ok()) return Result<json::object>::Error(r.error());
  if (r.value().status != 200) {
    return Result<json::object>::Error("GET " + path + ": " + kube::DescribeStatus(r.value()));
  }
  boost::system::error_code ec;
  json::value v = json::parse(r.value().body, ec);
  if (ec || !v.is_object()) {
    return Result<json::object>::Error("GET " + path + ": the answer is not a JSON object");
  }
  return std::move(v.as_object());
}

Result<std::vector<json::object>> KubeSession::List(const std::string& path) {
  using Out = Result<std::vector<json::object>>;
  std::vector<json::object> items;
  const char* sep = path.find('?') == std::string::npos ? "?" : "&";
  std::string next;
  do {
    auto page = Get(path + sep + "limit=500" + (next.empty() ? "" : "&continue=" + next));
    if (!page.ok()) return Out::Error(page.error());
    if (const auto* list = page.value().if_contains("items"); list && list->is_array()) {
      for (const json::value& item : list->get_array()) {
        if (item.is_object()) items.push_back(item.get_object());
      }
    }
    if (items.size() > kMaxListItems) {
      return Out::Error("GET " + path + ": more than " + std::to_string(kMaxListItems) +
                        " objects");
    }
    next.clear();
    if (const auto* meta = page.value().if_contains("metadata"); meta && meta->is_object()) {
      if (const auto* c = meta->get_object().if_contains("continue"); c && c->is_string()) {
        next = QueryEscape(c->get_string());
      }
    }
  } while (!next.empty());
  return items;
}

std::string QueryEscape(std::string_view value) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  for (unsigned char c : value) {
    if (std::isalnum(c) || c == '-' || c == '.' || c == '_' || c == '~') {
      out.push_back(static_cast<char>(c));
    } else {
      out += {'%', kHex[c >> 4], kHex[c & 15]};
    }
  }
  return out;
}

}  // namespace sonde::checks_internal
