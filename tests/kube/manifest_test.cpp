#include "kube/manifest.hpp"

#include <gtest/gtest.h>

#include <cstdlib>
#include <fstream>
#include <sstream>

namespace sonde::kube {
namespace {

namespace json = boost::json;

std::string ReadFile(const std::string& path) {
  std::ifstream in(path);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

const std::string kTestdata = std::string(SONDE_SOURCE_DIR) + "/tests/kube/testdata/";

// The requests Apply would send, one JSON line per object.
TEST(PlanApply, MatchesGoldenRequests) {
  auto plan = PlanApply(ReadFile(kTestdata + "manifests.yaml"));
  ASSERT_TRUE(plan.ok()) << plan.error();
  std::string got;
  for (const ObjectRequest& r : plan.value()) {
    got +=
        json::serialize(json::object{
            {"collection", r.collection}, {"name", r.name}, {"kind", r.kind}, {"body", r.body}}) +
        "\n";
  }
  const std::string path = kTestdata + "manifests.golden.jsonl";
  if (std::getenv("UPDATE_GOLDEN") != nullptr) std::ofstream(path) << got;
  const std::string want = ReadFile(path);
  ASSERT_FALSE(want.empty()) << "missing golden file " << path << " (run with UPDATE_GOLDEN=1)";
  EXPECT_EQ(got, want) << "golden manifests.golden.jsonl differs (UPDATE_GOLDEN=1 rewrites)";
}

TEST(YamlToJson, TypesPlainScalarsAndKeepsQuotedOnesStrings) {
  struct Case {
    std::string yaml, want;
  };
  const std::vector<Case> cases = {
      {"a: 1", R"({"a":1})"},
      {"a: -7", R"({"a":-7})"},
      {"a: 0.25", R"({"a":2.5E-1})"},
      {"a: \"1\"", R"({"a":"1"})"},
      {"a: '1'", R"({"a":"1"})"},
      {"a: true", R"({"a":true})"},
      {"a: False", R"({"a":false})"},
      {"a: yes", R"({"a":"yes"})"},
      {"a: ~", R"({"a":null})"},
      {"a:", R"({"a":null})"},
      {"a: inf", R"({"a":"inf"})"},
      {"a: 1.2.3", R"({"a":"1.2.3"})"},
      {"a: 64Mi", R"({"a":"64Mi"})"},
      {"a: [1, x, {b: c}]", R"({"a":[1,"x",{"b":"c"}]})"},
      {"a: |\n  two\n  lines\n", R"({"a":"two\nlines\n"})"},
  };
  for (const Case& c : cases) {
    auto v = YamlToJson(YAML::Load(c.yaml), "");
    ASSERT_TRUE(v.ok()) << c.yaml << ": " << v.error();
    EXPECT_EQ(json::serialize(v.value()), c.want) << c.yaml;
  }
}

TEST(PlanApply, NamesTheDocumentAndFieldOfAProblem) {
  struct Case {
    std::string yaml, want_error;
  };
  const std::vector<Case> cases = {
      {"apiVersion: v1\nkind: Namespace\nmetadata: {}\n", "doc[0]: metadata.name: missing"},
      {"kind: Namespace\nmetadata: {name: a}\n", "doc[0]: apiVersion: missing"},
      {"apiVersion: v1\nkind: Namespace\nmetadata: {name: a}\n---\napiVersion: v1\n"
       "kind: Gadget\nmetadata: {name: b}\n",
       "doc[1]: kind: Gadget in v1 is not in the test cluster's resource table"},
      {"apiVersion: apps/v1\nkind: Namespace\nmetadata: {name: a}\n",
       "doc[0]: kind: Namespace in apps/v1 is not in"},
      {"- a\n- b\n", "doc[0]: a manifest must be a mapping"},
      {"a: [1, 2\n", "YAML: line 2"},
      {"apiVersion: v1\nkind: ConfigMap\nmetadata: {name: a}\ndata:\n  ? [x]\n  : y\n",
       "doc[0]: data: a mapping key is not a string"},
  };
  for (const Case& c : cases) {
    auto plan = PlanApply(c.yaml);
    ASSERT_FALSE(plan.ok()) << c.yaml;
    EXPECT_NE(plan.error().find(c.want_error), std::string::npos)
        << "want '" << c.want_error << "' in: " << plan.error();
  }
}

TEST(CollectionPath, NamespacedKindsDefaultToTheDefaultNamespace) {
  struct Case {
    std::string object, want;
  };
  const std::vector<Case> cases = {
      {R"({"apiVersion":"v1","kind":"Pod","metadata":{"name":"p"}})",
       "/api/v1/namespaces/default/pods"},
      {R"({"apiVersion":"apps/v1","kind":"Deployment","metadata":{"namespace":"x"}})",
       "/apis/apps/v1/namespaces/x/deployments"},
      {R"({"apiVersion":"apiextensions.k8s.io/v1","kind":"CustomResourceDefinition"})",
       "/apis/apiextensions.k8s.io/v1/customresourcedefinitions"},
      {R"({"apiVersion":"comcast.github.io/v1","kind":"KuberhealthyState","metadata":{"namespace":"k"}})",
       "/apis/comcast.github.io/v1/namespaces/k/khstates"},
  };
  for (const Case& c : cases) {
    auto path = CollectionPath(json::parse(c.object).get_object());
    ASSERT_TRUE(path.ok()) << c.object << ": " << path.error();
    EXPECT_EQ(path.value(), c.want);
  }
}

}  // namespace
}  // namespace sonde::kube
