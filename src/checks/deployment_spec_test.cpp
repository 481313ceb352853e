// The deployment check's settings (Kuberhealthy's variables, every mistake named) and the
// objects it sends, byte for byte against golden files in testdata/ (UPDATE_GOLDEN=1 rewrites
// them). The check itself runs against a real API server in tests/kube/kube_checks_test.cpp.
#include "checks/deployment_spec.hpp"

#include <gtest/gtest.h>

#include <fstream>
#include <sstream>

namespace sonde::checks_internal {
namespace {

using Env = std::map<std::string, std::string>;
const TimePoint kNow = FromUnixSeconds(1'700'000'000);

void ExpectGolden(const std::string& name, const std::string& got) {
  const std::string path = std::string(SONDE_SOURCE_DIR) + "/src/checks/testdata/" + name;
  if (std::getenv("UPDATE_GOLDEN") != nullptr) std::ofstream(path) << got << "\n";
  std::ifstream in(path);
  ASSERT_TRUE(in) << "missing golden file " << path << " (run with UPDATE_GOLDEN=1)";
  std::ostringstream want;
  want << in.rdbuf();
  EXPECT_EQ(got + "\n", want.str()) << "golden " << name << " differs (UPDATE_GOLDEN=1 rewrites)";
}

DeploymentSettings Read(const Env& vars, std::vector<std::string>* problems = nullptr) {
  const CheckEnv env(vars);
  EnvReader in(env);
  DeploymentSettings s = ReadDeploymentSettings(env, in, kNow);
  if (problems != nullptr) *problems = in.Outcome().errors;
  return s;
}

TEST(DeploymentSpec, DefaultsAreKuberhealthys) {
  std::vector<std::string> problems;
  const DeploymentSettings s = Read({}, &problems);
  EXPECT_TRUE(problems.empty());
  EXPECT_EQ(s.ns, "kuberhealthy");
  EXPECT_EQ(s.run_label, "unix-1700000000");
  ExpectGolden("deployment-default.json", DeploymentManifest(s, s.image));
  ExpectGolden("service-default.json", ServiceManifest(s));
  ExpectGolden("roll-default.json", RollPatch(s));
}

// Every variable set, in Kuberhealthy's v2 forms (whole numbers) where there are two.
TEST(DeploymentSpec, EveryVariable) {
  std::vector<std::string> problems;
  const DeploymentSettings s = Read({{"CHECK_IMAGE", "registry.local/web:1"},
                                     {"CHECK_IMAGE_ROLL_TO", "registry.local/web:2"},
                                     {"CHECK_IMAGE_PULL_SECRET", "pull"},
                                     {"CHECK_DEPLOYMENT_NAME", "web"},
                                     {"CHECK_SERVICE_NAME", "web-svc"},
                                     {"CHECK_NAMESPACE", "checks"},
                                     {"KH_POD_NAMESPACE", "ignored"},
                                     {"CHECK_DEPLOYMENT_REPLICAS", "3"},
                                     {"CHECK_DEPLOYMENT_ROLLING_UPDATE", "true"},
                                     {"CHECK_CONTAINER_PORT", "9000"},
                                     {"CHECK_LOAD_BALANCER_PORT", "8000"},
                                     {"CHECK_SERVICE_ACCOUNT", "web-sa"},
                                     {"CHECK_POD_CPU_REQUEST", "20"},
                                     {"CHECK_POD_CPU_LIMIT", "0.5"},
                                     {"CHECK_POD_MEM_REQUEST", "30"},
                                     {"CHECK_POD_MEM_LIMIT", "128Mi"},
                                     {"NODE_SELECTOR", "zone=a,disk=ssd,zone=b"},
                                     {"TOLERATIONS", "dedicated=checks:NoSchedule,spot=true,gpu"},
                                     {"ADDITIONAL_ENV_VARS", "MODE=test,URL=http://x/?a=b"},
                                     {"SHUTDOWN_GRACE_PERIOD", "45s"}},
                                    &problems);
  EXPECT_TRUE(problems.empty()) << problems.front();
  EXPECT_TRUE(s.rolling_update);
  EXPECT_EQ(s.shutdown_grace, std::chrono::seconds(45));
  ExpectGolden("deployment-full.json", DeploymentManifest(s, s.image));
  ExpectGolden("service-full.json", ServiceManifest(s));
  ExpectGolden("roll-full.json", RollPatch(s));
}

TEST(DeploymentSpec, NamespaceFromThePodWhenNotSet) {
  EXPECT_EQ(Read({{"KH_POD_NAMESPACE", "team-a"}}).ns, "team-a");
}

TEST(DeploymentSpec, MistakesAreNamed) {
  struct Case {
    Env env;
    std::vector<std::string> problems;
  };
  const Case cases[] = {
      {{{"CHECK_DEPLOYMENT_REPLICAS", "0"}}, {"CHECK_DEPLOYMENT_REPLICAS 0 must be 1 to 1000"}},
      {{{"CHECK_CONTAINER_PORT", "http"}}, {"CHECK_CONTAINER_PORT \"http\" is not a whole number"}},
      {{{"CHECK_LOAD_BALANCER_PORT", "70000"}},
       {"CHECK_LOAD_BALANCER_PORT 70000 must be 1 to 65535"}},
      {{{"CHECK_DEPLOYMENT_ROLLING_UPDATE", "yes"}},
       {"CHECK_DEPLOYMENT_ROLLING_UPDATE \"yes\" is not a boolean (true or false)"}},
      {{{"CHECK_DEPLOYMENT_ROLLING_UPDATE", "true"},
        {"CHECK_IMAGE", "a:1"},
        {"CHECK_IMAGE_ROLL_TO", "a:1"}},
       {"CHECK_IMAGE_ROLL_TO \"a:1\" is CHECK_IMAGE: a rolling update needs a different image"}},
      {{{"CHECK_POD_CPU_REQUEST", "lots"}},
       {"CHECK_POD_CPU_REQUEST \"lots\" is neither a whole number (millicores) nor a quantity such "
        "as 100m or 64Mi"}},
      {{{"CHECK_POD_MEM_LIMIT", "-5"}},
       {"CHECK_POD_MEM_LIMIT \"-5\" is neither a whole number (MiB) nor a quantity such as 100m or "
        "64Mi"}},
      {{{"NODE_SELECTOR", "zone"}}, {"NODE_SELECTOR \"zone\": want key=value"}},
      {{{"ADDITIONAL_ENV_VARS", "A=1,=2"}}, {"ADDITIONAL_ENV_VARS \"=2\": want key=value"}},
      {{{"TOLERATIONS", "a=b:c:d"}},
       {"TOLERATIONS \"a=b:c:d\": want key, key=value or key=value:Effect"}},
      {{{"SHUTDOWN_GRACE_PERIOD", "500ms"}}, {"SHUTDOWN_GRACE_PERIOD must be at least 1s"}},
      {{{"SHUTDOWN_GRACE_PERIOD", "soon"}},
       {"SHUTDOWN_GRACE_PERIOD: invalid duration \"soon\": expected a number"}},
      // Several at once: all of them, in the order the variables are read.
      {{{"CHECK_DEPLOYMENT_REPLICAS", "two"}, {"NODE_SELECTOR", "x"}},
       {"CHECK_DEPLOYMENT_REPLICAS \"two\" is not a whole number",
        "NODE_SELECTOR \"x\": want key=value"}},
  };
  for (const Case& c : cases) {
    std::vector<std::string> problems;
    Read(c.env, &problems);
    EXPECT_EQ(problems, c.problems) << c.env.begin()->first;
  }
}

}  // namespace
}  // namespace sonde::checks_internal
