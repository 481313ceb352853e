#include "kube/leader_elector.hpp"

#include <spdlog/spdlog.h>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <random>

#include "kube/informer.hpp"

namespace sonde::kube {

namespace asio = boost::asio;
namespace json = boost::json;

struct LeaderElector::State {
  State(asio::any_io_executor e, const Clock& c, KubeClient& k, LeaseOptions o, std::string id,
        std::string url, LeaderCallbacks cb)
      : executor(std::move(e)),
        clock(c),
        client(k),
        options(std::move(o)),
        identity(std::move(id)),
        reporting_url(std::move(url)),
        callbacks(std::move(cb)),
        timer(executor),
        random(std::random_device{}()) {}

  asio::any_io_executor executor;
  const Clock& clock;
  KubeClient& client;
  LeaseOptions options;
  std::string identity, reporting_url;
  LeaderCallbacks callbacks;
  asio::steady_timer timer;
  std::mt19937 random;
  LeaseObservation observed;
  bool leading = false, stopped = false, running = false;
  TimePoint last_renew{};
  std::string leader, leader_url;
  uint64_t transitions = 0;

  std::string Collection() const {
    return "/apis/coordination.k8s.io/v1/namespaces/" + options.ns + "/leases";
  }

  // Reads holder and reporting URL of a Lease object into the observation.
  void See(const json::object& lease, TimePoint now) {
    auto record = ReadLease(lease);
    if (!record.ok()) {
      spdlog::warn("{}", record.error());
      return;
    }
    if (observed.record && observed.record->holder != record.value().holder) ++transitions;
    observed = Observe(observed, record.value(), now);
    if (leader != record.value().holder) {
      leader = record.value().holder;
      if (callbacks.leader_seen) callbacks.leader_seen(leader);
    }
    leader_url.clear();
    const auto* meta = lease.if_contains("metadata");
    const auto* notes =
        meta && meta->is_object() ? meta->as_object().if_contains("annotations") : nullptr;
    if (notes && notes->is_object()) {
      if (const auto* url = notes->as_object().if_contains(kLeaderUrlAnnotation);
          url && url->is_string()) {
        leader_url = std::string(url->as_string());
      }
    }
  }

  void Lose(const char* why) {
    if (!leading) return;
    leading = false;
    spdlog::warn("leader election: {} is no longer the leader ({})", identity, why);
    if (callbacks.stopped_leading) callbacks.stopped_leading();
  }

  asio::awaitable<void> Try() {
    const std::string path = Collection() + "/" + options.name;
    auto got = co_await client.Call("GET", path);
    if (stopped) co_return;
    TimePoint now = clock.Now();
    if (!got.ok() || (got.value().status != 200 && got.value().status != 404)) {
      spdlog::warn("leader election: GET {}: {}", path,
                   got.ok() ? DescribeStatus(got.value()) : got.error());
      if (leading && !StillLeader(last_renew, now, options)) Lose("cannot renew the lease");
      co_return;
    }
    if (got.value().status == 404) {
      observed = LeaseObservation{std::nullopt, now};
    } else {
      boost::system::error_code ec;
      const auto lease = json::parse(got.value().body, ec);
      if (ec || !lease.is_object()) co_return;
      See(lease.as_object(), now);
    }
    LeaseDecision decision = DecideLease(observed, identity, now, options);
    if (decision.action == LeaseAction::kWait) {
      Lose(("the lease is held by " + decision.holder).c_str());
      co_return;
    }
    auto& meta = decision.object["metadata"].as_object();
    if (!meta.contains("annotations")) meta["annotations"] = json::object();
    meta["annotations"].as_object()[kLeaderUrlAnnotation] = reporting_url;
    const bool create = decision.action == LeaseAction::kCreate;
    // Named arguments: g++ 12 mis-destroys temporaries of a conditional inside a co_await.
    std::string method = create ? "POST" : "PUT";
    std::string target = create ? Collection() : path;
    auto wrote = co_await client.Call(std::move(method), std::move(target),
                                      json::serialize(decision.object));
    if (stopped) co_return;
    now = clock.Now();
    if (wrote.ok() && (wrote.value().status == 200 || wrote.value().status == 201)) {
      boost::system::error_code ec;
      const auto lease = json::parse(wrote.value().body, ec);
      if (!ec && lease.is_object()) See(lease.as_object(), now);
      last_renew = now;
      if (!leading) {
        leading = true;
        spdlog::info("leader election: {} leads (lease {}/{})", identity, options.ns, options.name);
        if (callbacks.started_leading) callbacks.started_leading();
      }
      co_return;
    }
    // 409: another replica wrote first. Anything else: the server is in trouble.
    if (leading && !StillLeader(last_renew, now, options)) Lose("cannot renew the lease");
  }

