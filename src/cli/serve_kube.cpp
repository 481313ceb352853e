// `sonde serve --kube`: the operator. The same engine and HTTP surface as the local daemon;
// checks come from custom resources (informers), runs are pods (PodRunner), state is in the
// cluster (ClusterStore over SQLite history), and a Lease decides which replica starts runs.
#include <spdlog/spdlog.h>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/steady_timer.hpp>
#include <set>

#include "cli/operator_metrics.hpp"
#include "cli/serve_internal.hpp"
#include "engine/engine.hpp"
#include "engine/http_api.hpp"
#include "kube/check_resource.hpp"
#include "kube/cluster_store.hpp"
#include "kube/informer.hpp"
#include "kube/kube_client.hpp"
#include "kube/leader_elector.hpp"
#include "kube/pod_runner.hpp"
#include "kube/reaper.hpp"
#include "metrics/registry.hpp"
#include "probe/registry.hpp"
#include "server/http_server.hpp"
#include "sonde_version.hpp"
#include "store/sqlite_store.hpp"

namespace sonde {
namespace {

namespace asio = boost::asio;
namespace json = boost::json;
using kube::Informer;

// Collection paths of a resource in each watched namespace (or all of them).
std::vector<std::string> Paths(const std::string& group_version, const std::string& plural,
                               const std::vector<std::string>& namespaces) {
  const std::string base = "/apis/" + group_version;
  if (namespaces.empty()) return {base + "/" + plural};
  std::vector<std::string> out;
  for (const auto& ns : namespaces) out.push_back(base + "/namespaces/" + ns + "/" + plural);
  return out;
}

std::string EnvOr(const char* name, std::string fallback) {
  auto value = kube::ProcessEnv(name);
  return value && !value->empty() ? *value : fallback;
}

class KubeDaemon {
 public:
  explicit KubeDaemon(const ServeSettings& s)
      : settings_(s),
        signals_(io_, SIGTERM, SIGINT),
        sync_timer_(io_),
        checks_timer_(io_),
        states_timer_(io_),
        stop_timer_(io_) {}

  int Run() {
    const KubeSettings& k = settings_.kube;
    auto cluster = kube::ResolveClusterConfig(k.kubeconfig, k.context, kube::ProcessEnv);
    if (!cluster.ok()) return Fail(cluster.error());
    kube::ClientOptions client_options;
    client_options.qps = k.qps;
    client_options.burst = static_cast<int64_t>(k.burst);
    client_options.user_agent = "sonde/" SONDE_VERSION;
    client_ = std::make_unique<kube::KubeClient>(io_.get_executor(), clock_, cluster.value(),
                                                 client_options);
    if (auto st = client_->Init(); !st.ok()) return Fail(st.message());
    lease_.name = k.lease_name;
    lease_.ns =
        !k.lease_namespace.empty() ? k.lease_namespace : EnvOr("POD_NAMESPACE", cluster.value().ns);
    if (lease_.ns.empty()) lease_.ns = "default";
    lease_.lease_duration = k.lease_duration;
    lease_.renew_deadline = k.renew_deadline;
    lease_.retry_period = k.retry_period;
    if (auto problem = kube::ValidateLeaseOptions(lease_); !problem.empty()) return Fail(problem);

    auto store = SqliteStore::Open(settings_.state_dir, SqliteOptions{});
    if (!store.ok()) return Fail(store.error());
    history_ = std::move(store.value());
    if (auto states = history_->TryLoadStates(); !states.ok()) return Fail(states.error());

    if (auto st = StartServer(); !st.ok()) return Fail(st.message());
    WaitForSignal();
    asio::co_spawn(io_, Discover(), asio::detached);
    spdlog::info("operator mode: API server {} ({}), lease {}/{}", cluster.value().server,
                 cluster.value().source, lease_.ns, lease_.name);
    io_.run();
    spdlog::info("stopped");
    return 0;
  }

 private:
  int Fail(const std::string& why) {
    spdlog::error("cannot start: {}", why);
    return 1;
  }

