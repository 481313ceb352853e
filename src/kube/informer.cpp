#include "kube/informer.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/bind_cancellation_slot.hpp>
#include <boost/asio/cancellation_signal.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <boost/url/encode.hpp>
#include <boost/url/rfc/unreserved_chars.hpp>
#include <cmath>
#include <random>

namespace sonde::kube {

namespace asio = boost::asio;
namespace json = boost::json;

namespace {

const json::string* Field(const json::object& object, const char* a, const char* b) {
  const auto* outer = object.if_contains(a);
  if (outer == nullptr || !outer->is_object()) return nullptr;
  const auto* inner = outer->as_object().if_contains(b);
  return inner != nullptr && inner->is_string() ? &inner->as_string() : nullptr;
}

std::string Encode(std::string_view text) {
  return boost::urls::encode(text, boost::urls::unreserved_chars);
}

}  // namespace

std::string ObjectKey(const json::object& object) {
  const auto* name = Field(object, "metadata", "name");
  if (name == nullptr) return "";
  const auto* ns = Field(object, "metadata", "namespace");
  if (ns == nullptr || ns->empty()) return std::string(*name);
  return std::string(*ns) + "/" + std::string(*name);
}

std::string ResourceVersion(const json::object& object) {
  const auto* rv = Field(object, "metadata", "resourceVersion");
  return rv == nullptr ? "" : std::string(*rv);
}

struct Informer::State {
  State(KubeClient& c, InformerOptions o, InformerHandlers h)
      : client(c), options(std::move(o)), handlers(std::move(h)), random(std::random_device{}()) {}

  KubeClient& client;
  InformerOptions options;
  InformerHandlers handlers;
  std::map<std::string, json::object> objects;
  std::string resource_version;  // "" until listed, and after a 410
  bool synced = false;
  bool stopped = false;
  bool running = false;
  InformerStats stats;
  std::string last_error;
  int failures = 0;  // consecutive failures, for the back-off
  std::mt19937 random;
  asio::cancellation_signal cancel;

  std::string Query(bool watch) const {
    std::string query =
        watch ? "?watch=1&allowWatchBookmarks=true" : "?limit=" + std::to_string(options.page_size);
    if (!options.label_selector.empty())
      query += "&labelSelector=" + Encode(options.label_selector);
    return query;
  }

  void Fail(std::string message) {
    last_error = std::move(message);
    ++stats.errors;
    ++failures;
  }

  Duration Backoff() {
    const double base = std::chrono::duration<double>(options.min_backoff).count() *
                        std::pow(2.0, std::min(failures - 1, 16));
    const double cap = std::chrono::duration<double>(options.max_backoff).count();
    const double jitter = std::uniform_real_distribution<double>(0.5, 1.0)(random);
    return std::chrono::duration_cast<Duration>(
        std::chrono::duration<double>(std::min(base, cap) * jitter));
  }

  // Replaces the cache with a complete list; objects gone from it are removed.
  asio::awaitable<void> List() {
    std::map<std::string, json::object> fresh;
    std::string next, rv;
    do {
      std::string path = options.path + Query(false);
      if (!next.empty()) path += "&continue=" + Encode(next);
      auto response = co_await client.Call("GET", path);
      if (stopped) co_return;
      if (!response.ok()) {
        Fail(response.error());
        co_return;
      }
      if (response.value().status != 200) {
        Fail("GET " + path + ": " + DescribeStatus(response.value()));
        co_return;
      }
      boost::system::error_code ec;
      json::value list = json::parse(response.value().body, ec);
      if (ec || !list.is_object()) {
        Fail("GET " + path + ": the answer is not a JSON object");
        co_return;
      }
      auto& object = list.as_object();
      if (auto* items = object.if_contains("items"); items && items->is_array()) {
        for (auto& item : items->as_array()) {
          if (item.is_object()) fresh[ObjectKey(item.as_object())] = std::move(item.as_object());
        }
      }
      next.clear();
      if (const auto* c = Field(object, "metadata", "continue")) next = std::string(*c);
      if (const auto* v = Field(object, "metadata", "resourceVersion")) rv = std::string(*v);
    } while (!next.empty());
    ++stats.lists;
    for (const auto& [key, old] : objects) {
      if (!fresh.count(key) && handlers.remove) handlers.remove(old);
    }
    for (const auto& [key, object] : fresh) {
      const auto old = objects.find(key);
      if ((old == objects.end() || ResourceVersion(old->second) != ResourceVersion(object)) &&
          handlers.upsert) {
        handlers.upsert(object);
      }
    }
    objects = std::move(fresh);
    resource_version = rv;
    synced = true;
    if (handlers.synced) handlers.synced();
  }

