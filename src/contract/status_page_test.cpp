#include "contract/status_page.hpp"

#include <gtest/gtest.h>

#include <cstdlib>
#include <fstream>
#include <sstream>

namespace sonde {
namespace {

using std::chrono::milliseconds;
using std::chrono::minutes;
using std::chrono::nanoseconds;
using std::chrono::seconds;

std::shared_ptr<const CheckSpec> Spec(std::string ns, std::string name, CheckKind kind) {
  auto s = std::make_shared<CheckSpec>();
  s->key = {std::move(ns), std::move(name)};
  s->kind = kind;
  s->run_interval = minutes(10);
  s->timeout = minutes(5);
  return s;
}

// A snapshot with a passing check, a failing check, a check that never ran, a job and a
// same-named check in another namespace.
StatusSnapshot Sample() {
  const TimePoint t = FromUnixSeconds(1614578889) + nanoseconds(357930490);
  StatusSnapshot snap;
  snap.instance = "sonde-host";
  snap.metadata = {{"cluster", "lab"}};

  CheckView ok{Spec("kuberhealthy", "dns-status-internal", CheckKind::kKhCheck), {}, {}};
  ok.state.ok = true;
  ok.state.run_duration = nanoseconds(3359431829);
  ok.state.node = "node-a";
  ok.state.authoritative_pod = "sonde-host";
  ok.state.last_run = t;
  ok.state.run_uuid = "1d309ed7-4b7a-4fd5-9706-d04f53c9ed30";
  ok.state.last_run_start = t - seconds(3);
  ok.state.last_ok = t;
  ok.state.success_count = 4;
  ok.next_run = t + minutes(10);

  CheckView bad{Spec("default", "dns-status-internal", CheckKind::kHealthCheck), {}, {}};
  bad.state.ok = false;
  bad.state.errors = {"lookup kubernetes.default: no such host", "<html> & \"quotes\""};
  bad.state.run_duration = milliseconds(350);
  bad.state.authoritative_pod = "sonde-host";
  bad.state.last_run = t;
  bad.state.run_uuid = "49f7bef3-f5d4-4e25-bf06-acd260d52e27";
  bad.state.current_uuid = "49f7bef3-f5d4-4e25-bf06-acd260d52e27";
  bad.state.last_run_start = t;
  bad.state.consecutive_failures = 2;
  bad.state.failure_count = 2;
  bad.state.last_failure = t;

  CheckView never{Spec("default", "new-check", CheckKind::kKhCheck), {}, {}};
  never.next_run = t;

  CheckView job{Spec("default", "migrate-once", CheckKind::kKhJob), {}, {}};
  job.state.ok = true;
  job.state.run_duration = nanoseconds(68486351014);
  job.state.authoritative_pod = "sonde-host";
  job.state.last_run = t;
  job.state.run_uuid = "c13aea0d-52ca-4777-a6e0-551d0c59962a";
  job.state.success_count = 1;

  snap.checks = {ok, bad, never, job};
  snap.load_errors = {"checks/broken.yaml:3:5: spec.timeout: invalid duration \"5x\""};
  return snap;
}

void ExpectGolden(const std::string& name, const std::string& got) {
  const std::string path = std::string(SONDE_SOURCE_DIR) + "/src/contract/testdata/" + name;
  if (std::getenv("UPDATE_GOLDEN") != nullptr) {
    std::ofstream(path) << got;
  }
  std::ifstream in(path);
  ASSERT_TRUE(in) << "missing golden file " << path << " (run with UPDATE_GOLDEN=1)";
  std::stringstream want;
  want << in.rdbuf();
  EXPECT_EQ(got, want.str()) << "golden " << name << " differs (UPDATE_GOLDEN=1 rewrites)";
}

TEST(RenderStatusV2, MatchesGolden) { ExpectGolden("status_v2.golden.json", RenderStatusV2(Sample(), {})); }

TEST(RenderStatusV3, MatchesGolden) { ExpectGolden("status_v3.golden.json", RenderStatusV3(Sample(), {})); }

TEST(RenderStatusV2, FiltersNamespacesAndIgnoresLoadErrorsOnlyWhenNone) {
  StatusSnapshot snap = Sample();
  snap.load_errors.clear();
  const std::string only_kh = RenderStatusV2(snap, ParseNamespaceFilter("kuberhealthy,,"));
  EXPECT_NE(only_kh.find("\"OK\": true"), std::string::npos);
  EXPECT_EQ(only_kh.find("default/"), std::string::npos);
  const std::string all = RenderStatusV2(snap, {});
  EXPECT_NE(all.find("\"OK\": false"), std::string::npos);
  EXPECT_EQ(all.find("new-check"), std::string::npos) << "never-run checks are hidden in v2";
}

TEST(ParseNamespaceFilter, DropsEmptyItems) {
  EXPECT_EQ(ParseNamespaceFilter(""), std::set<std::string>{});
  EXPECT_EQ(ParseNamespaceFilter("a,,b, c"), (std::set<std::string>{"a", "b", "c"}));
}

}  // namespace
}  // namespace sonde