  Status StartServer() {
    auto address = ParseListenAddress(settings_.listen);
    if (!address.ok()) return Status::Error("--listen: " + address.error());
    HttpServerOptions http;
    http.host = address.value().first;
    http.port = address.value().second;
    http.max_body_bytes = settings_.max_report_bytes;
    server_ = std::make_unique<HttpServer>(
        io_.get_executor(), http, [this](HttpRequest r) -> asio::awaitable<HttpResponse> {
          if (!api_) co_return HttpResponse::Text(503, "starting: reading the cluster's checks");
          co_return co_await api_->Handle(std::move(r));
        });
    if (auto st = server_->Start(); !st.ok()) return st;
    const std::string port = std::to_string(server_->port());
    const std::string ns = lease_.ns;
    reporting_base_ = !settings_.reporting_url.empty()
                          ? ReportingBase(settings_, http.host, server_->port())
                          : EnvOr("KH_EXTERNAL_REPORTING_URL",
                                  "http://kuberhealthy." + ns + ".svc.cluster.local");
    while (!reporting_base_.empty() && reporting_base_.back() == '/') reporting_base_.pop_back();
    // Kuberhealthy v2's KH_EXTERNAL_REPORTING_URL is the whole report URL; Sonde adds the path.
    for (const std::string path : {"/externalCheckStatus", "/check"}) {
      if (reporting_base_.size() > path.size() &&
          reporting_base_.compare(reporting_base_.size() - path.size(), path.size(), path) == 0) {
        reporting_base_.resize(reporting_base_.size() - path.size());
      }
    }
    advertise_url_ = settings_.kube.advertise_url;
    if (advertise_url_.empty()) {
      const auto pod_ip = kube::ProcessEnv("POD_IP");
      advertise_url_ = pod_ip && !pod_ip->empty()
                           ? "http://" + *pod_ip + ":" + port
                           : ReportingBase(ServeSettings{}, http.host, server_->port());
    }
    return Status::Ok();
  }

  // Which check resources the API server serves: without Kuberhealthy's CRDs (or with only
  // some of them) the operator runs what it can, and the status page says what is missing.
  // An API server that cannot answer now is taken to serve them (the informers retry).
  asio::awaitable<void> Discover() {
    static const std::pair<const char*, std::vector<const char*>> kGroups[] = {
        {"comcast.github.io/v1", {"khchecks", "khjobs", "khstates"}},
        {"kuberhealthy.github.io/v2", {"healthchecks"}}};
    for (const auto& [group_version, plurals] : kGroups) {
      auto answer = co_await client_->Call("GET", std::string("/apis/") + group_version);
      if (!answer.ok() || (answer.value().status != 200 && answer.value().status != 404)) {
        spdlog::warn("discovery of {}: {}", group_version,
                     answer.ok() ? kube::DescribeStatus(answer.value()) : answer.error());
        for (const char* plural : plurals) served_.insert(plural);
        continue;
      }
      std::string listed;  // the served resources' names, each in quotes
      if (answer.value().status == 200) listed = answer.value().body;
      for (const char* plural : plurals) {
        if (listed.find(std::string("\"name\":\"") + plural + "\"") != std::string::npos) {
          served_.insert(plural);
          continue;
        }
        missing_.push_back(std::string(plural) + "." + group_version +
                           " is not served by the API server: apply its CRD from "
                           "deploy/kubernetes (docs/kubernetes.md)");
        spdlog::error("{}", missing_.back());
      }
    }
    if (stopping_) co_return;
    StartInformers();
    WaitForSync();
  }

  void AddInformers(std::vector<std::unique_ptr<Informer>>& into,
                    const std::vector<std::string>& paths, void (KubeDaemon::*changed)()) {
    if (paths.empty()) return;
    const std::string plural = paths.front().substr(paths.front().rfind('/') + 1);
    if (served_.count(plural) == 0) return;
    for (const auto& path : paths) {
      auto on_change = [this, changed](const json::object&) { (this->*changed)(); };
      into.push_back(std::make_unique<Informer>(
          *client_, kube::InformerOptions{.path = path},
          kube::InformerHandlers{.upsert = on_change, .remove = on_change}));
    }
  }

  void StartInformers() {
    const auto& ns = settings_.kube.namespaces;
    AddInformers(check_informers_, Paths("comcast.github.io/v1", "khchecks", ns),
                 &KubeDaemon::ChecksChanged);
    AddInformers(job_informers_, Paths("comcast.github.io/v1", "khjobs", ns),
                 &KubeDaemon::ChecksChanged);
    AddInformers(health_informers_, Paths("kuberhealthy.github.io/v2", "healthchecks", ns),
                 &KubeDaemon::ChecksAndStatesChanged);
    AddInformers(state_informers_, Paths("comcast.github.io/v1", "khstates", ns),
                 &KubeDaemon::StatesChanged);
    runner_ = std::make_unique<kube::PodRunner>(io_.get_executor(), clock_, *client_,
                                                kube::PodRunnerOptions{.namespaces = ns});
    for (auto* list : {&check_informers_, &job_informers_, &health_informers_, &state_informers_}) {
      for (auto& informer : *list) informer->Start(io_.get_executor());
    }
    runner_->Start();
  }

