// PlanSpawn: paths, environment and identity, with an injected daemon (no processes).
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "runner/runner_test_support.hpp"
#include "runner/spawn.hpp"

namespace sonde {
namespace {

using ::sonde::testing::MakeContainer;
using ::sonde::testing::MakeSpec;
using ::sonde::testing::TempDir;
using ::testing::ElementsAre;

class PlanSpawnTest : public ::testing::Test {
 protected:
  PlanSpawnTest() {
    host_.environ = env_;
    host_.cwd = "/daemon/cwd";
    host_.euid = 1000;
    host_.egid = 1000;
  }

  Result<SpawnPlan> Plan(const Container& c, const std::string& base_dir = "/checks") {
    RunRequest req{MakeSpec({c}, {}, base_dir), "uuid-1", "http://x/r", FromUnixSeconds(42)};
    return PlanSpawn(c, req, host_);
  }

  const char* env_[4] = {"PATH=/usr/bin:/bin", "HOME=/home/me", "KH_RUN_UUID=stale", nullptr};
  SpawnHost host_;
};

TEST_F(PlanSpawnTest, WorkingDirResolution) {
  Container c = MakeContainer("c", {"/bin/true"});
  EXPECT_EQ(Plan(c).value().working_dir, "/checks");
  c.working_dir = "sub/dir/";
  EXPECT_EQ(Plan(c).value().working_dir, "/checks/sub/dir");
  EXPECT_EQ(Plan(c, "").value().working_dir, "/daemon/cwd/sub/dir");
  EXPECT_EQ(Plan(c, "rel").value().working_dir, "/daemon/cwd/rel/sub/dir");
  c.working_dir = "/abs/../x";
  EXPECT_EQ(Plan(c).value().working_dir, "/x");
}

TEST_F(PlanSpawnTest, RelativeCommandIsRelativeToWorkingDir) {
  Container c = MakeContainer("c", {"./bin/run.sh", "a"});
  c.args = {"b"};
  c.working_dir = "w";
  const SpawnPlan plan = Plan(c).value();
  EXPECT_EQ(plan.exec_path, "/checks/w/bin/run.sh");
  EXPECT_THAT(plan.argv, ElementsAre("./bin/run.sh", "a", "b"));
}

TEST_F(PlanSpawnTest, BareCommandIsLookedUpInTheContainersPath) {
  TempDir dir;
  dir.Script("bin/mytool", "exit 0");
  Container c = MakeContainer("c", {"mytool"});
  EXPECT_FALSE(Plan(c).ok());
  EXPECT_EQ(Plan(c).error(), "cannot start \"mytool\": executable file not found in $PATH");
  c.env = {{"PATH", "/nonexistent:" + dir.Sub("bin")}};
  EXPECT_EQ(Plan(c).value().exec_path, dir.Sub("bin/mytool"));
  c.command = {"sh"};
  c.env.clear();
  EXPECT_EQ(Plan(c).value().exec_path, "/usr/bin/sh");
}

TEST_F(PlanSpawnTest, EnvironmentLayering) {
  Container c = MakeContainer("c", {"/bin/true"});
  c.env = {{"HOME", "/override"}, {"NEW", "1"}, {"KH_POD_NAMESPACE", "evil"}};
  EXPECT_THAT(Plan(c).value().env,
              ElementsAre("PATH=/usr/bin:/bin", "HOME=/override", "KH_RUN_UUID=uuid-1", "NEW=1",
                          "KH_POD_NAMESPACE=testns", "KH_REPORTING_URL=http://x/r",
                          "KH_CHECK_RUN_DEADLINE=42"));
}

TEST_F(PlanSpawnTest, IdentityWithoutRoot) {
  Container c = MakeContainer("c", {"/bin/true"});
  c.run_as_user = 1000;  // who we are already: fine, nothing to change
  c.run_as_group = 1000;
  EXPECT_FALSE(Plan(c).value().uid.has_value());
  c.run_as_user = 1001;
  EXPECT_EQ(Plan(c).error(), "runAsUser 1001 requires the daemon to run as root");
  c.run_as_user.reset();
  c.run_as_group = 5;
  EXPECT_EQ(Plan(c).error(), "runAsGroup 5 requires the daemon to run as root");
}

TEST_F(PlanSpawnTest, IdentityAsRoot) {
  host_.euid = 0;
  Container c = MakeContainer("c", {"/bin/true"});
  c.run_as_user = 1001;
  const SpawnPlan plan = Plan(c).value();
  EXPECT_EQ(plan.uid, 1001u);
  EXPECT_FALSE(plan.gid.has_value());
  c.run_as_user = -1;
  EXPECT_EQ(Plan(c).error(), "runAsUser -1 is not a valid id");
}

TEST_F(PlanSpawnTest, EmptyCommandIsAnError) { EXPECT_FALSE(Plan(MakeContainer("c", {})).ok()); }

}  // namespace
}  // namespace sonde
