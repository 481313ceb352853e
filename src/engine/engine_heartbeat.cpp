// Heartbeat checks: nothing is started; the job reports to the check's own URL, and the engine
// turns reports, a /start without a finish, and silence past due + grace into runs.
//
// Rules (docs/heartbeats.md):
// - Due: run_interval after the last report, or the schedule's next instant after it. Until the
//   first report, counted from when the check was added (or the daemon started).
// - Silence: at due + grace a failed run ("missed") is recorded, and the next one is expected
//   at the following due instant, so a dead job fails once per period, never in a burst.
// - /start: the check shows as running; a result must follow within the check's timeout, else
//   a failed run ("timeout"). The run's duration is measured from the start.
// - Abuse: a token bucket per check (reportsPerMinute) answers 429 before any parsing, and a
//   report repeating the last result within minRecordInterval of the last row is only counted.
#include <spdlog/spdlog.h>

#include <algorithm>
#include <boost/asio/post.hpp>

#include "contract/report.hpp"
#include "core/uuid.hpp"
#include "engine/engine.hpp"

namespace sonde {
namespace {

// The body a heartbeat accepts is small: a result and a few errors (with an output tail).
constexpr size_t kMaxHeartbeatBody = 16 * 1024;

std::string NewToken() {
  std::string t = NewUuidV4();  // 122 random bits from getrandom
  t.erase(std::remove(t.begin(), t.end(), '-'), t.end());
  return t;
}

bool Blank(std::string_view s) { return s.find_first_not_of(" \t\r\n") == std::string_view::npos; }

}  // namespace

std::string Engine::HeartbeatUrl(const std::string& token) const {
  return token.empty() ? "" : options_.reporting_base_url + "/heartbeat/" + token;
}

std::optional<HeartbeatView> Engine::Heartbeat(const CheckKey& key) const {
  auto it = heartbeats_.find(key);
  if (it == heartbeats_.end()) return std::nullopt;
  const HeartbeatEntry& e = it->second;
  return HeartbeatView{e.token_stored ? HeartbeatUrl(e.token) : "", e.due, e.schedule->grace(),
                       e.started};
}

std::shared_ptr<const HeartbeatSchedule> Engine::ScheduleOf(const CheckSpec& spec) {
  const HeartbeatSpec& hb = *spec.heartbeat;
  ScheduleCache& c = schedule_cache_;
  if (c.schedule && c.interval == spec.run_interval && c.grace == hb.grace &&
      c.cron == hb.schedule && c.timezone == hb.timezone) {
    return c.schedule;
  }
  auto schedule = HeartbeatSchedule::For(spec);
  if (!schedule.ok()) {  // the loader validated it; a zone removed since is all that is left
    spdlog::error("check {}: {}", spec.key.str(), schedule.error());
    schedule = HeartbeatSchedule::For(
        CheckSpec{.run_interval = spec.run_interval, .heartbeat = HeartbeatSpec{hb.grace}});
    return std::make_shared<const HeartbeatSchedule>(std::move(schedule.value()));
  }
  c = {spec.run_interval, hb.grace, hb.schedule, hb.timezone,
       std::make_shared<const HeartbeatSchedule>(std::move(schedule.value()))};
  return c.schedule;
}

bool Engine::ApplyHeartbeat(const CheckKey& key, bool added) {
  const auto& spec = *checks_.at(key);
  const TimePoint now = clock_.Now();
  auto [it, is_new] = heartbeats_.try_emplace(key);
  HeartbeatEntry& e = it->second;
  bool made_token = false;
  e.schedule = ScheduleOf(spec);
  e.limiter.emplace(spec.heartbeat->reports_per_minute);
  if (is_new) {
    e.since = now;
    const CheckState& state = StateOf(key);
    e.last_report = state.last_ok;
    e.due_from = state.last_run.value_or(now);                  // the last result, else now
    if (!state.current_uuid.empty() && state.last_run_start) {  // started before a restart
      e.started = state.last_run_start;
      e.start_uuid = state.current_uuid;
    }
    if (auto stored = stored_tokens_.find(key); stored != stored_tokens_.end()) {
      e.token = std::move(stored->second);  // held by the entry from now on
      e.token_stored = true;
      stored_tokens_.erase(stored);
      heartbeat_keys_[e.token] = &it->first;
    } else {
      // Made now, among the other long-lived entries, and usable once stored (StoreToken):
      // made in the store's answer, 100 000 tokens would pin the memory of as many freed
      // write requests (measured: ~60 MB at 100 000 new heartbeat checks).
      e.token = NewToken();
      heartbeat_keys_[e.token] = &it->first;
      made_token = true;
    }
  }
  if (added) spdlog::info("check {} is a heartbeat check", key.str());
  e.due = e.schedule->NextDue(e.due_from);
  ArmHeartbeat(key);
  return made_token;
}

void Engine::ForgetHeartbeat(const CheckKey& key) {
  auto it = heartbeats_.find(key);
  if (it == heartbeats_.end()) return;
  HeartbeatEntry& e = it->second;
  if (e.armed) heartbeat_deadlines_.erase({*e.armed, &it->first});
  if (!e.token.empty()) heartbeat_keys_.erase(e.token);
  if (e.token_stored) stored_tokens_[key] = std::move(e.token);  // added again: same URL
  heartbeats_.erase(it);
}

void Engine::StoreToken(const CheckKey& key, const std::string& token,
                        std::function<void(Result<std::string>)> done) {
  ++tokens_in_flight_;
  // The store calls back on its own thread, possibly while the daemon tears the engine down:
  // capture the executor by value and touch the engine only if it still exists.
  store_.SaveHeartbeatToken(
      key, token,
      [this, executor = executor_, alive = std::weak_ptr<bool>(alive_), key, token,
       done](Status st) {
        boost::asio::post(executor, [this, alive, key, token, done, st] {
          if (alive.expired()) return;
          // The last answer of a burst: the writes it queued are freed by now. Posted, so that
          // this handler's own captures are freed first.
          if (--tokens_in_flight_ == 0) {
            boost::asio::post(executor_, [this, alive] {
              if (!alive.expired()) ReleaseMemoryWhenSettled();
            });
          }
          if (!st.ok()) {
            spdlog::error("check {}: heartbeat token not stored: {}", key.str(), st.message());
            return done(Result<std::string>::Error("token not stored: " + st.message()));
          }
          auto it = heartbeats_.find(key);
          if (it == heartbeats_.end()) {
            stored_tokens_[key] = token;
            return done(Result<std::string>::Error("check " + key.str() + " was removed"));
          }
          stored_tokens_.erase(key);  // in case; the entry holds the token
          HeartbeatEntry& e = it->second;
          if (e.token != token) {
            if (!e.token.empty()) heartbeat_keys_.erase(e.token);  // the old URL stops working
            e.token = token;
            heartbeat_keys_[e.token] = &it->first;
          }
          e.token_stored = true;
          done(HeartbeatUrl(token));
        });
      });
}

void Engine::RotateHeartbeatToken(const CheckKey& key,
                                  std::function<void(Result<std::string>)> done) {
  if (checks_.count(key) == 0) return done(Result<std::string>::Error("no check " + key.str()));
  if (heartbeats_.count(key) == 0) {
    return done(Result<std::string>::Error("check " + key.str() + " is not a heartbeat check"));
  }
  spdlog::info("check {}: rotating its heartbeat URL", key.str());
  StoreToken(key, NewToken(), std::move(done));
}

void Engine::ArmHeartbeat(const CheckKey& key) {
  auto it = heartbeats_.find(key);
  HeartbeatEntry& e = it->second;
  TimePoint when = e.due + e.schedule->grace();
  if (e.started) when = std::min(when, *e.started + checks_.at(key)->timeout);
  if (e.armed) heartbeat_deadlines_.erase({*e.armed, &it->first});
  e.armed = when;
  heartbeat_deadlines_.insert({when, &it->first});
  ArmHeartbeatTimer();
}

// The timer is moved earlier when needed, never later: a deadline pushed back by a report
// leaves it to fire early once and find nothing due, which costs less than re-arming it on
// every report.
void Engine::ArmHeartbeatTimer() {
  if (heartbeat_deadlines_.empty()) return;
  const auto at =
      std::chrono::steady_clock::now() + Until(heartbeat_deadlines_.begin()->first, clock_.Now());
  if (heartbeat_timer_waiting_ && heartbeat_timer_.expiry() <= at) return;
  heartbeat_timer_waiting_ = true;
  heartbeat_timer_.expires_at(at);
  heartbeat_timer_.async_wait([this](boost::system::error_code ec) {
    if (!ec) OnHeartbeatDeadlines();
  });
}

void Engine::OnHeartbeatDeadlines() {
  heartbeat_timer_waiting_ = false;
  const TimePoint now = clock_.Now();
  while (!heartbeat_deadlines_.empty() && heartbeat_deadlines_.begin()->first <= now) {
    const CheckKey key = *heartbeat_deadlines_.begin()->second;  // a copy: the entry may go
    heartbeat_deadlines_.erase(heartbeat_deadlines_.begin());
    heartbeats_.at(key).armed.reset();
    OnHeartbeatTimer(key);
  }
  ArmHeartbeatTimer();
}

void Engine::OnHeartbeatTimer(const CheckKey& key) {
  auto it = heartbeats_.find(key);
  if (it == heartbeats_.end() || !scheduling_ || !leading_) return;
  HeartbeatEntry& e = it->second;
  const CheckSpec& spec = *checks_.at(key);
  const TimePoint now = clock_.Now();
  auto log_failure = [uuid_key = key.str()](Status st) {
    if (!st.ok()) spdlog::error("check {}: result not stored: {}", uuid_key, st.message());
  };
  if (e.started && now >= *e.started + spec.timeout) {
    const std::string error = "the job signalled its start at " + FormatRfc3339Nano(*e.started) +
                              " but did not report a result within its timeout of " +
                              FormatGoDuration(spec.timeout);
    spdlog::warn("check {}: {}", key.str(), error);
    const TimePoint started = *e.started;
    e.started.reset();
    RecordHeartbeat(key, e.start_uuid, started, false, {error}, "timeout", log_failure);
  } else if (now >= e.due + e.schedule->grace()) {
    const std::string last = e.last_report
                                 ? "the last report came at " + FormatRfc3339Nano(*e.last_report)
                                 : "no report has come since " + FormatRfc3339Nano(e.since);
    const std::string error = "no heartbeat: " + last + "; one was due at " +
                              FormatRfc3339Nano(e.due) + " (grace " +
                              FormatGoDuration(e.schedule->grace()) + ")";
    spdlog::warn("check {}: {}", key.str(), error);
    // Expect the next one at the following due instant; skip periods already past (a daemon
    // that was down for a day records one miss, not one per period).
    do {
      e.due_from = e.due;
      e.due = e.schedule->NextDue(e.due);
    } while (e.due + e.schedule->grace() <= now);
    RecordHeartbeat(key, uuids_.Next(), now, false, {error}, "missed", log_failure);
  }
  ArmHeartbeat(key);
}

void Engine::RecordHeartbeat(const CheckKey& key, const std::string& uuid, TimePoint started,
                             bool ok, std::vector<std::string> errors, const char* ended_by,
                             std::function<void(Status)> then) {
  HeartbeatEntry& e = heartbeats_.at(key);
  e.last_row = clock_.Now();
  Outcome outcome =
      Decide(key, uuid, started, ok, std::move(errors), RunEnd::kReported, e.decided.get());
  outcome.record.ended_by = ended_by;
  if (e.decided) {
    *e.decided = outcome.state;
  } else {
    e.decided = std::make_unique<CheckState>(outcome.state);
  }
  Commit(std::move(outcome), [this, key, then = std::move(then)](Status st) {
    if (!st.ok()) {  // not stored: build on what is committed again
      if (auto it = heartbeats_.find(key); it != heartbeats_.end()) it->second.decided.reset();
    }
    then(st);
  });
}

void Engine::HandleHeartbeat(const std::string& token, HeartbeatSignal signal,
                             std::string_view body, std::function<void(HeartbeatAnswer)> reply) {
  auto found = heartbeat_keys_.find(token);
  if (found == heartbeat_keys_.end() || !heartbeats_.at(*found->second).token_stored) {
    return reply({404, "no heartbeat check has this URL (it may have been rotated or removed)"});
  }
  const CheckKey key = *found->second;
  HeartbeatEntry& e = heartbeats_.at(key);
  const CheckSpec& spec = *checks_.at(key);
  const TimePoint now = clock_.Now();
  auto count = [this, &key](const char* result) {
    if (metrics_) metrics_->HeartbeatReport(key, result);
  };
  // Cheapest first: a flood is turned away before any parsing or storing.
  if (!e.limiter->Allow(now)) {
    count("rate_limited");
    return reply({429,
                  "too many reports for " + key.str() + " (at most " +
                      std::to_string(spec.heartbeat->reports_per_minute) + " a minute)",
                  e.limiter->RetryAfter(now)});
  }
  if (body.size() > kMaxHeartbeatBody) {
    count("rejected");
    return reply({413, "body over " + std::to_string(kMaxHeartbeatBody) + " bytes"});
  }
  if (signal == HeartbeatSignal::kStart) {
    e.started = now;
    e.start_uuid = uuids_.Next();
    CheckState& state = ChangeState(key);
    state.run_uuid = state.current_uuid = e.start_uuid;
    state.last_run_start = now;
    if (e.decided) {
      e.decided->run_uuid = e.decided->current_uuid = e.start_uuid;
      e.decided->last_run_start = now;
    }
    SaveState(key);
    ArmHeartbeat(key);
    count("stored");
    return reply({200, "start of " + key.str() + " recorded; report its result within " +
                           FormatGoDuration(spec.timeout)});
  }
  bool ok = signal == HeartbeatSignal::kReport;
  std::vector<std::string> errors;
  if (!Blank(body)) {
    auto report = ParseReport(body);
    if (!report.ok()) {
      count("rejected");
      return reply({400, report.error()});
    }
    if (signal == HeartbeatSignal::kFail && report.value().ok) {
      count("rejected");
      return reply({400, "OK: true sent to /fail; send a success to the URL without /fail"});
    }
    ok = report.value().ok;
    errors = std::move(report.value().errors);
  } else if (!ok) {
    errors = {"the job reported failure (/fail)"};
  }
  e.last_report = now;
  e.due_from = now;
  e.due = e.schedule->NextDue(now);
  const std::optional<TimePoint> started = e.started;
  const std::string uuid = started ? e.start_uuid : uuids_.Next();
  e.started.reset();
  ArmHeartbeat(key);
  // Coalesce only a repeat of the last result: a recovery or a new failure is always recorded
  // (the rate limit bounds those).
  const CheckState& last = e.decided ? *e.decided : StateOf(key);
  const bool same_result = last.HasResult() && last.ok == ok;
  if (same_result && e.last_row && now - *e.last_row < spec.heartbeat->min_record_interval) {
    count("coalesced");
    if (started) {  // the start is answered; the check is no longer running
      ChangeState(key).current_uuid.clear();
      if (e.decided) e.decided->current_uuid.clear();
      SaveState(key);
    }
    return reply({200, "report for " + key.str() + " counted, not stored: its last run was " +
                           "recorded less than " +
                           FormatGoDuration(spec.heartbeat->min_record_interval) +
                           " ago (minRecordInterval)"});
  }
  RecordHeartbeat(key, uuid, started.value_or(now), ok, std::move(errors), "report",
                  [this, key, reply = std::move(reply)](Status st) {
                    if (!st.ok()) {
                      if (metrics_) metrics_->HeartbeatReport(key, "rejected");
                      return reply({503, "report not stored, retry: " + st.message()});
                    }
                    if (metrics_) metrics_->HeartbeatReport(key, "stored");
                    reply({200, "heartbeat of " + key.str() + " recorded"});
                  });
}

}  // namespace sonde