  bool Synced() const {
    for (const auto* list :
         {&check_informers_, &job_informers_, &health_informers_, &state_informers_}) {
      for (const auto& informer : *list) {
        if (!informer->synced()) return false;
      }
    }
    return runner_->synced();
  }

  void WaitForSync() {
    if (stopping_) return;
    if (Synced()) return Begin();
    sync_timer_.expires_after(std::chrono::milliseconds(50));
    sync_timer_.async_wait([this](boost::system::error_code ec) {
      if (!ec) WaitForSync();
    });
  }

  // Every cache is complete: build the engine as a follower, then contend for the lease.
  void Begin() {
    std::vector<const Informer*> states, health;
    for (const auto& i : state_informers_) states.push_back(i.get());
    for (const auto& i : health_informers_) health.push_back(i.get());
    store_ = std::make_unique<kube::ClusterStore>(io_.get_executor(), *client_, *history_, states,
                                                  health);
    EngineOptions o;
    o.instance_name = settings_.kube.identity.empty()
                          ? (settings_.instance_name.empty() ? HostName() : settings_.instance_name)
                          : settings_.kube.identity;
    events_ = std::make_unique<kube::EventRecorder>(io_.get_executor(), clock_, *client_,
                                                    o.instance_name);
    store_->SetEvents(events_.get());
    o.node_name = EnvOr("NODE_NAME", HostName());
    o.reporting_base_url = reporting_base_;
    o.max_concurrent_runs = settings_.max_concurrent_runs;
    o.metadata = settings_.state_metadata;
    engine_ = std::make_unique<Engine>(io_.get_executor(), clock_, *runner_, *store_, o, &metrics_);
    engine_->SetLeading(false);
    ApplyChecks();
    api_ = std::make_unique<HttpApi>(*engine_, *runner_, *store_, metrics_, settings_.metrics);
    api_->FindRunByPodIp([this](const std::string& ip) { return runner_->RunOfPodIp(ip); });
    api_->ForwardToLeader([this] {
      const std::string& url = elector_->leader_url();
      return url == advertise_url_ ? std::string() : url;
    });
    reaper_ = std::make_unique<kube::Reaper>(io_.get_executor(), clock_, *client_, ReaperSources(),
                                             ReaperOptions());
    api_->AddMetrics([this] { return OperatorFamilies(Counters()); });
    elector_ = std::make_unique<kube::LeaderElector>(
        io_.get_executor(), clock_, *client_, lease_, o.instance_name, advertise_url_,
        kube::LeaderCallbacks{
            .started_leading =
                [this] {
                  engine_->SetLeading(true);
                  reaper_->Start();
                },
            .stopped_leading =
                [this] {
                  reaper_->Stop();
                  engine_->SetLeading(false);
                },
            .leader_seen = [this](const std::string& holder) { engine_->SetLeaderName(holder); }});
    elector_->Start();
    spdlog::info("serving on port {} as {}; checkers report to {}", server_->port(),
                 o.instance_name, reporting_base_);
    if (!settings_.ready_file.empty()) {
      if (auto st = WriteReadyFile(settings_.ready_file, advertise_url_); !st.ok()) {
        spdlog::error("{}", st.message());
      }
    }
  }

  OperatorCounters Counters() const {
    OperatorCounters c;
    c.api_requests = client_->requests_sent();
    std::vector<const Informer*> all = runner_->pod_informers();
    for (const auto* list :
         {&check_informers_, &job_informers_, &health_informers_, &state_informers_}) {
      for (const auto& informer : *list) all.push_back(informer.get());
    }
    for (const Informer* informer : all) {
      InformerCounters& to = c.informers[informer->resource()];
      const kube::InformerStats& from = informer->stats();
      to.lists += from.lists;
      to.watches += from.watches;
      to.gone += from.gone;
      to.errors += from.errors;
    }
    if (reaper_->stats().sweeps > 0) {
      c.reaper_last_sweep = reaper_->stats().last_sweep;
      c.reaper_deleted_pods = reaper_->stats().deleted_pods;
    }
    c.events_recorded = events_->recorded();
    c.events_dropped = events_->dropped();
    return c;
  }

  kube::ReaperSources ReaperSources() const {
    kube::ReaperSources sources{.runner = runner_.get()};
    for (const auto& i : check_informers_) sources.khchecks.push_back(i.get());
    for (const auto& i : job_informers_) sources.khjobs.push_back(i.get());
    for (const auto& i : state_informers_) sources.khstates.push_back(i.get());
    return sources;
  }

