// The daemonset check's pure half: Kuberhealthy's variables, Kubernetes' toleration rule, the
// nodes a run must cover, and the DaemonSet it creates (a golden file). The check against a
// real API server is tests/kube/daemonset_check_test.cpp.
#include "checks/daemonset_plan.hpp"

#include <gtest/gtest.h>

#include <boost/json.hpp>
#include <cstdlib>
#include <fstream>
#include <sstream>

namespace sonde::checks_internal {
namespace {

namespace json = boost::json;
using Env = std::map<std::string, std::string>;

struct Read {
  DaemonsetConfig config;
  std::vector<std::string> problems;
};

Read ReadEnv(const Env& vars) {
  const CheckEnv env(vars);
  EnvReader in(env);
  Read r{ReadDaemonsetConfig(in, env), {}};
  r.problems = in.Outcome().errors;
  return r;
}

std::string Tols(const std::vector<Toleration>& ts) {
  std::string out;
  for (const Toleration& t : ts) {
    out += (out.empty() ? "" : " ") + t.key + "|" + t.op + "|" + t.value + "|" + t.effect;
  }
  return out;
}

TEST(DaemonsetConfig, Defaults) {
  const Read r = ReadEnv({});
  EXPECT_TRUE(r.problems.empty());
  EXPECT_EQ(r.config.ns, "kuberhealthy");
  EXPECT_EQ(r.config.image, "gcr.io/google-containers/pause:3.1");
  EXPECT_EQ(r.config.grace, std::chrono::minutes(1));
  EXPECT_EQ(r.config.name, "daemonset");
  EXPECT_EQ(r.config.priority_class, "");
  EXPECT_TRUE(r.config.node_selector.empty());
  EXPECT_TRUE(r.config.tolerations.empty());
  ASSERT_EQ(r.config.allowed_taints.size(), 1u);
  EXPECT_EQ(r.config.allowed_taints[0].key, "node.kubernetes.io/unschedulable");
  EXPECT_EQ(r.config.allowed_taints[0].effect, "NoSchedule");
}

TEST(DaemonsetConfig, Tolerations) {
  const std::pair<std::string, std::string> cases[] = {
      {"dedicated", "dedicated|Exists||"},
      {"dedicated=gpu", "dedicated|Equal|gpu|"},
      {"dedicated=gpu:NoSchedule", "dedicated|Equal|gpu|NoSchedule"},
      {"dedicated:NoExecute", "dedicated|Exists||NoExecute"},
      {"a=1:NoSchedule, b ,c:NoExecute", "a|Equal|1|NoSchedule b|Exists|| c|Exists||NoExecute"},
  };
  for (const auto& [text, want] : cases) {
    const Read r = ReadEnv({{"TOLERATIONS", text}});
    EXPECT_TRUE(r.problems.empty()) << text << ": " << r.problems[0];
    EXPECT_EQ(Tols(r.config.tolerations), want) << text;
  }
}

TEST(DaemonsetConfig, ProblemsNameTheVariable) {
  const std::pair<Env, std::vector<std::string>> cases[] = {
      {{{"TOLERATIONS", "=x:NoSchedule"}},
       {"TOLERATIONS entry \"=x:NoSchedule\": the taint key is empty (key, key:effect or "
        "key=value:effect)"}},
      {{{"TOLERATIONS", "a=b:Sometimes"}},
       {"TOLERATIONS entry \"a=b:Sometimes\": the effect must be NoSchedule, PreferNoSchedule or "
        "NoExecute"}},
      {{{"ALLOWED_TAINTS", "x:Never"}},
       {"ALLOWED_TAINTS entry \"x:Never\": the effect must be NoSchedule, PreferNoSchedule or "
        "NoExecute"}},
      {{{"NODE_SELECTOR", "role=web,zone"}}, {"NODE_SELECTOR entry \"zone\" is not key=value"}},
      {{{"NODE_SELECTOR", "role=web,role=db"}}, {"NODE_SELECTOR names \"role\" twice"}},
      {{{"CHECK_DAEMONSET_NAME", "Daemon_Set"}},
       {"CHECK_DAEMONSET_NAME \"Daemon_Set\" must be at most 52 lower-case letters, digits and "
        "'-', e.g. daemonset"}},
      {{{"POD_NAMESPACE", "kube system"}},
       {"POD_NAMESPACE \"kube system\" is not a namespace name"}},
      {{{"SHUTDOWN_GRACE_PERIOD", "1 minute"}, {"NODE_SELECTOR", "a"}},
       {"SHUTDOWN_GRACE_PERIOD: invalid duration \"1 minute\": unknown unit \" minute\" (use ns, "
        "us, ms, s, m or h)",
        "NODE_SELECTOR entry \"a\" is not key=value"}},
  };
  for (const auto& [env, want] : cases) {
    EXPECT_EQ(ReadEnv(env).problems, want) << env.begin()->first << "=" << env.begin()->second;
  }
}

TEST(DaemonsetConfig, AllowedTaintsReplaceTheDefault) {
  const Read r = ReadEnv({{"ALLOWED_TAINTS", "dedicated=gpu:NoSchedule,spot"}});
  ASSERT_EQ(r.config.allowed_taints.size(), 2u);
  EXPECT_EQ(r.config.allowed_taints[0].key, "dedicated");
  EXPECT_EQ(r.config.allowed_taints[0].effect, "NoSchedule");
  EXPECT_EQ(r.config.allowed_taints[1].key, "spot");
  EXPECT_EQ(r.config.allowed_taints[1].effect, "");
}

TEST(Tolerates, KubernetesRule) {
  struct Case {
    Toleration t;
    std::string key, value, effect;
    bool want;
  };
  const Case cases[] = {
      {{"k", "Exists", "", ""}, "k", "v", "NoSchedule", true},
      {{"k", "Exists", "", "NoExecute"}, "k", "v", "NoSchedule", false},
      {{"k", "Equal", "v", ""}, "k", "v", "NoExecute", true},
      {{"k", "Equal", "v", ""}, "k", "w", "NoExecute", false},
      {{"k", "Equal", "", ""}, "k", "", "NoSchedule", true},
      {{"other", "Exists", "", ""}, "k", "v", "NoSchedule", false},
      {{"", "Exists", "", ""}, "anything", "v", "NoExecute", true},
  };
  for (const Case& c : cases) {
    EXPECT_EQ(Tolerates(c.t, c.key, c.value, c.effect), c.want)
        << c.t.key << " " << c.t.op << " " << c.t.value << " " << c.t.effect << " vs " << c.key
        << "=" << c.value << ":" << c.effect;
  }
}

// A Node with `meta` added to its metadata and `spec` as its spec (JSON members / object).
json::object Node(const std::string& name, const std::string& meta = "",
                  const std::string& spec = "{}") {
  return json::parse(R"({"metadata":{"name":")" + name + "\"" + meta + R"(},"spec":)" + spec + "}")
      .as_object();
}

TEST(PlanNodes, WhoMustRunThePod) {
  const std::vector<json::object> nodes = {
      Node("plain"),
      Node("web", R"(,"labels":{"role":"web"})"),
      Node("cordoned", "",
           R"({"unschedulable":true,"taints":[{"key":"node.kubernetes.io/unschedulable",
               "effect":"NoSchedule"}]})"),
      Node("gpu", "", R"({"taints":[{"key":"dedicated","value":"gpu","effect":"NoSchedule"}]})"),
      Node("fargate", "",
           R"({"taints":[{"key":"eks.amazonaws.com/compute-type","value":"fargate",
               "effect":"NoSchedule"}]})"),
      Node("prefer", "", R"({"taints":[{"key":"x","effect":"PreferNoSchedule"}]})"),
      Node("going", R"(,"deletionTimestamp":"2026-01-01T00:00:00Z")"),
      Node("spot", "", R"({"taints":[{"key":"spot","value":"yes","effect":"NoExecute"}]})"),
  };
  struct Case {
    Env env;
    std::vector<std::string> expected;
    std::vector<std::pair<std::string, std::string>> skipped;
  };
  const Case cases[] = {
      // No TOLERATIONS: no taint is tolerated (Kuberhealthy would tolerate them all, #854).
      {{},
       {"plain", "web", "prefer"},
       {{"cordoned", "cordoned"},
        {"gpu", "taint dedicated=gpu:NoSchedule is not tolerated"},
        {"fargate", "taint eks.amazonaws.com/compute-type=fargate:NoSchedule is not tolerated"},
        {"going", "being deleted"},
        {"spot", "taint spot=yes:NoExecute is not tolerated"}}},
      {{{"TOLERATIONS", "dedicated=gpu:NoSchedule,spot"}, {"NODE_SELECTOR", ""}},
       {"plain", "web", "gpu", "prefer", "spot"},
       {{"cordoned", "cordoned"},
        {"fargate", "taint eks.amazonaws.com/compute-type=fargate:NoSchedule is not tolerated"},
        {"going", "being deleted"}}},
      // ALLOWED_TAINTS excuses a node even when TOLERATIONS covers its taint.
      {{{"TOLERATIONS", "dedicated,spot"}, {"ALLOWED_TAINTS", "spot:NoExecute"}},
       {"plain", "web", "gpu", "prefer"},
       {{"cordoned", "cordoned"},
        {"fargate", "taint eks.amazonaws.com/compute-type=fargate:NoSchedule is not tolerated"},
        {"going", "being deleted"},
        {"spot", "taint spot=yes:NoExecute is in ALLOWED_TAINTS"}}},
      {{{"NODE_SELECTOR", "role=web"}},
       {"web"},
       {{"plain", "NODE_SELECTOR role=web does not match"},
        {"cordoned", "cordoned"},
        {"gpu", "NODE_SELECTOR role=web does not match"},
        {"fargate", "NODE_SELECTOR role=web does not match"},
        {"prefer", "NODE_SELECTOR role=web does not match"},
        {"going", "being deleted"},
        {"spot", "NODE_SELECTOR role=web does not match"}}},
  };
  for (const Case& c : cases) {
    const Read r = ReadEnv(c.env);
    ASSERT_TRUE(r.problems.empty()) << r.problems[0];
    const NodePlan plan = PlanNodes(nodes, r.config);
    EXPECT_EQ(plan.expected, c.expected);
    EXPECT_EQ(plan.skipped, c.skipped);
  }
}

