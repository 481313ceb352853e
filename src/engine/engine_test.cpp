#include "engine/engine.hpp"

#include <gtest/gtest.h>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <functional>

#include "engine/http_api.hpp"
#include "store/memory_store.hpp"

namespace sonde {
namespace {

using std::chrono::milliseconds;
using std::chrono::minutes;
using std::chrono::seconds;

// Records what the engine asks of it; the test decides when processes "exit".
class FakeRunner final : public Runner {
 public:
  void Start(const RunRequest& request, RunDone done) override {
    started.push_back(request);
    done_[request.run_uuid] = std::move(done);
  }
  void Terminate(const std::string& run_uuid) override {
    terminated.push_back(run_uuid);
    Exit(run_uuid, 0, true);
  }
  void StopLeftovers(const std::string& run_uuid) override { leftovers.push_back(run_uuid); }
  bool Adopt(const RunRequest& request, RunDone done) override {
    if (!adoptable) return false;
    adopted.push_back(request.run_uuid);
    done_[request.run_uuid] = std::move(done);
    return true;
  }
  void KillAll() override {}
  std::vector<RunLogs> Logs(const CheckKey&) const override { return {}; }
  size_t ActiveRuns() const override { return done_.size(); }

  void Exit(const std::string& uuid, int code, bool terminated_run = false) {
    auto it = done_.find(uuid);
    if (it == done_.end()) return;
    RunExit e;
    e.terminated = terminated_run;
    e.containers.push_back({"main", false, true, "", false, code, 0});
    e.stderr_tail = code ? "boom\n" : "";
    RunDone d = std::move(it->second);
    done_.erase(it);
    d(e);
  }

  std::vector<RunRequest> started;
  std::vector<std::string> terminated;
  std::vector<std::string> leftovers;
  bool adoptable = false;  // Adopt() finds the run's checker
  std::vector<std::string> adopted;

 private:
  std::map<std::string, RunDone> done_;
};

CheckSpec Check(const std::string& name, Duration timeout = minutes(5)) {
  CheckSpec s;
  s.key = {"default", name};
  s.run_interval = minutes(10);
  s.timeout = timeout;
  s.pod->containers.push_back({"main", "", {"true"}, {}, "", {}, {}, {}});
  return s;
}

class EngineTest : public ::testing::Test {
 protected:
  EngineTest() : engine_(io_.get_executor(), clock_, runner_, store_, Options()) {}
  static EngineOptions Options() {
    EngineOptions o;
    o.instance_name = "test-instance";
    o.max_concurrent_runs = 2;
    o.report_exit_grace = milliseconds(10);
    return o;
  }
  // Answers a request through the asynchronous entry point.
  int Answer(HttpApi& api, const HttpRequest& r) {
    int status = 0;
    boost::asio::co_spawn(
        io_, [&]() -> boost::asio::awaitable<void> { status = (co_await api.Handle(r)).status; },
        boost::asio::detached);
    io_.restart();
    for (int i = 0; i < 100 && status == 0; ++i) io_.poll();
    return status;
  }
  void Drain() {
    io_.restart();
    io_.run_for(milliseconds(50));
  }
  // Sends a report and waits for the (committed) answer.
  ReportVerdict Report(const std::string& uuid, const std::string& body) {
    std::optional<ReportVerdict> got;
    engine_.HandleReport(uuid, body, [&](ReportVerdict v) { got = v; });
    io_.restart();
    for (int i = 0; i < 100 && !got; ++i) io_.poll();
    EXPECT_TRUE(got.has_value()) << "no answer for " << uuid;
    return got.value_or(ReportVerdict{0, "no answer"});
  }
  // Also checks every state of the snapshot against its version: the caches trust it.
  const CheckState& State(const std::string& name) {
    snap_ = engine_.Snapshot();
    CheckVersions(snap_);
    for (const auto& c : snap_.checks) {
      if (c.spec->key.name == name) return c.state;
    }
    ADD_FAILURE() << "no check " << name;
    return empty_;
  }

  // A version stands for one state: seen again, it has the same contents (any check; the
  // engine's versions never repeat), and kDefaultStateVersion is the empty state's.
  void CheckVersions(const StatusSnapshot& snap) {
    for (const CheckView& c : snap.checks) {
      ASSERT_NE(c.state_version, 0u) << c.spec->key.str();
      if (c.state_version == kDefaultStateVersion) {
        EXPECT_EQ(c.state, CheckState{}) << c.spec->key.str();
        continue;
      }
      const auto [seen, added] = states_by_version_.emplace(c.state_version, c.state);
      EXPECT_TRUE(added || seen->second == c.state)
          << c.spec->key.str() << " changed its state but kept version " << c.state_version;
    }
  }

