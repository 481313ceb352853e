#include "kube/checker_pod.hpp"

#include <gtest/gtest.h>

#include <fstream>
#include <sstream>

#include "kube/check_resource.hpp"
#include "kube/kube_test_support.hpp"

namespace sonde::kube {
namespace {

namespace json = boost::json;
using testing::ExpectGolden;
using testing::Obj;

CheckSpec FromFixture(const std::string& name) {
  std::ifstream in(std::string(SONDE_SOURCE_DIR) + "/src/kube/testdata/" + name);
  std::stringstream text;
  text << in.rdbuf();
  auto read = ReadCheckResource(Obj(text.str()));
  EXPECT_TRUE(read.ok()) << read.error();
  return read.ok() ? read.value().spec : CheckSpec{};
}

PodRun SampleRun() {
  PodRun run;
  run.run_uuid = "4f9c2b7e-1d3a-4e5f-8a6b-9c0d1e2f3a4b";
  run.reporting_url =
      "http://kuberhealthy.kuberhealthy.svc.cluster.local/externalCheckStatus?kh-run-uuid="
      "4f9c2b7e-1d3a-4e5f-8a6b-9c0d1e2f3a4b";
  run.start = FromUnixSeconds(1704164645);  // 2024-01-02T03:04:05Z
  run.deadline = run.start + std::chrono::minutes(2);
  run.name_suffix = "x7k2q";
  return run;
}

json::object Build(const CheckSpec& spec, const PodRun& run) {
  auto pod = BuildCheckerPod(spec, run);
  EXPECT_TRUE(pod.ok()) << pod.error();
  return pod.ok() ? pod.value() : json::object{};
}

TEST(BuildCheckerPod, V2CheckGolden) {
  ExpectGolden("khcheck.pod.golden.json", Build(FromFixture("khcheck.json"), SampleRun()));
}

TEST(BuildCheckerPod, V2JobGolden) {
  PodRun run = SampleRun();
  run.reporting_url = "http://sonde.example/externalCheckStatus?kh-run-uuid=" + run.run_uuid;
  ExpectGolden("khjob.pod.golden.json", Build(FromFixture("khjob.json"), run));
}

TEST(BuildCheckerPod, V3HealthCheckGolden) {
  PodRun run = SampleRun();
  run.reporting_url =
      "http://kuberhealthy.kuberhealthy.svc.cluster.local/check?kh-run-uuid=" + run.run_uuid;
  ExpectGolden("healthcheck.pod.golden.json", Build(FromFixture("healthcheck.json"), run));
}

struct NameCase {
  std::string name;
  CheckKind kind;
  std::string check;
  std::string suffix;  // PodRun::name_suffix
  std::string want;
};

void PrintTo(const NameCase& c, std::ostream* os) { *os << c.name; }

class CheckerPodNameTest : public ::testing::TestWithParam<NameCase> {};

TEST_P(CheckerPodNameTest, IsADnsLabel) {
  const NameCase& c = GetParam();
  CheckSpec spec;
  spec.kind = c.kind;
  spec.key = {"ns", c.check};
  PodRun run = SampleRun();
  run.name_suffix = c.suffix;
  const std::string got = CheckerPodName(spec, run);
  EXPECT_EQ(got, c.want);
  EXPECT_LE(got.size(), 63u);
}

const std::string k60(60, 'a');

INSTANTIATE_TEST_SUITE_P(
    Cases, CheckerPodNameTest,
    ::testing::Values(
        NameCase{"V2UnixSeconds", CheckKind::kKhCheck, "gear", "ignored", "gear-1704164645"},
        NameCase{"V2DotsAndCase", CheckKind::kKhJob, "Db.Migrate", "", "db-migrate-1704164645"},
        NameCase{"V2Truncated", CheckKind::kKhCheck, k60, "", std::string(52, 'a') + "-1704164645"},
        NameCase{"V2NoDashBeforeSuffix", CheckKind::kKhCheck, std::string(51, 'a') + ".b", "",
                 std::string(51, 'a') + "-1704164645"},
        NameCase{"V3Suffix", CheckKind::kHealthCheck, "dns", "x7k2q", "dns-x7k2q"},
        NameCase{"V3SuffixFromUuid", CheckKind::kHealthCheck, "dns", "", "dns-4f9c2"},
        NameCase{"V3Truncated", CheckKind::kHealthCheck, k60, "x7k2q",
                 std::string(57, 'a') + "-x7k2q"}),
    [](const auto& param_info) { return param_info.param.name; });

// Names of a container's env vars and the value of one.
std::vector<std::string> EnvNames(const json::value& container) {
  std::vector<std::string> out;
  for (const json::value& v : container.at("env").as_array()) {
    out.emplace_back(v.at("name").as_string());
  }
  return out;
}

TEST(BuildCheckerPod, KhVariablesReplaceTheCheckersOwnAndGoLast) {
  const json::object pod = Build(FromFixture("khcheck.json"), SampleRun());
  const json::value& main = pod.at("spec").at("containers").at(0);
  EXPECT_EQ(EnvNames(main),
            (std::vector<std::string>{"GEAR_URL", "NODE", "KH_REPORTING_URL", "KH_RUN_UUID",
                                      "KH_CHECK_RUN_DEADLINE", "KH_POD_NAMESPACE"}));
  EXPECT_EQ(main.at("env").at(3).at("value"), SampleRun().run_uuid.c_str());
  EXPECT_EQ(main.at("env").at(4).at("value"), "1704164765");
  EXPECT_EQ(main.at("env").at(5).at("valueFrom").at("fieldRef").at("fieldPath"),
            "metadata.namespace");
}

struct VersionCase {
  std::string name;
  std::string fixture;
  std::string restart_policy;  // set in the pod spec first; empty: removed
  std::string want_policy;
  bool init_env;  // KH_* injected into initContainers
};

void PrintTo(const VersionCase& c, std::ostream* os) { *os << c.name; }

class PodConventionsTest : public ::testing::TestWithParam<VersionCase> {};

TEST_P(PodConventionsTest, RestartPolicyAndInitContainers) {
  const VersionCase& c = GetParam();
  CheckSpec spec = FromFixture(c.fixture);
  json::object pod_spec = Obj(spec.kube->pod_spec_json);
  pod_spec.erase("restartPolicy");
  if (!c.restart_policy.empty()) pod_spec["restartPolicy"] = c.restart_policy;
  spec.kube->pod_spec_json = json::serialize(pod_spec);
  const json::object pod = Build(spec, SampleRun());
  EXPECT_EQ(pod.at("spec").at("restartPolicy"), c.want_policy.c_str());
  const json::value& init = pod.at("spec").at("initContainers").at(0);
  EXPECT_EQ(init.as_object().contains("env") && !init.at("env").as_array().empty(), c.init_env);
}

INSTANTIATE_TEST_SUITE_P(
    Cases, PodConventionsTest,
    ::testing::Values(VersionCase{"V2ForcesNever", "khcheck.json", "Always", "Never", false},
                      VersionCase{"V2SetsNever", "khcheck.json", "", "Never", false},
                      VersionCase{"V3KeepsItsOwn", "healthcheck.json", "OnFailure", "OnFailure",
                                  true},
                      VersionCase{"V3DefaultsToNever", "healthcheck.json", "", "Never", true}),
    [](const auto& param_info) { return param_info.param.name; });

TEST(BuildCheckerPod, Errors) {
  CheckSpec local;
  local.key = {"ns", "c"};
  EXPECT_EQ(BuildCheckerPod(local, SampleRun()).error(),
            "khchecks/ns/c: has no pod spec from the Kubernetes API");

  CheckSpec long_name = FromFixture("healthcheck.json");
  long_name.key.name = std::string(64, 'a');
  EXPECT_EQ(BuildCheckerPod(long_name, SampleRun()).error(),
            "healthchecks/kuberhealthy/" + std::string(64, 'a') +
                ": metadata.name: longer than 63 characters, so it cannot be the checker pod's "
                "healthcheck label");

  CheckSpec bad_json = FromFixture("khjob.json");
  bad_json.kube->pod_spec_json = "[1]";
  EXPECT_EQ(BuildCheckerPod(bad_json, SampleRun()).error(),
            "khjobs/shop/migrate.once: the pod spec is not a JSON object");
}

TEST(Selectors, PerVersion) {
  const CheckSpec v2 = FromFixture("khcheck.json");
  const CheckSpec v3 = FromFixture("healthcheck.json");
  EXPECT_EQ(CheckPodsSelector(v2), "kuberhealthy-check-name=bayes-gear");
  EXPECT_EQ(CheckPodsSelector(v3), "healthcheck=dns-internal");
  EXPECT_EQ(RunPodSelector(v2, "u1"), "kuberhealthy-run-id=u1");
  EXPECT_EQ(RunPodSelector(v3, "u1"), "kh-run-uuid=u1");
}

}  // namespace
}  // namespace sonde::kube