TEST(LabelValue, Sanitizes) {
  EXPECT_EQ(LabelValue("Checker-Pod-7f9c"), "checker-pod-7f9c");
  EXPECT_EQ(LabelValue("-host.example.com_"), "host.example.com");
  EXPECT_EQ(LabelValue("a b/c"), "a-b-c");
  EXPECT_EQ(LabelValue(std::string(70, 'x')), std::string(63, 'x'));
  EXPECT_EQ(LabelValue("---"), "");
}

// The DaemonSet is a wire format: compare it with the golden file (UPDATE_GOLDEN=1 rewrites).
TEST(DaemonsetManifest, MatchesGolden) {
  const Read r = ReadEnv({{"POD_NAMESPACE", "health"},
                          {"PAUSE_CONTAINER_IMAGE", "registry.k8s.io/pause:3.9"},
                          {"SHUTDOWN_GRACE_PERIOD", "90s"},
                          {"DAEMONSET_PRIORITY_CLASS_NAME", "system-node-critical"},
                          {"NODE_SELECTOR", "kubernetes.io/os=linux"},
                          {"TOLERATIONS", "dedicated=gpu:NoSchedule,spot"}});
  ASSERT_TRUE(r.problems.empty()) << r.problems[0];
  const std::string ds = "daemonset-1700000000";
  const json::object got = DaemonsetManifest(r.config, ds, RunLabels(ds, "checker-pod", 1700000000),
                                             {"node-a", "node-b"});
  const std::string path = std::string(SONDE_SOURCE_DIR) + "/src/checks/testdata/daemonset.json";
  if (std::getenv("UPDATE_GOLDEN")) {
    std::ofstream(path) << json::serialize(got) << "\n";
  }
  std::ifstream in(path);
  ASSERT_TRUE(in) << "missing golden file " << path << " (run with UPDATE_GOLDEN=1)";
  std::stringstream want;
  want << in.rdbuf();
  EXPECT_EQ(json::value(got), json::parse(want.str()))
      << "golden differs (UPDATE_GOLDEN=1 rewrites): " << json::serialize(got);
}

TEST(DaemonsetManifest, OptionalFieldsAreLeftOut) {
  const Read r = ReadEnv({});
  const json::object got =
      DaemonsetManifest(r.config, "daemonset-1", RunLabels("daemonset-1", "h", 1), {"n"});
  const json::object& spec = got.at("spec").at("template").at("spec").as_object();
  EXPECT_FALSE(spec.contains("nodeSelector"));
  EXPECT_FALSE(spec.contains("priorityClassName"));
  EXPECT_TRUE(spec.at("tolerations").as_array().empty());
  EXPECT_EQ(spec.at("terminationGracePeriodSeconds"), 60);
}

}  // namespace
}  // namespace sonde::checks_internal
