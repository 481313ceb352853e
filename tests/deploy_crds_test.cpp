// The shipped CRDs (deploy/kubernetes/0x-crd-*.yaml): Kuberhealthy's names, structural schemas,
// and documents that validate as the API server would validate them: the repository's examples,
// khstates as every Kuberhealthy v2 release wrote them, HealthCheck status with
// consecutiveFailures; and invalid checks that must be refused.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "deploy/manifests.hpp"
#include "deploy/schema_check.hpp"

namespace sonde::deploy_test {
namespace {

std::vector<ManifestObject> Crds() {
  auto objects = LoadManifestDir(SourcePath("deploy/kubernetes"));
  EXPECT_TRUE(objects.ok()) << objects.error();
  std::vector<ManifestObject> crds;
  for (const auto& o : objects.ok() ? objects.value() : std::vector<ManifestObject>{}) {
    if (o.Kind() == "CustomResourceDefinition") crds.push_back(o);
  }
  return crds;
}

// The storage version's schema of the CRD serving `api_version` `kind`; undefined when none.
YAML::Node SchemaFor(const std::string& api_version, const std::string& kind) {
  for (const auto& crd : Crds()) {
    if (Text(At(crd.node, "spec.names.kind")) != kind) continue;
    for (const auto& v : At(crd.node, "spec.versions")) {
      if (Text(At(crd.node, "spec.group")) + "/" + Text(Child(v, "name")) == api_version) {
        return At(v, "schema.openAPIV3Schema");
      }
    }
  }
  return YAML::Node(YAML::NodeType::Undefined);
}

std::string Join(const std::vector<std::string>& v) {
  std::string out;
  for (const auto& s : v) out += "\n  " + s;
  return out;
}

TEST(DeployCrds, NamesAreKuberhealthys) {
  struct Want {
    std::string name, group, version, kind, list_kind, plural, singular, short_names;
    bool status_subresource;
  };
  const Want wants[] = {
      {"khchecks.comcast.github.io", "comcast.github.io", "v1", "KuberhealthyCheck",
       "KuberhealthyCheckList", "khchecks", "khcheck", "khc", false},
      {"khjobs.comcast.github.io", "comcast.github.io", "v1", "KuberhealthyJob",
       "KuberhealthyJobList", "khjobs", "khjob", "khj", false},
      {"khstates.comcast.github.io", "comcast.github.io", "v1", "KuberhealthyState",
       "KuberhealthyStateList", "khstates", "khstate", "khs", false},
      {"healthchecks.kuberhealthy.github.io", "kuberhealthy.github.io", "v2", "HealthCheck",
       "HealthCheckList", "healthchecks", "healthcheck", "hc,healthcheck,healthchecks", true},
  };
  const auto crds = Crds();
  ASSERT_EQ(crds.size(), std::size(wants));
  for (size_t i = 0; i < crds.size(); ++i) {
    const Want& w = wants[i];
    const YAML::Node& n = crds[i].node;
    SCOPED_TRACE(crds[i].Where());
    EXPECT_EQ(crds[i].Name(), w.name);
    EXPECT_EQ(w.name, w.plural + "." + w.group) << "a CRD's name is plural.group";
    EXPECT_EQ(Text(At(n, "spec.group")), w.group);
    EXPECT_EQ(Text(At(n, "spec.scope")), "Namespaced");
    EXPECT_EQ(Text(At(n, "spec.names.kind")), w.kind);
    EXPECT_EQ(Text(At(n, "spec.names.listKind")), w.list_kind);
    EXPECT_EQ(Text(At(n, "spec.names.plural")), w.plural);
    EXPECT_EQ(Text(At(n, "spec.names.singular")), w.singular);
    std::string short_names;
    for (const auto& s : At(n, "spec.names.shortNames")) {
      short_names += (short_names.empty() ? "" : ",") + s.Scalar();
    }
    EXPECT_EQ(short_names, w.short_names);
    const YAML::Node versions = At(n, "spec.versions");
    ASSERT_EQ(versions.size(), 1u);
    EXPECT_EQ(Text(Child(versions[0], "name")), w.version);
    EXPECT_EQ(Text(Child(versions[0], "served")), "true");
    EXPECT_EQ(Text(Child(versions[0], "storage")), "true") << "exactly one storage version";
    EXPECT_EQ(At(versions[0], "subresources.status").IsDefined(), w.status_subresource);
  }
}

TEST(DeployCrds, SchemasAreStructuralAndPrinterColumnsNameDeclaredFields) {
  for (const auto& crd : Crds()) {
    for (const auto& v : At(crd.node, "spec.versions")) {
      const std::string where = crd.Where() + " " + Text(Child(v, "name"));
      const YAML::Node schema = At(v, "schema.openAPIV3Schema");
      ASSERT_TRUE(schema.IsDefined()) << where << ": no schema";
      EXPECT_EQ(Join(StructuralProblems(schema, "openAPIV3Schema")), "") << where;
      for (const auto& col : Child(v, "additionalPrinterColumns")) {
        const std::string path = Text(Child(col, "jsonPath"));
        EXPECT_TRUE(DeclaresPath(schema, path)) << where << ": column " << path;
        const std::string type = Text(Child(col, "type"));
        EXPECT_TRUE(type == "string" || type == "boolean" || type == "integer" ||
                    type == "number" || type == "date")
            << where << ": column type " << type;
      }
    }
  }
}

// Every check the repository ships as an example is stored with nothing pruned: Sonde's
// extensions (probe, heartbeat) included.
TEST(DeployCrds, AcceptTheExamplesWithoutPruningAnything) {
  int validated = 0;
  for (const std::string& file : YamlFileNames(SourcePath("examples"))) {
    auto text = ReadText(SourcePath("examples") / file);
    ASSERT_TRUE(text.ok()) << text.error();
    auto docs = ParseManifests(text.value(), "examples/" + file);
    ASSERT_TRUE(docs.ok()) << docs.error();
    for (const auto& doc : docs.value()) {
      const YAML::Node schema = SchemaFor(Text(Child(doc.node, "apiVersion")), doc.Kind());
      ASSERT_TRUE(schema.IsDefined()) << doc.Where() << ": no shipped CRD serves it";
      EXPECT_EQ(Join(ValidationProblems(schema, doc.node, "")), "") << doc.Where();
      ++validated;
    }
  }
  EXPECT_GE(validated, 10);
}

struct DocCase {
  std::string name;
  std::string yaml;
  std::string problem;  // "" when the API server must accept the document
};

void CheckCases(const std::vector<DocCase>& cases) {
  for (const DocCase& c : cases) {
    SCOPED_TRACE(c.name);
    const YAML::Node doc = YAML::Load(c.yaml);
    const YAML::Node schema = SchemaFor(Text(Child(doc, "apiVersion")), Text(Child(doc, "kind")));
    ASSERT_TRUE(schema.IsDefined());
    const std::string problems = Join(ValidationProblems(schema, doc, ""));
    if (c.problem.empty()) {
      EXPECT_EQ(problems, "");
    } else {
      EXPECT_NE(problems.find(c.problem), std::string::npos) << "problems:" << problems;
    }
  }
}

constexpr const char* kState =
    "apiVersion: comcast.github.io/v1\nkind: KuberhealthyState\n"
    "metadata: {name: gear, namespace: bayes}\n";

// What Kuberhealthy v2 writes (reference §1.1), release by release.
TEST(DeployCrds, KhstateAcceptsWhatEveryKuberhealthyV2ReleaseWrote) {
  const std::string s = kState;
  CheckCases({
      {"v2.7+ with Node and a second-precision LastRun",
       s + "spec: {OK: true, Errors: [], RunDuration: 22.512278967s, Namespace: bayes, "
           "Node: node-1, LastRun: '2024-01-03T10:00:00Z', AuthoritativePod: kh-0, "
           "uuid: 8f7d3c2e-2b1a-4c55-9b8e-0f1e2d3c4b5a}",
       ""},
      {"v2.0-2.5: no Node, nanosecond LastRun",
       s + "spec: {OK: false, Errors: [pod failed], RunDuration: 1m2.5s, Namespace: bayes, "
           "LastRun: '2020-05-01T10:00:00.123456789+02:00', AuthoritativePod: kh-0, uuid: ''}",
       ""},
      {"default state before the first run",
       s + "spec: {OK: true, Errors: [], RunDuration: '', Namespace: bayes, Node: '', "
           "LastRun: null, AuthoritativePod: kh-1, uuid: '', khWorkload: null}",
       ""},
      {"a report without Errors is stored as null",
       s + "spec: {OK: true, Errors: null, RunDuration: 3s, Namespace: bayes, Node: node-2, "
           "AuthoritativePod: kh-0, uuid: abc}",
       ""},
      {"uuid is required",
       s + "spec: {OK: true, Errors: [], RunDuration: '', Namespace: bayes, "
           "AuthoritativePod: kh-0}",
       "spec.uuid: is required"},
      {"OK must be a boolean",
       s + "spec: {OK: 'yes', Errors: [], RunDuration: '', "
           "Namespace: b, AuthoritativePod: p, uuid: ''}",
       "spec.OK: must be of type boolean"},
      {"LastRun must be a date-time",
       s + "spec: {OK: true, Errors: [], RunDuration: '', "
           "Namespace: b, AuthoritativePod: p, uuid: '', "
           "LastRun: yesterday}",
       "spec.LastRun: must be an RFC 3339 date-time"},
  });
}

TEST(DeployCrds, ChecksAreValidatedAndNothingTheyUseIsPruned) {
  const std::string hc =
      "apiVersion: kuberhealthy.github.io/v2\nkind: HealthCheck\n"
      "metadata: {name: gear, namespace: bayes}\n";
  const std::string khc =
      "apiVersion: comcast.github.io/v1\nkind: KuberhealthyCheck\n"
      "metadata: {name: gear, namespace: bayes}\n";
  const std::string khj =
      "apiVersion: comcast.github.io/v1\nkind: KuberhealthyJob\n"
      "metadata: {name: gear, namespace: bayes}\n";
  CheckCases({
      {"HealthCheck status as Kuberhealthy v3 writes it, with consecutiveFailures",
       hc + "spec: {runInterval: 1m, podSpec: {metadata: {labels: {team: a}}, spec: "
            "{containers: [{name: c, image: i}]}}}\n"
            "status: {ok: false, errors: [boom], consecutiveFailures: 3, runDuration: 0, "
            "namespace: bayes, currentUUID: '', lastRunUnix: 1700000000, successCount: 4, "
            "failureCount: 3, lastOKUnix: 1690000000, lastFailureUnix: 1700000000, "
            "additionalMetadata: ''}",
       ""},
      {"HealthCheck with singleRunOnly and extra labels",
       hc + "spec: {singleRunOnly: true, timeout: 30s, extraLabels: {a: b}, "
            "extraAnnotations: {c: d}, podSpec: {spec: {containers: [{name: c, image: i, "
            "env: [{name: X, valueFrom: {fieldRef: {fieldPath: metadata.name}}}]}], "
            "restartPolicy: Never, tolerations: [{operator: Exists}]}}}",
       ""},
      {"khjob phase",
       khj + "spec: {timeout: 5m, phase: Completed, podSpec: {containers: "
             "[{name: c, image: i}]}}",
       ""},
      {"no podSpec, probe or heartbeat", khc + "spec: {runInterval: 1m}",
       "spec: must match exactly one of oneOf, matches 0"},
      {"podSpec and probe",
       khc + "spec: {podSpec: {containers: [{name: c}]}, probe: {tcp: "
             "{address: 'a:1'}}}",
       "spec: must match exactly one of oneOf, matches 2"},
      {"podSpec without containers", khc + "spec: {podSpec: {nodeSelector: {a: b}}}",
       "spec.podSpec.containers: is required"},
      {"empty containers", khc + "spec: {podSpec: {containers: []}}",
       "spec.podSpec.containers: must have at least 1 items"},
      {"v3 pod fields directly under podSpec", hc + "spec: {podSpec: {containers: [{name: c}]}}",
       "spec.podSpec.spec: is required"},
      {"a misspelt field is pruned",
       khc + "spec: {runIntervall: 1m, podSpec: {containers: "
             "[{name: c}]}}",
       "spec.runIntervall: would be pruned"},
      {"extraLabels values are strings",
       khc + "spec: {extraLabels: {a: 1}, podSpec: "
             "{containers: [{name: c}]}}",
       "spec.extraLabels.a: must be of type string"},
      {"no spec", khc, "spec: is required"},
  });
}

TEST(SchemaCheck, FlagsWhatMakesASchemaNonStructural) {
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"{type: object, properties: {a: {description: x}}}", "properties.a: has no type"},
      {"{type: object, properties: {a: {type: array}}}", "properties.a: an array needs items"},
      {"{type: object, properties: {a: {type: object, properties: {b: {type: string}}, "
       "additionalProperties: {type: string}}}}",
       "mutually exclusive"},
      {"{type: object, oneOf: [{type: object}]}", "oneOf[0].type: not allowed inside oneOf"},
      {"{type: object, properties: {a: {$ref: '#/x'}}}", "a.$ref: unknown or forbidden"},
      {"{type: object, properties: {metadata: {type: object, properties: {labels: "
       "{type: object}}}}}",
       "metadata may only constrain name and generateName"},
      {"{type: string}", "the root must be an object"},
      {"{type: object, properties: {a: {type: text}}}", "unknown type \"text\""},
  };
  for (const auto& [schema, problem] : cases) {
    const std::string problems = Join(StructuralProblems(YAML::Load(schema), "s"));
    EXPECT_NE(problems.find(problem), std::string::npos) << schema << "\nproblems:" << problems;
  }
  EXPECT_EQ(Join(StructuralProblems(
                YAML::Load("{type: object, properties: {a: {x-kubernetes-int-or-string: true}, "
                           "b: {x-kubernetes-preserve-unknown-fields: true}}}"),
                "s")),
            "");
}

}  // namespace
}  // namespace sonde::deploy_test