  // Gives the lease up: read it afresh (a renew may have been in flight), and if it is still
  // ours, write it released; a conflict means it changed meanwhile, so read and try again.
  asio::awaitable<void> Release(std::shared_ptr<State> self, std::function<void()> done) {
    const std::string path = Collection() + "/" + options.name;
    for (int attempt = 0; attempt < 3; ++attempt) {
      auto got = co_await client.Call("GET", path);
      if (!got.ok() || got.value().status != 200) break;
      boost::system::error_code ec;
      const auto lease = json::parse(got.value().body, ec);
      if (ec || !lease.is_object()) break;
      auto record = ReadLease(lease.as_object());
      if (!record.ok() || record.value().holder != identity) break;  // not ours any more
      const std::string body = json::serialize(ReleaseLease(record.value(), clock.Now(), options));
      auto wrote = co_await client.Call("PUT", path, body);
      if (wrote.ok() && wrote.value().status == 200) break;
      if (!wrote.ok() || wrote.value().status != 409) {
        spdlog::warn("leader election: releasing the lease failed: {}",
                     wrote.ok() ? DescribeStatus(wrote.value()) : wrote.error());
        break;
      }
    }
    self->Lose("stopping");
    if (done) done();
  }

  asio::awaitable<void> Loop(std::shared_ptr<State> self) {
    while (!self->stopped) {
      co_await Try();
      if (self->stopped) break;
      // Followers wait a little longer at random (client-go's jitter 1.2) so that replicas
      // started together do not all try at the same instant.
      double factor = leading ? 1.0 : std::uniform_real_distribution<double>(1.0, 1.2)(random);
      timer.expires_after(std::chrono::duration_cast<std::chrono::steady_clock::duration>(
          options.retry_period * factor));
      co_await timer.async_wait(asio::as_tuple(asio::use_awaitable));
    }
    running = false;
  }
};

LeaderElector::LeaderElector(asio::any_io_executor executor, const Clock& clock, KubeClient& client,
                             LeaseOptions options, std::string identity, std::string reporting_url,
                             LeaderCallbacks callbacks)
    : state_(std::make_shared<State>(std::move(executor), clock, client, std::move(options),
                                     std::move(identity), std::move(reporting_url),
                                     std::move(callbacks))) {}

LeaderElector::~LeaderElector() {
  state_->stopped = true;
  state_->callbacks = {};
  state_->timer.cancel();
}

void LeaderElector::Start() {
  if (state_->running) return;
  state_->running = true;
  state_->stopped = false;
  asio::co_spawn(state_->executor, state_->Loop(state_), asio::detached);
}

void LeaderElector::Stop(std::function<void()> done) {
  auto state = state_;
  state->stopped = true;
  state->timer.cancel();
  if (!state->leading || !state->observed.record) {
    state->Lose("stopping");
    if (done) done();
    return;
  }
  asio::co_spawn(state->executor, state->Release(state, std::move(done)), asio::detached);
}

bool LeaderElector::leading() const { return state_->leading; }
const std::string& LeaderElector::identity() const { return state_->identity; }
const std::string& LeaderElector::leader() const { return state_->leader; }
const std::string& LeaderElector::leader_url() const { return state_->leader_url; }
uint64_t LeaderElector::transitions_seen() const { return state_->transitions; }

}  // namespace sonde::kube