  boost::asio::io_context io_;
  ManualClock clock_{FromUnixSeconds(1'700'000'000)};
  FakeRunner runner_;
  MemoryStore store_;
  Engine engine_;
  StatusSnapshot snap_;
  CheckState empty_;
  std::map<uint64_t, CheckState> states_by_version_;
};

// Every change of a check's state comes with a new version (run start, report, exit, deadline,
// removal), and an unchanged state keeps its version: what the status page and metrics caches
// rely on instead of comparing states.
TEST_F(EngineTest, StateVersionsChangeWithEveryStateChange) {
  const auto version = [&](const std::string& name) {
    State(name);
    for (const CheckView& c : snap_.checks) {
      if (c.spec->key.name == name) return c.state_version;
    }
    return uint64_t{0};
  };
  engine_.ApplyChecks({Check("a"), Check("b", milliseconds(5))}, {});
  std::vector<uint64_t> seen{version("a")};
  const uint64_t b_started = version("b");  // times out (5 ms, real timers) during a Drain
  EXPECT_EQ(version("a"), seen.back()) << "no change, the same version";
  const std::string a1 = runner_.started.at(0).run_uuid;
  EXPECT_EQ(Report(a1, R"({"OK": true})").http_status, 200);
  seen.push_back(version("a"));
  Drain();  // the checker lingers until the exit grace ends it
  EXPECT_EQ(version("a"), seen.back());
  ASSERT_TRUE(engine_.RunNow({"default", "a"}) == RunNowResult::kStarted);
  seen.push_back(version("a"));
  const std::string a2 = runner_.started.back().run_uuid;
  runner_.Exit(a2, 3);  // exits without a report
  Drain();
  seen.push_back(version("a"));
  Drain();
  EXPECT_FALSE(State("b").ok);
  EXPECT_FALSE(State("b").errors.empty());
  EXPECT_NE(version("b"), b_started);
  for (size_t i = 1; i < seen.size(); ++i) EXPECT_LT(seen[i - 1], seen[i]) << i;
}

TEST_F(EngineTest, RunsAtStartAndRecordsAcceptedReport) {
  engine_.ApplyChecks({Check("a")}, {});
  ASSERT_EQ(runner_.started.size(), 1u);
  const RunRequest& run = runner_.started[0];
  EXPECT_EQ(run.reporting_url,
            "http://127.0.0.1:8080/externalCheckStatus?kh-run-uuid=" + run.run_uuid);
  EXPECT_EQ(State("a").current_uuid, run.run_uuid);
  clock_.Advance(seconds(2));
  EXPECT_EQ(Report(run.run_uuid, R"({"OK": true})").http_status, 200);
  const CheckState& s = State("a");
  EXPECT_TRUE(s.ok);
  EXPECT_EQ(s.run_duration, seconds(2));
  EXPECT_EQ(s.authoritative_pod, "test-instance");
  EXPECT_TRUE(s.current_uuid.empty());
  EXPECT_EQ(s.run_uuid, run.run_uuid);
  // A second report for the same run is stale.
  EXPECT_EQ(Report(run.run_uuid, R"({"OK": true})").http_status, 410);
  EXPECT_EQ(Report("nope", R"({"OK": true})").http_status, 400);
  // The checker lingers: after the exit grace it is terminated.
  Drain();
  EXPECT_EQ(runner_.terminated, std::vector<std::string>{run.run_uuid});
  auto history = store_.History({{"default", "a"}});
  ASSERT_TRUE(history.ok());
  EXPECT_EQ(history.value().size(), 1u);
}

TEST_F(EngineTest, MalformedReportIsRejectedAndRunStaysOpen) {
  engine_.ApplyChecks({Check("a")}, {});
  const std::string uuid = runner_.started.at(0).run_uuid;
  const auto v = Report(uuid, R"({"OK": false})");
  EXPECT_EQ(v.http_status, 400);
  EXPECT_EQ(v.reason, "\"OK\" is false but \"Errors\" is empty: say what failed");
  EXPECT_EQ(Report(uuid, R"({"OK": false, "Errors": ["db down"]})").http_status, 200);
  EXPECT_FALSE(State("a").ok);
  EXPECT_EQ(State("a").errors, std::vector<std::string>{"db down"});
  EXPECT_EQ(State("a").consecutive_failures, 1);
}

TEST_F(EngineTest, ExitWithoutReportFailsWithExitCodeAndStderr) {
  engine_.ApplyChecks({Check("a")}, {});
  runner_.Exit(runner_.started.at(0).run_uuid, 3);
  Drain();
  EXPECT_FALSE(State("a").ok);
  EXPECT_EQ(State("a").errors.at(0),
            "checker exited with code 3 before reporting (container main); stderr: boom");
  EXPECT_EQ(Report(runner_.started[0].run_uuid, R"({"OK": true})").http_status, 410);
}

TEST_F(EngineTest, DeadlineFailsTheRunAndTerminatesIt) {
  engine_.ApplyChecks({Check("a", milliseconds(5))}, {});
  clock_.Advance(milliseconds(5));
  Drain();
  EXPECT_FALSE(State("a").ok);
  EXPECT_EQ(State("a").errors.at(0), "timed out after 5ms waiting for the checker to report");
  EXPECT_EQ(runner_.terminated.size(), 1u);
  EXPECT_EQ(Report(runner_.started[0].run_uuid, R"({"OK": true})").http_status, 410);
}

TEST_F(EngineTest, CapsConcurrencyAndRunNowAnswers) {
  engine_.ApplyChecks({Check("a"), Check("b"), Check("c")}, {});
  EXPECT_EQ(runner_.started.size(), 2u);
  EXPECT_EQ(engine_.RunNow({"default", "a"}), RunNowResult::kAlreadyRunning);
  EXPECT_EQ(engine_.RunNow({"default", "zzz"}), RunNowResult::kUnknown);
  runner_.Exit(runner_.started[0].run_uuid, 0);
  Drain();
  EXPECT_EQ(runner_.started.size(), 3u);
  EXPECT_EQ(engine_.RunNow({"default", "a"}), RunNowResult::kStarted);
}

TEST_F(EngineTest, RemovedCheckIsTerminatedAndForgotten) {
  engine_.ApplyChecks({Check("a"), Check("b")}, {});
  const std::string a = runner_.started.at(0).run_uuid;
  engine_.ApplyChecks({Check("b")}, {"x.yaml:1:1: broken"});
  EXPECT_EQ(runner_.terminated, std::vector<std::string>{a});
  EXPECT_EQ(engine_.Snapshot().checks.size(), 1u);
  EXPECT_EQ(engine_.Snapshot().load_errors.size(), 1u);
  EXPECT_EQ(Report(a, R"({"OK": true})").http_status, 410);
  // b was not disturbed: still its first run.
  EXPECT_EQ(runner_.started.size(), 2u);
  // Added again, a starts afresh: no state of its former self, a new run; the former run's
  // late report is still answered 410.
  engine_.ApplyChecks({Check("a"), Check("b")}, {});
  ASSERT_EQ(runner_.started.size(), 3u);
  EXPECT_EQ(State("a").success_count + State("a").failure_count, 0);
  EXPECT_EQ(State("a").current_uuid, runner_.started[2].run_uuid);
  EXPECT_EQ(Report(a, R"({"OK": true})").http_status, 410);
  EXPECT_EQ(Report(runner_.started[2].run_uuid, R"({"OK": true})").http_status, 200);
  EXPECT_EQ(State("a").success_count, 1);
}

// Each check remembers its last runs_remembered_per_check (16) run uuids: a late report for one
// of them is 410 (with the reason), for an older one 400 (unknown); other checks' runs do not
// push a check's runs out.
TEST_F(EngineTest, RemembersTheLastRunsOfEachCheck) {
  engine_.ApplyChecks({Check("a"), Check("b")}, {});
  ASSERT_EQ(runner_.started.size(), 2u);
  const std::string b = runner_.started[1].run_uuid;
  std::vector<std::string> a_runs{runner_.started[0].run_uuid};
  for (int i = 0; i < 19; ++i) {
    runner_.Exit(a_runs.back(), 0);
    Drain();
    ASSERT_EQ(engine_.RunNow({"default", "a"}), RunNowResult::kStarted);
    a_runs.push_back(runner_.started.back().run_uuid);
  }
  runner_.Exit(a_runs.back(), 0);
  Drain();
  ASSERT_EQ(a_runs.size(), 20u);
  for (size_t i = 0; i < a_runs.size(); ++i) {
    const ReportVerdict v = Report(a_runs[i], R"({"OK": true})");
    EXPECT_EQ(v.http_status, i < 4 ? 400 : 410) << "run " << i;
    if (i >= 4) {
      EXPECT_NE(v.reason.find("exited"), std::string::npos) << v.reason;
    }
  }
  EXPECT_EQ(Report(b, R"({"OK": true})").http_status, 200);
  EXPECT_EQ(State("a").failure_count, 20);
}

TEST_F(EngineTest, HttpApiRoutesAndStatusCodes) {
  engine_.ApplyChecks({Check("a")}, {});
  SondeMetrics metrics("test");
  HttpApi api(engine_, runner_, store_, metrics);
  const std::string uuid = runner_.started.at(0).run_uuid;
  struct Case {
    const char* method;
    std::string path;
    std::vector<std::pair<std::string, std::string>> query;
    std::map<std::string, std::string> headers;
    std::string body;
    int status;
  };
  const Case cases[] = {
      {"GET", "/", {}, {}, "", 200},
      {"POST", "/", {}, {}, "{}", 400},
      {"GET", "/json", {{"namespace", "default"}}, {}, "", 200},
      {"GET", "/healthz", {}, {}, "", 200},
      {"GET", "/nope", {}, {}, "", 404},
      {"GET", "/check", {}, {}, "", 405},
      {"POST", "/check", {}, {{"content-type", "text/plain"}}, "{}", 415},
      {"POST", "/check", {}, {}, R"({"OK":true})", 400},
      {"POST", "/api/run", {{"namespace", "default"}}, {}, "", 400},
      {"POST", "/api/run", {{"namespace", "default"}, {"healthcheck", "x"}}, {}, "", 404},
      {"POST", "/api/run", {{"namespace", "default"}, {"healthcheck", "a"}}, {}, "", 409},
      {"GET", "/api/logs", {{"namespace", "default"}, {"healthcheck", "a"}}, {}, "", 200},
      {"POST", "/externalCheckStatus", {{"kh-run-uuid", uuid}}, {}, R"({"OK":true})", 200},
      {"POST", "/check", {}, {{"kh-run-uuid", uuid}}, R"({"ok":true})", 410},
  };
  for (const Case& c : cases) {
    HttpRequest r;
    r.method = c.method;
    r.path = c.path;
    r.query = c.query;
    r.headers = c.headers;
    r.body = c.body;
    EXPECT_EQ(Answer(api, r), c.status) << c.method << " " << c.path;
  }
}

TEST_F(EngineTest, HealthzTurnsUnhealthyWhenTheLoopStopsTicking) {
  engine_.ApplyChecks({Check("a")}, {});
  EXPECT_TRUE(engine_.Healthy());
  clock_.Advance(seconds(5));
  EXPECT_TRUE(engine_.Healthy());
  clock_.Advance(seconds(6));  // no tick for 11s: the loop is stuck
  EXPECT_FALSE(engine_.Healthy());
  SondeMetrics metrics("test");
  HttpApi api(engine_, runner_, store_, metrics);
  HttpRequest r;
  r.method = "GET";
  r.path = "/healthz";
  EXPECT_EQ(api.HandleNow(r).status, 503);
  io_.restart();
  io_.run_for(milliseconds(1200));  // the loop ticks at least every second
  EXPECT_TRUE(engine_.Healthy());
}

CheckSpec HeartbeatCheck(const std::string& name, int64_t per_minute = 60,
                         Duration min_record = seconds(1)) {
  CheckSpec s;
  s.key = {"jobs", name};
  s.run_interval = minutes(10);
  s.timeout = minutes(1);
  s.heartbeat = HeartbeatSpec{minutes(5), "", "", per_minute, min_record};
  return s;
}

class EngineHeartbeatTest : public EngineTest {
 protected:
  // The check's token, once stored.
  std::string Token(const std::string& name) {
    Drain();
    const auto hb = engine_.Heartbeat({"jobs", name});
    EXPECT_TRUE(hb.has_value());
    const std::string url = hb ? hb->url : "";
    return url.substr(url.rfind('/') + 1);
  }
  HeartbeatAnswer Send(const std::string& token, HeartbeatSignal signal, std::string body = "") {
    std::optional<HeartbeatAnswer> got;
    engine_.HandleHeartbeat(token, signal, body, [&](HeartbeatAnswer a) { got = a; });
    io_.restart();
    for (int i = 0; i < 100 && !got; ++i) io_.poll();
    EXPECT_TRUE(got.has_value());
    return got.value_or(HeartbeatAnswer{0, "no answer"});
  }
  size_t Rows(const std::string& name) { return store_.History({{"jobs", name}}).value().size(); }
};

TEST_F(EngineHeartbeatTest, StartsNothingAndRecordsReports) {
  engine_.ApplyChecks({HeartbeatCheck("hb")}, {});
  EXPECT_TRUE(runner_.started.empty());
  EXPECT_EQ(engine_.RunNow({"jobs", "hb"}), RunNowResult::kHeartbeat);
  const std::string token = Token("hb");
  ASSERT_EQ(token.size(), 32u);
  // Due one interval after the check was added, until the first report.
  EXPECT_EQ(engine_.Heartbeat({"jobs", "hb"})->due, clock_.Now() + minutes(10));
  EXPECT_EQ(Send(token, HeartbeatSignal::kStart).http_status, 200);
  EXPECT_FALSE(State("hb").current_uuid.empty());
  clock_.Advance(seconds(3));
  const HeartbeatAnswer a = Send(token, HeartbeatSignal::kReport);
  EXPECT_EQ(a.http_status, 200) << a.reason;
  const CheckState& s = State("hb");
  EXPECT_TRUE(s.ok);
  EXPECT_TRUE(s.current_uuid.empty());
  EXPECT_EQ(s.run_duration, seconds(3));  // measured from the start
  EXPECT_EQ(engine_.Heartbeat({"jobs", "hb"})->due, clock_.Now() + minutes(10));
  clock_.Advance(seconds(2));
  EXPECT_EQ(
      Send(token, HeartbeatSignal::kFail, R"({"OK": false, "Errors": ["disk full"]})").http_status,
      200);
  EXPECT_EQ(State("hb").errors, std::vector<std::string>{"disk full"});
  EXPECT_EQ(State("hb").consecutive_failures, 1);
  EXPECT_EQ(Send(token, HeartbeatSignal::kFail, R"({"OK": true})").http_status, 400);
  EXPECT_EQ(Send("nope", HeartbeatSignal::kReport).http_status, 404);
  EXPECT_EQ(Rows("hb"), 2u);
}

TEST_F(EngineHeartbeatTest, RateLimitAndMinRecordIntervalBoundWhatIsStored) {
  engine_.ApplyChecks({HeartbeatCheck("hb", 3, seconds(1))}, {});
  const std::string token = Token("hb");
  EXPECT_EQ(Send(token, HeartbeatSignal::kReport).reason, "heartbeat of jobs/hb recorded");
  // Within minRecordInterval: answered, counted, not stored.
  const HeartbeatAnswer coalesced = Send(token, HeartbeatSignal::kReport);
  EXPECT_EQ(coalesced.http_status, 200);
  EXPECT_NE(coalesced.reason.find("counted, not stored"), std::string::npos) << coalesced.reason;
  EXPECT_EQ(Rows("hb"), 1u);
  clock_.Advance(seconds(1));
  EXPECT_EQ(Send(token, HeartbeatSignal::kReport).http_status, 200);
  EXPECT_EQ(Rows("hb"), 2u);
  // The burst of 3 is spent: 429, with when to try again (one token every 20s).
  const HeartbeatAnswer limited = Send(token, HeartbeatSignal::kReport);
  EXPECT_EQ(limited.http_status, 429);
  EXPECT_EQ(limited.retry_after, seconds(19));
  EXPECT_EQ(Rows("hb"), 2u);
}

TEST_F(EngineHeartbeatTest, AChangeOfResultIsAlwaysStored) {
  engine_.ApplyChecks({HeartbeatCheck("hb", 60, minutes(1))}, {});
  const std::string token = Token("hb");
  EXPECT_EQ(Send(token, HeartbeatSignal::kReport).http_status, 200);
  EXPECT_EQ(Send(token, HeartbeatSignal::kReport).reason.find("counted, not stored"), 19u);
  EXPECT_EQ(Send(token, HeartbeatSignal::kFail).http_status, 200);
  EXPECT_FALSE(State("hb").ok);
  EXPECT_EQ(Send(token, HeartbeatSignal::kReport).http_status, 200);
  EXPECT_TRUE(State("hb").ok);
  EXPECT_EQ(Rows("hb"), 3u);
}

// Every heartbeat check's deadline is in one queue behind one timer: each check misses at its
// own due + grace, in order, and a removed check's deadline goes with it. (With the manual clock
// the timer is re-armed by a report to another check: re-arming compares against the clock.)
TEST_F(EngineHeartbeatTest, EachCheckMissesAtItsOwnDeadlineFromOneTimer) {
  auto with_grace = [](const std::string& name, Duration grace) {
    CheckSpec s = HeartbeatCheck(name);
    s.heartbeat->grace = grace;
    return s;
  };
  const TimePoint added = clock_.Now();
  engine_.ApplyChecks(
      {with_grace("a", minutes(1)), with_grace("b", minutes(2)), with_grace("c", minutes(3)),
       with_grace("d", minutes(3)), HeartbeatCheck("live")},
      {});
  const std::string live = Token("live");
  struct Step {
    Duration at;        // after the checks were added (interval 10m)
    bool remove_d;      // d is removed before this step's deadline
    size_t a, b, c, d;  // history rows (missed runs) after the step
  };
  const Step steps[] = {
      {minutes(10) + seconds(59), false, 0, 0, 0, 0},
      {minutes(11), false, 1, 0, 0, 0},
      {minutes(12) + seconds(1), true, 1, 1, 0, 0},
      {minutes(13), false, 1, 1, 1, 0},
      {minutes(21), false, 2, 1, 1, 0},  // a's next due: 10m after the last, plus grace
  };
  for (const Step& step : steps) {
    if (step.remove_d) {
      engine_.ApplyChecks({with_grace("a", minutes(1)), with_grace("b", minutes(2)),
                           with_grace("c", minutes(3)), HeartbeatCheck("live")},
                          {});
    }
    clock_.Set(added + step.at);
    ASSERT_EQ(Send(live, HeartbeatSignal::kReport).http_status, 200);
    Drain();
    const std::string at = FormatGoDuration(step.at);
    EXPECT_EQ(Rows("a"), step.a) << at;
    EXPECT_EQ(Rows("b"), step.b) << at;
    EXPECT_EQ(Rows("c"), step.c) << at;
    EXPECT_EQ(Rows("d"), step.d) << at;
  }
  EXPECT_FALSE(State("a").ok);
  EXPECT_NE(State("a").errors.at(0).find("no heartbeat"), std::string::npos);
  EXPECT_TRUE(State("live").ok);
}

// A nightly job at 02:30 Berlin time across the spring-forward night, with the engine's clock.
TEST_F(EngineHeartbeatTest, CronDueInstantsFollowTheZonesDst) {
  clock_.Set(ParseRfc3339("2026-03-28T12:00:00Z").value());
  CheckSpec spec = HeartbeatCheck("nightly");
  spec.heartbeat->schedule = "30 2 * * *";
  spec.heartbeat->timezone = "Europe/Berlin";
  engine_.ApplyChecks({spec}, {});
  const std::string token = Token("nightly");
  auto due = [&] { return FormatRfc3339Nano(engine_.Heartbeat({"jobs", "nightly"})->due); };
  EXPECT_EQ(due(), "2026-03-29T01:00:00Z");  // 02:30 does not exist that night: 03:00 CEST
  clock_.Set(ParseRfc3339("2026-03-29T01:02:00Z").value());
  ASSERT_EQ(Send(token, HeartbeatSignal::kReport).http_status, 200);
  EXPECT_EQ(due(), "2026-03-30T00:30:00Z");  // 02:30 CEST
  // A snapshot (status pages, /api/checks) shows the due time as the next run.
  for (const auto& c : engine_.Snapshot().checks) EXPECT_EQ(FormatRfc3339Nano(*c.next_run), due());
}

// Snapshot walks states and heartbeats alongside the checks: each view must say what the
// per-key lookups say, for heartbeat and scheduled checks interleaved in key order, with and
// without a state, with each level of detail.
TEST_F(EngineHeartbeatTest, SnapshotAgreesWithPerCheckLookups) {
  engine_.ApplyChecks({Check("a-plain"), HeartbeatCheck("b-hb"), Check("c-plain"),
                       HeartbeatCheck("d-hb"), HeartbeatCheck("e-hb"), Check("f-plain")},
                      {});
  ASSERT_EQ(Send(Token("d-hb"), HeartbeatSignal::kReport).http_status, 200);
  ASSERT_EQ(
      Send(Token("b-hb"), HeartbeatSignal::kFail, R"({"OK": false, "Errors": ["x"]})").http_status,
      200);
  Drain();
  const StatusSnapshot full = engine_.Snapshot();  // the states are one per check, as before
  struct Detail {
    bool schedule;
    bool urls;
  };
  for (const Detail d : {Detail{true, true}, Detail{true, false}, Detail{false, false}}) {
    const StatusSnapshot snap = engine_.Snapshot(d.schedule, d.urls);
    ASSERT_EQ(snap.checks.size(), 6u);
    for (size_t i = 0; i < snap.checks.size(); ++i) {
      const CheckView& c = snap.checks[i];
      SCOPED_TRACE(c.spec->key.str() + " schedule " + std::to_string(d.schedule) + " urls " +
                   std::to_string(d.urls));
      EXPECT_EQ(c.state, full.checks[i].state);
      const auto hb = engine_.Heartbeat(c.spec->key);
      EXPECT_EQ(hb.has_value(), c.spec->key.name.ends_with("-hb"));
      if (hb) {
        EXPECT_EQ(c.next_run, d.schedule ? std::optional(hb->due) : std::nullopt);
        EXPECT_EQ(c.heartbeat_url, d.urls ? hb->url : "");
        EXPECT_EQ(c.heartbeat_url.empty(), !d.urls);
      } else {
        EXPECT_EQ(c.next_run, d.schedule ? full.checks[i].next_run : std::nullopt);
        EXPECT_EQ(c.heartbeat_url, "");
      }
    }
  }
  EXPECT_EQ(full.checks.at(3).state.errors, std::vector<std::string>{"x"});
  EXPECT_TRUE(full.checks.at(4).state.ok);
  EXPECT_FALSE(full.checks.at(5).state.HasResult());  // jobs/e-hb (plain checks are in "default")
}

// /metrics keeps one snapshot and refreshes it in place: after each step (checks added, removed,
// reports, failures, load errors) the refreshed one must equal a fresh Snapshot(false), however
// the kept views lined up with the checks before.
TEST_F(EngineHeartbeatTest, RefreshedSnapshotEqualsAFreshOne) {
  struct Step {
    const char* what;
    std::function<void()> apply;
  };
  const auto report = [this](const std::string& name, HeartbeatSignal signal, std::string body) {
    ASSERT_EQ(Send(Token(name), signal, std::move(body)).http_status, 200);
    Drain();
  };
  const Step steps[] = {
      {"no checks", [] {}},
      {"checks added",
       [&] {
         engine_.ApplyChecks({Check("b-plain"), HeartbeatCheck("c-hb"), HeartbeatCheck("d-hb")},
                             {});
       }},
      {"a report", [&] { report("c-hb", HeartbeatSignal::kReport, ""); }},
      {"a failure with errors",
       [&] { report("d-hb", HeartbeatSignal::kFail, R"({"OK": false, "Errors": ["x", "y"]})"); }},
      {"nothing changed", [] {}},
      {"a check added before the others and one removed, with a load error",
       [&] {
         engine_.ApplyChecks(
             {Check("a-plain"), Check("b-plain"), HeartbeatCheck("d-hb"), HeartbeatCheck("e-hb")},
             {"bad.yaml: not a check"});
       }},
      {"the failing check recovers", [&] { report("d-hb", HeartbeatSignal::kReport, ""); }},
      {"every check removed", [&] { engine_.ApplyChecks({}, {}); }},
  };
  StatusSnapshot kept = engine_.Snapshot();  // with schedule and URLs: a refresh drops them
  for (const Step& step : steps) {
    SCOPED_TRACE(step.what);
    step.apply();
    engine_.RefreshSnapshot(kept);
    const StatusSnapshot fresh = engine_.Snapshot(/*with_schedule=*/false);
    EXPECT_EQ(kept.instance, fresh.instance);
    EXPECT_EQ(kept.leader, fresh.leader);
    EXPECT_EQ(kept.metadata, fresh.metadata);
    EXPECT_EQ(kept.load_errors, fresh.load_errors);
    ASSERT_EQ(kept.checks.size(), fresh.checks.size());
    for (size_t i = 0; i < kept.checks.size(); ++i) {
      const CheckView& k = kept.checks[i];
      const CheckView& f = fresh.checks[i];
      SCOPED_TRACE(f.spec->key.str());
      EXPECT_EQ(k.spec, f.spec);
      EXPECT_EQ(k.state, f.state);
      EXPECT_EQ(k.next_run, std::nullopt);
      EXPECT_EQ(k.heartbeat_url, "");
    }
  }
  EXPECT_TRUE(kept.checks.empty());
}

TEST_F(EngineHeartbeatTest, RotationRetiresTheOldToken) {
  engine_.ApplyChecks({HeartbeatCheck("hb"), Check("plain")}, {});
  const std::string old_token = Token("hb");
  std::optional<Result<std::string>> rotated;
  engine_.RotateHeartbeatToken({"jobs", "hb"}, [&](Result<std::string> r) { rotated = r; });
  Drain();
  ASSERT_TRUE(rotated && rotated->ok());
  EXPECT_EQ(rotated->value(), engine_.Heartbeat({"jobs", "hb"})->url);
  EXPECT_EQ(Send(old_token, HeartbeatSignal::kReport).http_status, 404);
  EXPECT_EQ(Send(Token("hb"), HeartbeatSignal::kReport).http_status, 200);
  engine_.RotateHeartbeatToken({"default", "plain"}, [&](Result<std::string> r) { rotated = r; });
  EXPECT_EQ(rotated->error(), "check default/plain is not a heartbeat check");
  // Removed and added again: the same URL (the token is kept in the store).
  const std::string url = engine_.Heartbeat({"jobs", "hb"})->url;
  engine_.ApplyChecks({}, {});
  EXPECT_FALSE(engine_.Heartbeat({"jobs", "hb"}).has_value());
  engine_.ApplyChecks({HeartbeatCheck("hb")}, {});
  EXPECT_EQ(engine_.Heartbeat({"jobs", "hb"})->url, url);
}

// Wraps a MemoryStore; commits fail while `full` is set, like a full disk.
class FlakyStore final : public Store {
 public:
  bool full = false;
  std::map<CheckKey, CheckState> LoadStates() override { return inner_.LoadStates(); }
  sonde::Status SaveState(const CheckKey& k, const CheckState& s) override {
    return inner_.SaveState(k, s);
  }
  sonde::Status DeleteState(const CheckKey& k) override { return inner_.DeleteState(k); }
  void CommitRun(const RunRecord& r, const CheckState& s,
                 std::function<void(sonde::Status)> done) override {
    if (full) return done(sonde::Status::Error("disk full"));
    inner_.CommitRun(r, s, std::move(done));
  }
  Result<std::vector<RunRecord>> History(const HistoryQuery& q) override {
    return inner_.History(q);
  }
  Result<std::vector<DowntimeEvent>> Events(const std::optional<CheckKey>& k,
                                            std::optional<TimePoint> since, size_t limit) override {
    return inner_.Events(k, since, limit);
  }
  Result<std::optional<DowntimeEvent>> OpenEvent(const CheckKey& k) override {
    return inner_.OpenEvent(k);
  }
  Result<UptimeStats> Uptime(const CheckKey& k, Duration w, TimePoint now) override {
    return inner_.Uptime(k, w, now);
  }
  Result<std::map<CheckKey, std::string>> LoadHeartbeatTokens() override {
    return inner_.LoadHeartbeatTokens();
  }
  void SaveHeartbeatToken(const CheckKey& k, const std::string& t,
                          std::function<void(sonde::Status)> done) override {
    inner_.SaveHeartbeatToken(k, t, std::move(done));
  }

 private:
  MemoryStore inner_;
};

TEST(EngineStoreTest, UnstoredReportIsRefusedAndTheRetryLands) {
  boost::asio::io_context io;
  ManualClock clock(FromUnixSeconds(1'700'000'000));
  FakeRunner runner;
  FlakyStore store;
  Engine engine(io.get_executor(), clock, runner, store, EngineOptions{});
  engine.ApplyChecks({Check("a")}, {});
  const std::string uuid = runner.started.at(0).run_uuid;
  const auto report = [&] {
    std::optional<ReportVerdict> got;
    engine.HandleReport(uuid, R"({"OK": true})", [&](ReportVerdict v) { got = v; });
    io.restart();
    for (int i = 0; i < 100 && !got; ++i) io.poll();
    return got.value_or(ReportVerdict{0, ""});
  };
  store.full = true;
  const ReportVerdict refused = report();
  EXPECT_EQ(refused.http_status, 503);
  EXPECT_EQ(refused.reason, "report not stored, retry: disk full");
  EXPECT_FALSE(engine.Snapshot().checks.at(0).state.HasResult())
      << "nothing shown that is not stored";
  store.full = false;
  EXPECT_EQ(report().http_status, 200);
  EXPECT_TRUE(engine.Snapshot().checks.at(0).state.ok);
  EXPECT_EQ(store.History({{"default", "a"}}).value().size(), 1u);
}

TEST(EngineStoreTest, RestartClosesTheInterruptedRunAndKeepsTheSchedule) {
  boost::asio::io_context io;
  ManualClock clock(FromUnixSeconds(1'700'000'000));
  MemoryStore store;
  CheckState s;
  s.ok = true;
  s.last_run = clock.Now() - minutes(70);
  s.run_uuid = s.current_uuid = "11111111-2222-4333-8444-555555555555";
  s.last_run_start = clock.Now() - minutes(10);  // in flight when the daemon died
  ASSERT_TRUE(store.SaveState({"default", "a"}, s).ok());
  CheckState b;
  b.ok = true;
  b.last_run = b.last_run_start = clock.Now() - minutes(1);  // ran a minute ago, every 10m
  ASSERT_TRUE(store.SaveState({"default", "b"}, b).ok());

  FakeRunner runner;
  Engine engine(io.get_executor(), clock, runner, store, EngineOptions{});
  CheckSpec hourly = Check("a");
  hourly.run_interval = std::chrono::hours(1);
  engine.ApplyChecks({hourly, Check("b")}, {});
  io.restart();
  for (int i = 0; i < 10; ++i) io.poll();
  EXPECT_EQ(runner.leftovers, std::vector<std::string>{s.current_uuid});
  EXPECT_TRUE(runner.started.empty()) << "neither check is due yet";
  const auto snap = engine.Snapshot();
  const CheckState& a = snap.checks.at(0).state;
  EXPECT_FALSE(a.ok);
  EXPECT_EQ(a.errors.at(0),
            "run 11111111-2222-4333-8444-555555555555 was interrupted by a daemon "
            "restart before it reported");
  EXPECT_TRUE(a.current_uuid.empty());
  auto runs = store.History({{"default", "a"}}).value();
  ASSERT_EQ(runs.size(), 1u);
  EXPECT_EQ(runs[0].ended_by, "restart");
  EXPECT_EQ(snap.checks.at(1).next_run, b.last_run_start.value() + minutes(10));
}

TEST(DescribeExitWithoutReport, NamesTheCause) {
  RunExit spawn;
  spawn.containers.push_back(
      {"main", false, false, "cannot start \"/x\": No such file", false, 0, 0});
  EXPECT_EQ(DescribeExitWithoutReport(spawn),
            "checker could not start (container main): cannot start \"/x\": No such file");
  RunExit killed;
  killed.containers.push_back({"init", true, true, "", true, 0, 9});
  EXPECT_EQ(DescribeExitWithoutReport(killed),
            "checker was killed by SIGKILL before reporting (init container init)");
  RunExit clean;
  clean.containers.push_back({"main", false, true, "", false, 0, 0});
  EXPECT_EQ(DescribeExitWithoutReport(clean),
            "checker exited with code 0 without reporting to KH_REPORTING_URL");
}

}  // namespace
}  // namespace sonde

namespace sonde {
namespace {

// Operator mode: a follower starts nothing and shows what the leader writes; when it takes
// over, it closes the run the old leader left in flight and resumes each check's schedule
// from its last start, so nothing runs twice and nothing re-runs at once.
TEST(EngineLeading, FollowerStartsNothingAndTakesOverFromTheStore) {
  boost::asio::io_context io;
  ManualClock clock(FromUnixSeconds(1'700'000'000));
  MemoryStore store;
  FakeRunner runner;
  Engine engine(io.get_executor(), clock, runner, store, EngineOptions{});
  auto poll = [&] {
    io.restart();
    for (int i = 0; i < 10; ++i) io.poll();
  };
  engine.SetLeading(false);
  EXPECT_FALSE(engine.leading());
  engine.ApplyChecks({Check("a"), Check("b")}, {});
  poll();
  EXPECT_TRUE(runner.started.empty()) << "a follower starts no run";
  EXPECT_TRUE(engine.Healthy());

  // The leader's writes, as the follower's store sees them.
  CheckState a;
  a.run_uuid = a.current_uuid = "11111111-2222-4333-8444-555555555555";
  a.last_run_start = clock.Now() - minutes(1);  // in flight on the old leader
  CheckState b;
  b.ok = true;
  b.last_run = b.last_run_start = clock.Now() - minutes(2);
  ASSERT_TRUE(store.SaveState({"default", "a"}, a).ok());
  ASSERT_TRUE(store.SaveState({"default", "b"}, b).ok());
  engine.ObserveStates(store.LoadStates());
  EXPECT_TRUE(engine.Snapshot().checks.at(1).state.ok);

  engine.SetLeading(true);
  poll();
  EXPECT_EQ(runner.leftovers, std::vector<std::string>{a.current_uuid});
  EXPECT_TRUE(runner.started.empty()) << "neither check is due yet";
  const auto snap = engine.Snapshot();
  EXPECT_FALSE(snap.checks.at(0).state.ok);
  EXPECT_TRUE(snap.checks.at(0).state.current_uuid.empty());
  EXPECT_EQ(snap.checks.at(0).next_run, a.last_run_start.value() + minutes(10));
  EXPECT_EQ(snap.checks.at(1).next_run, b.last_run_start.value() + minutes(10));

  clock.Advance(minutes(9));
  engine.ApplyChecks({Check("a"), Check("b")}, {});  // any call that runs the schedule
  poll();
  ASSERT_EQ(runner.started.size(), 2u);

  engine.SetLeading(false);  // a lost lease ends the runs this replica started
  poll();
  EXPECT_EQ(runner.terminated.size(), 2u);
}

// A run in flight at a leader change whose checker is still there is followed to its end by
// the new leader: its report is accepted, and it is neither failed nor started again.
TEST(EngineLeading, TakingOverFollowsARunStillInFlight) {
  boost::asio::io_context io;
  ManualClock clock(FromUnixSeconds(1'700'000'000));
  MemoryStore store;
  FakeRunner runner;
  runner.adoptable = true;
  Engine engine(io.get_executor(), clock, runner, store, EngineOptions{});
  auto poll = [&] {
    io.restart();
    for (int i = 0; i < 10; ++i) io.poll();
  };
  engine.SetLeading(false);
  engine.ApplyChecks({Check("a")}, {});
  CheckState a;
  a.run_uuid = a.current_uuid = "11111111-2222-4333-8444-555555555555";
  a.last_run_start = clock.Now() - minutes(1);  // timeout 5m: still running
  ASSERT_TRUE(store.SaveState({"default", "a"}, a).ok());
  engine.SetLeading(true);
  poll();
  EXPECT_EQ(runner.adopted, std::vector<std::string>{a.current_uuid});
  EXPECT_TRUE(runner.leftovers.empty());
  EXPECT_TRUE(runner.started.empty());
  EXPECT_EQ(engine.ActiveRuns(), 1u);

  std::optional<ReportVerdict> got;
  engine.HandleReport(a.current_uuid, R"({"OK":true,"Errors":[]})",
                      [&](ReportVerdict v) { got = v; });
  poll();
  ASSERT_TRUE(got.has_value());
  EXPECT_EQ(got->http_status, 200) << got->reason;
  runner.Exit(a.current_uuid, 0);
  poll();
  const StatusSnapshot snap = engine.Snapshot();
  const CheckState& after = snap.checks.at(0).state;
  EXPECT_TRUE(after.ok);
  EXPECT_TRUE(after.current_uuid.empty());
  EXPECT_EQ(snap.checks.at(0).next_run, a.last_run_start.value() + minutes(10));
  EXPECT_TRUE(runner.started.empty());
}

}  // namespace
}  // namespace sonde
