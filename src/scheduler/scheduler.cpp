#include "scheduler/scheduler.hpp"

#include <algorithm>

namespace sonde {

void Scheduler::SetDue(Entries::value_type& entry, std::optional<TimePoint> due) {
  Entry& e = entry.second;
  if (e.due) queue_.erase({*e.due, &entry.first});
  e.due = due;
  if (due) queue_.insert({*due, &entry.first});
}

void Scheduler::Upsert(const CheckKey& key, Duration interval, bool job,
                       std::optional<TimePoint> last_start, TimePoint now) {
  auto [it, added] = entries_.try_emplace(key);
  auto& entry = *it;
  Entry& e = it->second;
  e.interval = interval;
  e.job = job;
  if (added) {
    e.last_start = last_start;
    if (!last_start) {
      SetDue(entry, now);
    } else if (!job) {
      SetDue(entry, *last_start + interval);
    }
    return;
  }
  // An update takes effect from the next run: re-derive the due time from the last start.
  if (e.running || !e.due) return;
  if (job) {
    SetDue(entry, e.last_start ? std::nullopt : std::optional<TimePoint>(now));
  } else {
    SetDue(entry, e.last_start ? *e.last_start + interval : now);
  }
}

void Scheduler::Remove(const CheckKey& key) {
  auto it = entries_.find(key);
  if (it == entries_.end()) return;
  SetDue(*it, std::nullopt);
  if (it->second.running) --running_;
  entries_.erase(it);
}

bool Scheduler::MarkRunning(const CheckKey& key, TimePoint start) {
  auto it = entries_.find(key);
  if (it == entries_.end() || it->second.running) return false;
  SetDue(*it, std::nullopt);
  it->second.running = true;
  it->second.last_start = start;
  ++running_;
  return true;
}

bool Scheduler::RequestNow(const CheckKey& key, TimePoint now) {
  auto it = entries_.find(key);
  if (it == entries_.end() || it->second.running) return false;
  if (!it->second.due || *it->second.due > now) SetDue(*it, now);
  return true;
}

// A run that starts late keeps its check's cadence: the next one is due an interval after this
// one was due, not after it started (as a ticker that drops ticks, like Kuberhealthy's). Counted
// from the start instead, every check started by one late wake-up shares that wake-up's instant
// for ever after: checks spread over the interval merge into clumps that only grow, and near
// saturation a clump bigger than what the loop starts in a few milliseconds makes every later
// start in it late, round after round. Kept, a clump made by a stall dissolves at the next
// round. A start later than half the interval (a long stall, a long wait for a slot) counts
// from the start, so the next run never follows by less than half an interval.
TimePoint Scheduler::CadenceBase(TimePoint due, TimePoint start, Duration interval) {
  return start - due <= interval / 2 ? due : start;
}

std::vector<DueCheck> Scheduler::TakeDue(TimePoint now) {
  std::vector<DueCheck> started;
  while (running_ < max_concurrent_ && !queue_.empty() && queue_.begin()->first <= now) {
    const auto [due, key] = *queue_.begin();
    auto& entry = *entries_.find(*key);
    SetDue(entry, std::nullopt);
    Entry& e = entry.second;
    e.running = true;
    e.last_start = CadenceBase(due, now, e.interval);
    ++running_;
    started.push_back({entry.first, due});
  }
  return started;
}

void Scheduler::Finished(const CheckKey& key, TimePoint now) {
  auto it = entries_.find(key);
  if (it == entries_.end() || !it->second.running) return;
  Entry& e = it->second;
  e.running = false;
  --running_;
  if (e.job) return;
  SetDue(*it, std::max(*e.last_start + e.interval, now));
}

std::optional<TimePoint> Scheduler::NextDue() const {
  if (queue_.empty()) return std::nullopt;
  return queue_.begin()->first;
}

std::optional<TimePoint> Scheduler::NextRun(const CheckKey& key) const {
  auto it = entries_.find(key);
  if (it == entries_.end()) return std::nullopt;
  return it->second.due;
}

bool Scheduler::IsRunning(const CheckKey& key) const {
  auto it = entries_.find(key);
  return it != entries_.end() && it->second.running;
}

size_t Scheduler::Waiting(TimePoint now) const {
  size_t n = 0;
  for (auto it = queue_.begin(); it != queue_.end() && it->first <= now; ++it) ++n;
  return n;
}

}  // namespace sonde