  // Applies one event; false ends the watch (an ERROR event).
  bool Apply(WatchEvent& event) {
    if (stopped) return false;
    if (event.type == "ERROR") {
      if (StatusCode(event.object) == 410) {
        ++stats.gone;
        resource_version.clear();
      } else {
        Fail("watch " + options.path + ": " + json::serialize(event.object).substr(0, 300));
      }
      return false;
    }
    const std::string rv = ResourceVersion(event.object);
    if (!rv.empty()) resource_version = rv;
    if (event.type == "BOOKMARK") return true;
    const std::string key = ObjectKey(event.object);
    if (event.type == "DELETED") {
      objects.erase(key);
      if (handlers.remove) handlers.remove(event.object);
    } else {
      objects[key] = event.object;
      if (handlers.upsert) handlers.upsert(event.object);
    }
    return true;
  }

  asio::awaitable<void> WatchOnce() {
    const int seconds = options.watch_seconds +
                        std::uniform_int_distribution<int>(0, options.watch_seconds - 1)(random);
    const std::string path = options.path + Query(true) +
                             "&resourceVersion=" + Encode(resource_version) +
                             "&timeoutSeconds=" + std::to_string(seconds);
    ++stats.watches;
    auto response = co_await client.Watch(
        path, [this](WatchEvent& event) { return Apply(event); },
        std::chrono::seconds(seconds + 30));
    if (stopped) co_return;
    if (!response.ok()) {
      Fail(response.error());
    } else if (response.value().status == 410) {
      ++stats.gone;
      resource_version.clear();
    } else if (response.value().status != 200) {
      Fail("GET " + path + ": " + DescribeStatus(response.value()));
    }
  }

  // Lists when there is no resourceVersion to resume from, else watches; backs off after a
  // failure, and goes straight on after a 410 or a watch the server ended.
  asio::awaitable<void> Run(std::shared_ptr<State> self) {
    while (!self->stopped) {
      const uint64_t errors_before = stats.errors;
      if (resource_version.empty()) {
        co_await List();
      } else {
        co_await WatchOnce();
      }
      if (self->stopped) break;
      if (stats.errors == errors_before) {
        failures = 0;
        last_error.clear();
        continue;
      }
      asio::steady_timer timer(co_await asio::this_coro::executor, Backoff());
      co_await timer.async_wait(asio::as_tuple(asio::use_awaitable));
    }
    running = false;
  }
};

Informer::Informer(KubeClient& client, InformerOptions options, InformerHandlers handlers)
    : state_(std::make_shared<State>(client, std::move(options), std::move(handlers))) {}

Informer::~Informer() { Stop(); }

void Informer::Start(asio::any_io_executor executor) {
  if (state_->running) return;
  state_->running = true;
  state_->stopped = false;
  auto state = state_;
  asio::co_spawn(executor, state->Run(state),
                 asio::bind_cancellation_slot(state->cancel.slot(), asio::detached));
}

void Informer::Stop() {
  if (!state_->running || state_->stopped) return;
  state_->stopped = true;
  state_->handlers = {};
  state_->cancel.emit(asio::cancellation_type::terminal);
}

bool Informer::synced() const { return state_->synced; }
const std::map<std::string, json::object>& Informer::objects() const { return state_->objects; }
const json::object* Informer::Find(const std::string& key) const {
  const auto it = state_->objects.find(key);
  return it == state_->objects.end() ? nullptr : &it->second;
}
const InformerStats& Informer::stats() const { return state_->stats; }
const std::string& Informer::last_error() const { return state_->last_error; }
std::string Informer::resource() const {
  const std::string& path = state_->options.path;
  return path.substr(path.rfind('/') + 1);
}

}  // namespace sonde::kube
