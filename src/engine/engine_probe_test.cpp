// In-process probes in the engine, with a scripted Probe: its observation becomes the run's
// result through the conditions, it never reaches the runner, and its run takes no report.
#include <gtest/gtest.h>

#include <boost/asio/io_context.hpp>

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

// Observes a fixed status code; counts its runs.
class ScriptedProbe final : public Probe {
 public:
  explicit ScriptedProbe(int status) : status_(status) {}
  boost::asio::awaitable<Observation> Run(Duration) const override {
    ++runs;
    Observation o;
    o.connected = true;
    o.status = status_;
    co_return o;
  }
  std::string Target() const override { return "GET http://scripted/"; }
  mutable int runs = 0;

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

}  // namespace
}  // namespace sonde