  kube::ReaperOptions ReaperOptions() const {
    const KubeSettings& k = settings_.kube;
    return {.interval = k.reaper_interval,
            .max_check_pod_age = k.max_check_pod_age,
            .max_completed_pod_count = k.max_completed_pod_count,
            .max_error_pod_count = k.max_error_pod_count,
            .error_pod_retention = k.error_pod_retention,
            .max_khjob_age = k.max_khjob_age};
  }

  // Watch events come in bursts (a relist delivers every object): apply once per burst.
  void Debounce(asio::steady_timer& timer, bool& armed, void (KubeDaemon::*then)()) {
    if (armed || !engine_) return;
    armed = true;
    timer.expires_after(std::chrono::milliseconds(100));
    timer.async_wait([this, &armed, then](boost::system::error_code ec) {
      armed = false;
      if (!ec && !stopping_) (this->*then)();
    });
  }
  void ChecksChanged() { Debounce(checks_timer_, checks_armed_, &KubeDaemon::ApplyChecks); }
  void StatesChanged() { Debounce(states_timer_, states_armed_, &KubeDaemon::ObserveStates); }
  void ChecksAndStatesChanged() {
    ChecksChanged();
    StatesChanged();
  }

  void ApplyChecks() {
    std::vector<CheckSpec> specs;
    std::vector<std::string> errors = missing_;
    std::map<CheckKey, CheckKind> kinds;
    for (const auto* list : {&check_informers_, &job_informers_, &health_informers_}) {
      for (const auto& informer : *list) {
        for (const auto& [key, object] : informer->objects()) {
          auto check = kube::ReadCheckResource(object, {.probes = &probes_});
          if (!check.ok()) {
            errors.push_back(check.error());
            continue;
          }
          for (const auto& w : check.value().warnings) spdlog::debug("{}", w);
          kinds[check.value().spec.key] = check.value().spec.kind;
          specs.push_back(std::move(check.value().spec));
        }
      }
    }
    store_->SetKinds(std::move(kinds));
    engine_->ApplyChecks(std::move(specs), std::move(errors));
  }

  void ObserveStates() {
    if (!engine_->leading()) engine_->ObserveStates(store_->LoadStates());
  }

  void WaitForSignal() {
    signals_.async_wait([this](boost::system::error_code ec, int) {
      if (ec) return;
      if (stopping_) return Finish();  // a second signal: stop now
      BeginShutdown();
      WaitForSignal();
    });
  }

  // Followers just stop; a leader releases the lease so that another replica takes over at
  // its next try. Runs in flight are left to the next leader (it closes them).
  void BeginShutdown() {
    stopping_ = true;
    spdlog::info("stopping");
    if (engine_) engine_->StopScheduling();
    stop_timer_.expires_after(settings_.shutdown_timeout);
    stop_timer_.async_wait([this](boost::system::error_code ec) {
      if (!ec) Finish();
    });
    if (!elector_) return Finish();
    elector_->Stop([this] { Finish(); });
  }

  void Finish() {
    if (finished_) return;
    finished_ = true;
    if (runner_) runner_->KillAll();  // none yet if stopped before discovery ended
    server_->Stop();
    signals_.cancel();
    stop_timer_.cancel();
    io_.stop();
  }

  const ServeSettings& settings_;
  asio::io_context io_{1};
  SystemClock clock_;
  SondeMetrics metrics_{SONDE_VERSION};
  const ProbeRegistry probes_ = BuiltinProbes();
  kube::LeaseOptions lease_;
  std::unique_ptr<kube::KubeClient> client_;
  std::unique_ptr<SqliteStore> history_;
  std::vector<std::unique_ptr<Informer>> check_informers_, job_informers_, health_informers_;
  std::vector<std::unique_ptr<Informer>> state_informers_;
  std::unique_ptr<kube::PodRunner> runner_;
  std::unique_ptr<kube::EventRecorder> events_;  // before store_, which borrows it
  std::unique_ptr<kube::ClusterStore> store_;
  std::unique_ptr<Engine> engine_;
  std::unique_ptr<HttpApi> api_;
  std::unique_ptr<kube::Reaper> reaper_;
  std::unique_ptr<kube::LeaderElector> elector_;
  std::unique_ptr<HttpServer> server_;
  std::string reporting_base_, advertise_url_;
  std::set<std::string> served_;      // check resources the API server serves ("khchecks", ...)
  std::vector<std::string> missing_;  // the others, as the status page shows them
  asio::signal_set signals_;
  asio::steady_timer sync_timer_, checks_timer_, states_timer_, stop_timer_;
  bool checks_armed_ = false, states_armed_ = false;
  bool stopping_ = false, finished_ = false;
};

}  // namespace

int RunKubeDaemon(const ServeSettings& settings) {
  KubeDaemon daemon(settings);
  return daemon.Run();
}

}  // namespace sonde
