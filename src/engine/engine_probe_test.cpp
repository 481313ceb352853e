// In-process probes in the engine, with a scripted Probe: its observation becomes the run's
// result through the conditions, it never reaches the runner, and its run takes no report.
#include <gtest/gtest.h>

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <thread>

#include "engine/engine.hpp"
#include "probe/probe.hpp"
#include "store/memory_store.hpp"

namespace sonde {
namespace {

using std::chrono::seconds;

class NoRunner final : public Runner {
 public:
  void Start(const RunRequest&, RunDone) override { ++starts; }
  void Terminate(const std::string&) override {}
  void StopLeftovers(const std::string&) override {}
  void KillAll() override {}
  std::vector<RunLogs> Logs(const CheckKey&) const override { return {}; }
  size_t ActiveRuns() const override { return 0; }
  int starts = 0;
};

// Observes a fixed status code; counts its runs and remembers the thread of the last one.
class ScriptedProbe final : public Probe {
 public:
  explicit ScriptedProbe(int status) : status_(status) {}
  boost::asio::awaitable<Observation> Run(Duration) const override {
    ++runs;
    thread = std::this_thread::get_id();
    Observation o;
    o.connected = true;
    o.status = status_;
    co_return o;
  }
  std::string Target() const override { return "GET http://scripted/"; }
  // Written by the thread the probe runs on; read once that thread has stopped or is this one.
  mutable int runs = 0;
  mutable std::thread::id thread;

 private:
  int status_;
};

CheckSpec ProbeCheck(const std::string& name, std::shared_ptr<const Probe> probe) {
  auto def = std::make_shared<ProbeDefinition>();
  def->kind = "http";
  def->probe = std::move(probe);
  def->conditions.push_back(Condition::Parse("[STATUS] == 200").value());
  CheckSpec s;
  s.key = {"default", name};
  s.run_interval = std::chrono::milliseconds(20);
  s.timeout = seconds(5);
  s.probe = ProbeRef{def, name};
  return s;
}

class EngineProbeTest : public ::testing::Test {
 protected:
  EngineProbeTest() : engine_(io_.get_executor(), clock_, runner_, store_, EngineOptions{}) {}
  void Drain() {
    io_.restart();
    io_.run_for(std::chrono::milliseconds(50));
  }
  CheckState State(const std::string& name) {
    for (const auto& c : engine_.Snapshot().checks) {
      if (c.spec->key.name == name) return c.state;
    }
    ADD_FAILURE() << "no check " << name;
    return {};
  }

  boost::asio::io_context io_;
  ManualClock clock_{FromUnixSeconds(1'700'000'000)};
  NoRunner runner_;
  MemoryStore store_;
  Engine engine_;
};

TEST_F(EngineProbeTest, ObservationBecomesTheResultWithoutTheRunner) {
  auto up = std::make_shared<ScriptedProbe>(200);
  auto down = std::make_shared<ScriptedProbe>(503);
  engine_.ApplyChecks({ProbeCheck("up", up), ProbeCheck("down", down)}, {});
  // First runs are spread over the first interval.
  clock_.Advance(std::chrono::milliseconds(20));
  Drain();
  EXPECT_EQ(runner_.starts, 0);
  EXPECT_EQ(up->runs, 1);
  EXPECT_EQ(down->runs, 1);
  EXPECT_TRUE(State("up").ok);
  EXPECT_FALSE(State("down").ok);
  EXPECT_EQ(State("down").errors, std::vector<std::string>{"[STATUS] == 200: got 503"});
  EXPECT_EQ(store_.History({.key = {"default", "down"}}).value().front().ended_by, "probe");
}

TEST_F(EngineProbeTest, RunTakesNoReport) {
  auto probe = std::make_shared<ScriptedProbe>(200);
  engine_.ApplyChecks({ProbeCheck("up", probe)}, {});
  ASSERT_EQ(engine_.RunNow({"default", "up"}), RunNowResult::kStarted);
  Drain();
  const std::string uuid = State("up").run_uuid;
  ASSERT_FALSE(uuid.empty());
  std::optional<ReportVerdict> verdict;
  engine_.HandleReport(uuid, R"({"OK":false,"Errors":["x"]})",
                       [&](ReportVerdict v) { verdict = v; });
  Drain();
  ASSERT_TRUE(verdict.has_value());
  EXPECT_EQ(verdict->http_status, 410);
  EXPECT_TRUE(State("up").ok);
}

// With a probe executor on another thread, probes run there and only their observations come
// back: the results are the same as when the engine's own loop runs them.
TEST(EngineProbeThread, ProbesRunOnTheProbeExecutorAndResultsComeBack) {
  boost::asio::io_context io;
  boost::asio::io_context probe_io;
  auto work = boost::asio::make_work_guard(probe_io);
  std::thread probe_thread([&] { probe_io.run(); });
  const std::thread::id probe_thread_id = probe_thread.get_id();
  ManualClock clock{FromUnixSeconds(1'700'000'000)};
  NoRunner runner;
  MemoryStore store;
  EngineOptions options;
  options.probe_executor = probe_io.get_executor();
  auto up = std::make_shared<ScriptedProbe>(200);
  auto down = std::make_shared<ScriptedProbe>(503);
  {
    Engine engine(io.get_executor(), clock, runner, store, options);
    engine.ApplyChecks({ProbeCheck("up", up), ProbeCheck("down", down)}, {});
    clock.Advance(std::chrono::milliseconds(20));
    for (int i = 0; i < 100; ++i) {  // until both results are back (at most 1 s)
      io.restart();
      io.run_for(std::chrono::milliseconds(10));
      const auto checks = engine.Snapshot().checks;
      if (checks[0].state.last_run && checks[1].state.last_run) break;
    }
    std::map<std::string, CheckState> states;
    for (const auto& c : engine.Snapshot().checks) states[c.spec->key.name] = c.state;
    EXPECT_EQ(runner.starts, 0);
    EXPECT_TRUE(states["up"].ok);
    EXPECT_FALSE(states["down"].ok);
    EXPECT_EQ(states["down"].errors, std::vector<std::string>{"[STATUS] == 200: got 503"});
    EXPECT_EQ(engine.ActiveRuns(), 0u);
  }
  work.reset();
  probe_io.stop();
  probe_thread.join();
  EXPECT_EQ(up->runs, 1);
  EXPECT_EQ(down->runs, 1);
  EXPECT_EQ(up->thread, probe_thread_id);
  EXPECT_EQ(down->thread, probe_thread_id);
  ASSERT_EQ(store.History({.key = {"default", "down"}}).value().size(), 1u);
  EXPECT_EQ(store.History({.key = {"default", "down"}}).value().front().ended_by, "probe");
}

}  // namespace
}  // namespace sonde
