// deploy/kubernetes/: every object has what the API server requires, the workload hangs
// together (selectors, ports, volumes, config), and the RBAC grants exactly what
// src/kube/permissions.hpp says the operator calls. CRDs: deploy_crds_test.cpp.
#include <gtest/gtest.h>

#include <algorithm>
#include <map>
#include <set>
#include <string>
#include <tuple>
#include <vector>

#include "cli/serve_settings.hpp"
#include "config/daemon_config.hpp"
#include "deploy/manifests.hpp"
#include "kube/permissions.hpp"

namespace sonde::deploy_test {
namespace {

constexpr std::string_view kNamespace = "kuberhealthy";

std::vector<ManifestObject> Plain() {
  auto objects = LoadManifestDir(SourcePath("deploy/kubernetes"));
  EXPECT_TRUE(objects.ok()) << objects.error();
  return objects.ok() ? objects.value() : std::vector<ManifestObject>{};
}

// The single object of `kind`; fails the test when there is not exactly one.
ManifestObject One(const std::vector<ManifestObject>& all, std::string_view kind) {
  std::vector<ManifestObject> found;
  std::copy_if(all.begin(), all.end(), std::back_inserter(found),
               [&](const ManifestObject& o) { return o.Kind() == kind; });
  EXPECT_EQ(found.size(), 1u) << "expected one " << kind;
  return found.empty() ? ManifestObject{} : found.front();
}

std::map<std::string, std::string> StringMap(const YAML::Node& node) {
  std::map<std::string, std::string> out;
  if (node.IsMap()) {
    for (const auto& kv : node) out[kv.first.Scalar()] = Text(kv.second);
  }
  return out;
}

// Whether every label of `selector` is in `labels` with the same value (and there is one).
bool Selects(const std::map<std::string, std::string>& selector,
             const std::map<std::string, std::string>& labels) {
  return !selector.empty() && std::all_of(selector.begin(), selector.end(), [&](const auto& kv) {
    auto it = labels.find(kv.first);
    return it != labels.end() && it->second == kv.second;
  });
}

// Scalars are typed as kubectl's YAML 1.1 reader types them, so the comparisons below see what
// the API server would see.
TEST(ManifestValues, ScalarsAreTypedAsKubectlReadsThem) {
  const std::pair<std::string, ScalarType> cases[] = {
      {"2", ScalarType::kInt},           {"'2'", ScalarType::kString},
      {"-0x1F", ScalarType::kInt},       {"1.5", ScalarType::kFloat},
      {"1e3", ScalarType::kFloat},       {"yes", ScalarType::kBool},
      {"Off", ScalarType::kBool},        {"~", ScalarType::kNull},
      {"50m", ScalarType::kString},      {"15s", ScalarType::kString},
      {"|\n  2\n", ScalarType::kString}, {"policy/v1", ScalarType::kString}};
  for (const auto& [text, type] : cases) {
    EXPECT_EQ(TypeName(TypeOf(YAML::Load(text))), TypeName(type)) << text;
  }
  const std::tuple<std::string, std::string, std::string> diffs[] = {
      {"{a: x}", "{a: 'x'}", ""},
      {"{a: yes}", "{a: true}", ""},
      {"{a: 2}", "{a: '2'}", "a: integer \"2\" vs string \"2\""},
      {"{a: [1, 2]}", "{a: [1]}", "a: 2 vs 1 items"},
      {"{a: {b: 1}}", "{a: {c: 1}}", "a.b: integer \"1\" vs (absent)"},
      {"{a: null}", "{}", "a: null vs (absent)"}};
  for (const auto& [a, b, want] : diffs) {
    EXPECT_EQ(FirstDifference(YAML::Load(a), YAML::Load(b), ""), want) << a << " vs " << b;
  }
}

TEST(DeployManifests, EveryObjectHasTheFieldsTheApiRequires) {
  const std::set<std::pair<std::string, std::string>> known = {
      {"apiextensions.k8s.io/v1", "CustomResourceDefinition"},
      {"v1", "Namespace"},
      {"v1", "ServiceAccount"},
      {"rbac.authorization.k8s.io/v1", "ClusterRole"},
      {"rbac.authorization.k8s.io/v1", "ClusterRoleBinding"},
      {"rbac.authorization.k8s.io/v1", "Role"},
      {"rbac.authorization.k8s.io/v1", "RoleBinding"},
      {"v1", "ConfigMap"},
      {"apps/v1", "Deployment"},
      {"v1", "Service"},
      {"policy/v1", "PodDisruptionBudget"}};
  const std::set<std::string> cluster_scoped = {"Namespace", "ClusterRole", "ClusterRoleBinding",
                                                "CustomResourceDefinition"};
  const auto objects = Plain();
  ASSERT_EQ(objects.size(), 14u);
  std::set<std::string> keys;
  for (const ManifestObject& o : objects) {
    SCOPED_TRACE(o.Where());
    const std::string api_version = Text(Child(o.node, "apiVersion"));
    EXPECT_TRUE(known.count({api_version, o.Kind()})) << api_version << " " << o.Kind();
    EXPECT_FALSE(o.Name().empty()) << "metadata.name is required";
    if (cluster_scoped.count(o.Kind())) {
      EXPECT_EQ(o.Namespace(), "") << "metadata.namespace on a cluster-scoped object";
    } else {
      EXPECT_EQ(o.Namespace(), kNamespace) << "metadata.namespace";
    }
    EXPECT_TRUE(keys.insert(o.Key()).second) << "duplicate " << o.Key();
  }
}

// `kubectl apply -f` reads files in name order; -k follows the kustomization.
TEST(DeployManifests, KustomizationListsEveryManifestInApplyOrder) {
  const auto dir = SourcePath("deploy/kubernetes");
  auto text = ReadText(dir / "kustomization.yaml");
  ASSERT_TRUE(text.ok()) << text.error();
  const YAML::Node k = YAML::Load(text.value());
  std::vector<std::string> listed;
  for (const auto& r : Child(k, "resources")) listed.push_back(r.Scalar());
  std::vector<std::string> files = YamlFileNames(dir);
  files.erase(std::remove(files.begin(), files.end(), "kustomization.yaml"), files.end());
  EXPECT_EQ(listed, files);

  // CRDs, then the namespace, then what lives in it, ServiceAccount and RBAC before the pods.
  const std::map<std::string, int> rank = {{"CustomResourceDefinition", 0},
                                           {"Namespace", 1},
                                           {"ServiceAccount", 2},
                                           {"ClusterRole", 3},
                                           {"ClusterRoleBinding", 3},
                                           {"Role", 3},
                                           {"RoleBinding", 3},
                                           {"ConfigMap", 4},
                                           {"Deployment", 5},
                                           {"Service", 5},
                                           {"PodDisruptionBudget", 5}};
  int last = 0;
  for (const ManifestObject& o : Plain()) {
    ASSERT_TRUE(rank.count(o.Kind())) << o.Where();
    EXPECT_GE(rank.at(o.Kind()), last) << o.Where() << " is applied too early";
    last = rank.at(o.Kind());
  }
}

TEST(DeployManifests, DeploymentRunsTwoNonRootReplicasOfTheDaemon) {
  const auto objects = Plain();
  const ManifestObject d = One(objects, "Deployment");
  EXPECT_EQ(Text(At(d.node, "spec.replicas")), "2");
  const auto pod_labels = StringMap(At(d.node, "spec.template.metadata.labels"));
  EXPECT_TRUE(Selects(StringMap(At(d.node, "spec.selector.matchLabels")), pod_labels))
      << "spec.selector.matchLabels must match spec.template.metadata.labels";
  const YAML::Node pod = At(d.node, "spec.template.spec");
  EXPECT_EQ(Text(Child(pod, "serviceAccountName")), One(objects, "ServiceAccount").Name());
  EXPECT_EQ(Text(At(pod, "securityContext.runAsNonRoot")), "true");
  EXPECT_NE(Text(At(pod, "securityContext.runAsUser")), "0");

  const YAML::Node containers = Child(pod, "containers");
  ASSERT_EQ(containers.size(), 1u);
  const YAML::Node c = containers[0];
  EXPECT_FALSE(Text(Child(c, "name")).empty());
  EXPECT_EQ(Text(Child(c, "image")), "sonde:latest");
  std::vector<std::string> args;
  for (const auto& a : Child(c, "args")) args.push_back(a.Scalar());
  EXPECT_EQ(args, (std::vector<std::string>{"serve", "--kube"}));
  EXPECT_EQ(Text(At(c, "securityContext.readOnlyRootFilesystem")), "true");
  EXPECT_EQ(Text(At(c, "securityContext.allowPrivilegeEscalation")), "false");
  EXPECT_FALSE(Text(At(c, "resources.requests.cpu")).empty());
  EXPECT_FALSE(Text(At(c, "resources.requests.memory")).empty());

  // The downward API gives the operator its name (Lease identity), namespace (Lease, reporting
  // URL), pod IP (where followers forward reports to the leader) and node (khstates' Node).
  std::map<std::string, std::string> field_refs;
  for (const auto& e : Child(c, "env")) {
    field_refs[Text(Child(e, "name"))] = Text(At(e, "valueFrom.fieldRef.fieldPath"));
  }
  EXPECT_EQ(field_refs["POD_NAME"], "metadata.name");
  EXPECT_EQ(field_refs["POD_NAMESPACE"], "metadata.namespace");
  EXPECT_EQ(field_refs["POD_IP"], "status.podIP");
  EXPECT_EQ(field_refs["NODE_NAME"], "spec.nodeName");

  // Both probes ask the daemon's health endpoint on a declared port.
  std::set<std::string> port_names;
  for (const auto& p : Child(c, "ports")) {
    port_names.insert(Text(Child(p, "name")));
    EXPECT_EQ(Text(Child(p, "containerPort")), "8080");
  }
  for (const char* probe : {"readinessProbe", "livenessProbe"}) {
    SCOPED_TRACE(probe);
    EXPECT_EQ(Text(At(Child(c, probe), "httpGet.path")), "/healthz");
    EXPECT_TRUE(port_names.count(Text(At(Child(c, probe), "httpGet.port"))));
  }
}

// A misspelt variable is ignored silently by the daemon, so each one the Deployment sets must
// be one it reads: an option's variable (`sonde serve --help`), or one of the few that operator
// mode reads itself (src/cli/serve_kube.cpp, src/kube/kube_config.cpp).
TEST(DeployManifests, DeploymentSetsOnlyVariablesTheDaemonReads) {
  CLI::App app;
  ServeFlags flags;
  AddServeFlags(app, flags);
  std::set<std::string> read = {"POD_NAMESPACE", "POD_IP", "NODE_NAME", "KH_EXTERNAL_REPORTING_URL",
                                "KUBECONFIG"};
  for (const CLI::Option* o : app.get_options()) {
    if (!o->get_envname().empty()) read.insert(o->get_envname());
  }
  ASSERT_TRUE(read.count("POD_NAME")) << "--identity reads POD_NAME";
  const YAML::Node c = At(One(Plain(), "Deployment").node, "spec.template.spec.containers")[0];
  size_t checked = 0;
  for (const auto& e : Child(c, "env")) {
    EXPECT_TRUE(read.count(Text(Child(e, "name"))))
        << "env " << Text(Child(e, "name")) << " is read by nothing";
    ++checked;
  }
  EXPECT_GE(checked, 10u);
}

TEST(DeployManifests, DeploymentMountsEveryVolumeItUsesAndTheConfig) {
  const auto objects = Plain();
  const YAML::Node pod = At(One(objects, "Deployment").node, "spec.template.spec");
  std::map<std::string, YAML::Node> volumes;
  for (const auto& v : Child(pod, "volumes")) {
    volumes.emplace(Text(Child(v, "name")), static_cast<const YAML::Node&>(v));
  }
  const YAML::Node c = Child(pod, "containers")[0];
  std::map<std::string, std::string> mounts;  // path -> volume
  for (const auto& m : Child(c, "volumeMounts")) {
    const std::string name = Text(Child(m, "name"));
    EXPECT_TRUE(volumes.count(name)) << "volumeMounts: no volume " << name;
    mounts[Text(Child(m, "mountPath"))] = name;
  }
  EXPECT_EQ(mounts.size(), volumes.size()) << "a volume nobody mounts";

  // SONDE_CONFIG names a key of the shipped ConfigMap, mounted where it points.
  std::string config_path;
  for (const auto& e : Child(c, "env")) {
    if (Text(Child(e, "name")) == "SONDE_CONFIG") config_path = Text(Child(e, "value"));
  }
  const size_t slash = config_path.rfind('/');
  ASSERT_NE(slash, std::string::npos) << "SONDE_CONFIG must be set to a file path";
  const std::string dir = config_path.substr(0, slash);
  ASSERT_TRUE(mounts.count(dir)) << "nothing mounted at " << dir;
  const ManifestObject cm = One(objects, "ConfigMap");
  EXPECT_EQ(Text(At(volumes[mounts[dir]], "configMap.name")), cm.Name());
  EXPECT_TRUE(Child(Child(cm.node, "data"), config_path.substr(slash + 1)).IsDefined());
}

TEST(DeployManifests, ConfigMapIsAValidDaemonConfigThatReportsToTheService) {
  const auto objects = Plain();
  const ManifestObject cm = One(objects, "ConfigMap");
  const std::string text = Text(Child(Child(cm.node, "data"), "sonde.yaml"));
  ASSERT_FALSE(text.empty());
  const DaemonConfigResult parsed = ParseDaemonConfig(text, cm.Where() + " data.sonde.yaml");
  for (const ConfigError& e : parsed.errors) ADD_FAILURE() << e.ToString();
  EXPECT_EQ(parsed.config.listen, "0.0.0.0:8080");
  // No reportingURL: operator mode derives http://kuberhealthy.$POD_NAMESPACE.svc.cluster.local
  // (the Service's name), and a set one would hide $KH_EXTERNAL_REPORTING_URL.
  EXPECT_EQ(One(objects, "Service").Name(), "kuberhealthy");
  EXPECT_FALSE(parsed.config.reporting_url.has_value());
  // The state directory is a writable volume (the root filesystem is read-only).
  const YAML::Node c = At(One(objects, "Deployment").node, "spec.template.spec.containers")[0];
  bool mounted = false;
  for (const auto& m : Child(c, "volumeMounts")) {
    mounted |= Text(Child(m, "mountPath")) == parsed.config.state_dir.value_or("") &&
               Text(Child(m, "readOnly")) != "true";
  }
  EXPECT_TRUE(mounted) << "stateDir " << parsed.config.state_dir.value_or("(unset)");
}

// Existing checks report to http://kuberhealthy.<ns>.svc.cluster.local/externalCheckStatus and
// users port-forward svc/kuberhealthy 8888:80.
TEST(DeployManifests, ServiceKeepsKuberhealthysAddress) {
  const auto objects = Plain();
  const ManifestObject s = One(objects, "Service");
  EXPECT_EQ(s.Name(), "kuberhealthy");
  const ManifestObject d = One(objects, "Deployment");
  EXPECT_TRUE(Selects(StringMap(At(s.node, "spec.selector")),
                      StringMap(At(d.node, "spec.template.metadata.labels"))));
  const YAML::Node ports = At(s.node, "spec.ports");
  ASSERT_EQ(ports.size(), 1u);
  EXPECT_EQ(Text(Child(ports[0], "port")), "80");
  const std::string target = Text(Child(ports[0], "targetPort"));
  bool resolved = false;
  for (const auto& p : Child(At(d.node, "spec.template.spec.containers")[0], "ports")) {
    resolved |= (Text(Child(p, "name")) == target || Text(Child(p, "containerPort")) == target) &&
                Text(Child(p, "containerPort")) == "8080";
  }
  EXPECT_TRUE(resolved) << "targetPort " << target << " is not the container's port 8080";
}

TEST(DeployManifests, PodDisruptionBudgetKeepsOneReplica) {
  const auto objects = Plain();
  const ManifestObject pdb = One(objects, "PodDisruptionBudget");
  EXPECT_EQ(Text(At(pdb.node, "spec.minAvailable")), "1");
  EXPECT_TRUE(
      Selects(StringMap(At(pdb.node, "spec.selector.matchLabels")),
              StringMap(At(One(objects, "Deployment").node, "spec.template.metadata.labels"))));
}

}  // namespace
}  // namespace sonde::deploy_test
