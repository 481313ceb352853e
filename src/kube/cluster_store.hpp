// The Store seam in operator mode: each check's state lives in the cluster, as Kuberhealthy
// keeps it (a v2 check's or job's `khstate`, a v3 HealthCheck's `status`), so the schedule
// survives restarts and leader changes; history, downtime events and uptime go to an inner
// store (SQLite on the leader's volume, or memory). A run's result is acknowledged only once
// both the inner store and the cluster have it.
//
// Writes per run: the start (SaveState) and the result (CommitRun), one API write each, plus
// a re-read and retry on 409 Conflict; a KuberhealthyJob's spec.phase (Running, Completed)
// once each; a Kubernetes Event for a failed run, and for the first OK one after (events_).
// Writes of one check are serialised and coalesced: a
// state superseded while a write is in flight is not written.
//
// Thread safety: unlike the other stores, call it on its executor only (the engine's); the
// inner store's callbacks are posted back there.
// Ownership: borrows the client, the inner store and the informers (of khstates and of
// healthchecks, one per watched namespace or one for all).
#pragma once

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>
#include <deque>
#include <map>
#include <memory>

#include "kube/event_recorder.hpp"
#include "kube/informer.hpp"
#include "kube/kube_client.hpp"
#include "store/store.hpp"

namespace sonde::kube {

class ClusterStore final : public Store {
 public:
  ClusterStore(boost::asio::any_io_executor executor, KubeClient& client, Store& history,
               std::vector<const Informer*> khstates, std::vector<const Informer*> health_checks);
  ~ClusterStore() override;

  // Which checks are v3 HealthChecks (status subresource); the rest keep a khstate.
  void SetKinds(std::map<CheckKey, CheckKind> kinds) { kinds_ = std::move(kinds); }
  // Where the Events of runs the cluster has taken go (none: no events). Borrowed.
  void SetEvents(EventRecorder* events) { events_ = events; }

  // The cluster's states (khstates and HealthCheck statuses in the informers' caches), over
  // the inner store's for checks the cluster has none of.
  std::map<CheckKey, CheckState> LoadStates() override;
  Status SaveState(const CheckKey& key, const CheckState& state) override;
  Status DeleteState(const CheckKey& key) override;
  void CommitRun(const RunRecord& run, const CheckState& state,
                 std::function<void(Status)> done) override;

  Result<std::vector<RunRecord>> History(const HistoryQuery& query) override {
    return history_.History(query);
  }
  Result<std::vector<DowntimeEvent>> Events(const std::optional<CheckKey>& key,
                                            std::optional<TimePoint> since, size_t limit) override {
    return history_.Events(key, since, limit);
  }
  Result<std::optional<DowntimeEvent>> OpenEvent(const CheckKey& key) override {
    return history_.OpenEvent(key);
  }
  Result<UptimeStats> Uptime(const CheckKey& key, Duration window, TimePoint now) override {
    return history_.Uptime(key, window, now);
  }
  Result<std::map<CheckKey, std::string>> LoadHeartbeatTokens() override {
    return history_.LoadHeartbeatTokens();
  }
  void SaveHeartbeatToken(const CheckKey& key, const std::string& token,
                          std::function<void(Status)> done) override {
    history_.SaveHeartbeatToken(key, token, std::move(done));
  }
  Result<std::vector<UptimeSegment>> UptimeSegments(const CheckKey& key, TimePoint from,
                                                    Duration segment, size_t count,
                                                    TimePoint now) override {
    return history_.UptimeSegments(key, from, segment, count, now);
  }

  uint64_t writes() const { return writes_; }  // API writes sent, retries included

 private:
  struct Pending {
    CheckState state;
    std::vector<std::function<void(Status)>> done;
  };
  void Write(const CheckKey& key, const CheckState& state, std::function<void(Status)> done);
  boost::asio::awaitable<void> Writer(CheckKey key);
  boost::asio::awaitable<Status> WriteKhState(const CheckKey& key, const CheckState& state);
  boost::asio::awaitable<Status> WriteStatus(const CheckKey& key, const CheckState& state);
  boost::asio::awaitable<void> WriteJobPhase(const CheckKey& key, const CheckState& state);

  boost::asio::any_io_executor executor_;
  KubeClient& client_;
  Store& history_;
  std::vector<const Informer*> khstates_;
  std::vector<const Informer*> health_checks_;
  std::map<CheckKey, CheckKind> kinds_;
  EventRecorder* events_ = nullptr;
  std::map<CheckKey, Pending> pending_;       // the next write of each check
  std::map<CheckKey, bool> writing_;          // a Writer runs for the check
  std::map<CheckKey, std::string> versions_;  // resourceVersion our last write returned
  uint64_t writes_ = 0;
  std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);
};

}  // namespace sonde::kube
