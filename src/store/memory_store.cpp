#include "store/memory_store.hpp"

#include <algorithm>

#include "store/downtime.hpp"

namespace sonde {

std::map<CheckKey, CheckState> MemoryStore::LoadStates() {
  std::lock_guard lock(mu_);
  return states_;
}

Status MemoryStore::SaveState(const CheckKey& key, const CheckState& state) {
  std::lock_guard lock(mu_);
  states_[key] = state;
  return Status::Ok();
}

Status MemoryStore::DeleteState(const CheckKey& key) {
  std::lock_guard lock(mu_);
  states_.erase(key);
  return Status::Ok();
}

void MemoryStore::CommitRun(const RunRecord& run, const CheckState& state,
                            std::function<void(Status)> done) {
  {
    std::lock_guard lock(mu_);
    states_[run.key] = state;
    CheckRuns& check = runs_[run.key];
    const TimePoint at = TimelinePoint(check.last_at, run.finished);
    check.last_at = at;
    std::optional<DowntimeEvent> open;
    if (check.open_event) open = events_[*check.open_event];
    EventChange change = ApplyRunToEvent(open, run, at);
    switch (change.kind) {
      case EventChangeKind::kNone:
        break;
      case EventChangeKind::kOpen:
        change.event.id = static_cast<int64_t>(events_.size()) + 1;
        check.open_event = events_.size();
        events_.push_back(std::move(change.event));
        break;
      case EventChangeKind::kExtend:
        events_[*check.open_event] = std::move(change.event);
        break;
      case EventChangeKind::kClose:
        events_[*check.open_event] = std::move(change.event);
        check.open_event.reset();
        break;
    }
    check.runs.push_back({run, {at, run.ok, run.finished - run.started}});
    while (check.runs.size() > runs_per_check_) check.runs.pop_front();
  }
  if (done) done(Status::Ok());
}

Result<std::vector<RunRecord>> MemoryStore::History(const HistoryQuery& query) {
  std::vector<const RunRecord*> matching;
  std::lock_guard lock(mu_);
  auto it = runs_.find(query.key);
  if (it == runs_.end()) return std::vector<RunRecord>{};
  // Newest committed first, then a stable sort by `finished` keeps later commits first on ties.
  for (auto r = it->second.runs.rbegin(); r != it->second.runs.rend(); ++r) {
    const TimePoint f = r->record.finished;
    if (query.since && f < *query.since) continue;
    if (query.until && f >= *query.until) continue;
    matching.push_back(&r->record);
  }
  std::stable_sort(matching.begin(), matching.end(), [](const RunRecord* a, const RunRecord* b) {
    return a->finished > b->finished;
  });
  std::vector<RunRecord> out;
  const size_t limit = std::min(query.limit, kMaxQueryLimit);
  for (size_t i = query.offset; i < matching.size() && out.size() < limit; ++i) {
    out.push_back(*matching[i]);
  }
  return out;
}

Result<std::vector<DowntimeEvent>> MemoryStore::Events(const std::optional<CheckKey>& key,
                                                       std::optional<TimePoint> since,
                                                       size_t limit) {
  std::vector<DowntimeEvent> out;
  limit = std::min(limit, kMaxQueryLimit);
  std::lock_guard lock(mu_);
  for (auto e = events_.rbegin(); e != events_.rend() && out.size() < limit; ++e) {
    if (key && e->key != *key) continue;
    if (since && e->end && *e->end < *since) continue;
    out.push_back(*e);
  }
  return out;
}

Result<std::optional<DowntimeEvent>> MemoryStore::OpenEvent(const CheckKey& key) {
  std::lock_guard lock(mu_);
  auto it = runs_.find(key);
  if (it == runs_.end() || !it->second.open_event) return std::optional<DowntimeEvent>();
  return std::optional<DowntimeEvent>(events_[*it->second.open_event]);
}

Result<UptimeStats> MemoryStore::Uptime(const CheckKey& key, Duration window, TimePoint now) {
  std::vector<UptimeSample> samples;
  {
    std::lock_guard lock(mu_);
    auto it = runs_.find(key);
    if (it != runs_.end()) {
      samples.reserve(it->second.runs.size());
      for (const StoredRun& r : it->second.runs) samples.push_back(r.sample);
    }
  }
  return ComputeUptime(samples, window, now);
}

Result<std::map<CheckKey, std::string>> MemoryStore::LoadHeartbeatTokens() {
  std::lock_guard lock(mu_);
  return tokens_;
}

void MemoryStore::SaveHeartbeatToken(const CheckKey& key, const std::string& token,
                                     std::function<void(Status)> done) {
  {
    std::lock_guard lock(mu_);
    tokens_[key] = token;
  }
  if (done) done(Status::Ok());
}

}  // namespace sonde
