// The Helm chart (deploy/helm/sonde) renders, with its default values, exactly the plain
// manifests of deploy/kubernetes/ (less the Namespace, which `helm install --create-namespace`
// makes), so the two cannot drift; its CRDs are the same files; its values take effect. Rendered
// with tests/deploy/helm_render.hpp, since Debian 12 has no helm.
#include <gtest/gtest.h>

#include <functional>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "deploy/helm_render.hpp"
#include "deploy/manifests.hpp"

namespace sonde::deploy_test {
namespace {

namespace fs = std::filesystem;

YAML::Node DefaultValues() {
  auto text = ReadText(SourcePath("deploy/helm/sonde/values.yaml"));
  EXPECT_TRUE(text.ok()) << text.error();
  return text.ok() ? YAML::Load(text.value()) : YAML::Node();
}

// Every template rendered and parsed; `used` collects the values they read.
Result<std::vector<ManifestObject>> RenderChart(const YAML::Node& values,
                                                const HelmRelease& release,
                                                std::set<std::string>* used = nullptr) {
  using R = Result<std::vector<ManifestObject>>;
  const fs::path dir = SourcePath("deploy/helm/sonde/templates");
  std::vector<ManifestObject> all;
  for (const std::string& name : YamlFileNames(dir)) {
    auto text = ReadText(dir / name);
    if (!text.ok()) return R::Error(text.error());
    auto rendered = RenderTemplate(text.value(), "templates/" + name, values, release, used);
    if (!rendered.ok()) return R::Error(rendered.error());
    auto objects = ParseManifests(rendered.value(), "templates/" + name);
    if (!objects.ok()) return R::Error(objects.error() + "\n" + rendered.value());
    all.insert(all.end(), objects.value().begin(), objects.value().end());
  }
  return all;
}

std::map<std::string, ManifestObject> ByKey(const std::vector<ManifestObject>& objects) {
  std::map<std::string, ManifestObject> out;
  for (const auto& o : objects) out[o.Key()] = o;
  return out;
}

TEST(HelmRender, RendersTheSubsetTheChartUses) {
  struct Case {
    std::string name, values, text, want;  // want starts with "error: " for an error
  };
  const Case cases[] = {
      {"value", "{a: {b: x}}", "k: {{ .Values.a.b }}", "k: x"},
      {"quoted value", "{a: '1'}", "k: \"{{ .Values.a }}\"", "k: \"1\""},
      {"release", "{}", "ns: {{ .Release.Namespace }}/{{ .Release.Name }}", "ns: kh/rel"},
      {"bool prints as Go does", "{a: yes}", "{{ .Values.a }}", "true"},
      {"if true", "{enabled: true}", "a\n{{- if .Values.enabled }}\nb\n{{- end }}\n", "a\nb\n"},
      {"if false", "{enabled: false}", "a\n{{- if .Values.enabled }}\nb\n{{- end }}\n", "a\n"},
      {"if empty string", "{s: ''}", "{{ if .Values.s }}x{{ end }}y", "y"},
      {"if zero", "{n: 0}", "{{ if .Values.n }}x{{ end }}y", "y"},
      {"nested if", "{a: true, b: false}",
       "{{ if .Values.a }}A{{ if .Values.b }}B{{ end }}{{ end }}", "A"},
      {"right trim", "{a: x}", "{{ .Values.a -}}\n  \ny", "xy"},
      {"missing value", "{a: x}", "{{ .Values.b }}",
       "error: t.yaml:1: .Values.b is not in values.yaml"},
      {"map value", "{a: {b: c}}", "\n{{ .Values.a }}",
       "error: t.yaml:2: {{ .Values.a }} must be a scalar"},
      {"pipeline", "{a: x}", "{{ .Values.a | quote }}", "error: t.yaml:1: unsupported"},
      {"function", "{a: x}", "{{ toYaml .Values.a }}", "error: t.yaml:1: unsupported"},
      {"else", "{a: x}", "{{ if .Values.a }}{{ else }}{{ end }}", "error: t.yaml:1: unsupported"},
      {"unclosed if", "{a: x}", "{{ if .Values.a }}", "error: t.yaml:1: {{ if }} without"},
      {"stray end", "{}", "{{ end }}", "error: t.yaml:1: {{ end }} without {{ if }}"},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.name);
    auto got = RenderTemplate(c.text, "t.yaml", YAML::Load(c.values), {"rel", "kh"});
    if (c.want.starts_with("error: ")) {
      ASSERT_FALSE(got.ok()) << got.value();
      EXPECT_TRUE(got.error().starts_with(c.want.substr(7))) << got.error();
    } else {
      ASSERT_TRUE(got.ok()) << got.error();
      EXPECT_EQ(got.value(), c.want);
    }
  }
}

TEST(HelmChart, DefaultValuesRenderThePlainManifests) {
  auto plain = LoadManifestDir(SourcePath("deploy/kubernetes"));
  ASSERT_TRUE(plain.ok()) << plain.error();
  std::set<std::string> used;
  auto rendered = RenderChart(DefaultValues(), HelmRelease{}, &used);
  ASSERT_TRUE(rendered.ok()) << rendered.error();
  // CRDs come from the chart's crds/ folder (compared below); the namespace from helm.
  std::map<std::string, ManifestObject> want;
  for (const auto& o : plain.value()) {
    if (o.Kind() != "CustomResourceDefinition" && o.Kind() != "Namespace") want[o.Key()] = o;
  }
  const auto got = ByKey(rendered.value());
  EXPECT_EQ(got.size(), rendered.value().size()) << "two templates render the same object";
  for (const auto& [key, o] : want) {
    auto it = got.find(key);
    if (it == got.end()) {
      ADD_FAILURE() << "the chart does not render " << key << " (" << o.Where() << ")";
      continue;
    }
    EXPECT_EQ(FirstDifference(o.node, it->second.node, ""), "")
        << o.Where() << " vs " << it->second.Where();
  }
  for (const auto& [key, o] : got) {
    EXPECT_TRUE(want.count(key)) << o.Where() << " is not in deploy/kubernetes";
  }

  // Every value is read by some template: no setting that silently does nothing.
  std::function<void(const YAML::Node&, const std::string&)> walk = [&](const YAML::Node& n,
                                                                        const std::string& path) {
    if (!n.IsMap()) {
      EXPECT_TRUE(used.count(path)) << "values.yaml: " << path << " is used by no template";
      return;
    }
    for (const auto& kv : n) {
      walk(kv.second, path.empty() ? kv.first.Scalar() : path + "." + kv.first.Scalar());
    }
  };
  walk(DefaultValues(), "");
}

TEST(HelmChart, CrdsAreThePlainManifestsCrds) {
  const fs::path chart = SourcePath("deploy/helm/sonde/crds");
  const fs::path plain = SourcePath("deploy/kubernetes");
  std::vector<std::string> plain_crds;
  for (const std::string& name : YamlFileNames(plain)) {
    if (name.find("-crd-") != std::string::npos) plain_crds.push_back(name);
  }
  EXPECT_EQ(YamlFileNames(chart), plain_crds);
  for (const std::string& name : plain_crds) {
    auto a = ReadText(plain / name), b = ReadText(chart / name);
    ASSERT_TRUE(a.ok() && b.ok()) << name;
    EXPECT_EQ(a.value(), b.value()) << "deploy/helm/sonde/crds/" << name << " differs";
  }
}

// Non-default values reach the objects they are for.
TEST(HelmChart, ValuesTakeEffect) {
  struct Case {
    std::string path, value, object_key, field, want;  // want "" = the object is not rendered
  };
  const Case cases[] = {
      {"image.tag", "v1.2.3", "Deployment/monitoring/kuberhealthy",
       "spec.template.spec.containers[0].image", "sonde:v1.2.3"},
      {"replicaCount", "3", "Deployment/monitoring/kuberhealthy", "spec.replicas", "3"},
      {"watchNamespaces", "a,b", "Deployment/monitoring/kuberhealthy",
       "spec.template.spec.containers[0].env[5].value", "a,b"},
      {"leaderElection.leaseDuration", "30s", "Deployment/monitoring/kuberhealthy",
       "spec.template.spec.containers[0].env[6].value", "30s"},
      {"kubeClient.burst", "7", "Deployment/monitoring/kuberhealthy",
       "spec.template.spec.containers[0].env[10].value", "7"},
      {"podDisruptionBudget.apiVersion", "policy/v1beta1",
       "PodDisruptionBudget/monitoring/kuberhealthy", "apiVersion", "policy/v1beta1"},
      {"podDisruptionBudget.enabled", "false", "PodDisruptionBudget/monitoring/kuberhealthy", "",
       ""},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.path + "=" + c.value);
    auto values = WithValue(DefaultValues(), c.path, c.value);
    ASSERT_TRUE(values.ok()) << values.error();
    auto rendered = RenderChart(values.value(), {"sonde", "monitoring"});
    ASSERT_TRUE(rendered.ok()) << rendered.error();
    const auto objects = ByKey(rendered.value());
    auto it = objects.find(c.object_key);
    if (c.want.empty()) {
      EXPECT_EQ(it, objects.end());
      continue;
    }
    ASSERT_NE(it, objects.end());
    // Walk "a.b[0].c" with explicit indexes.
    YAML::Node n = it->second.node;
    std::string rest = c.field;
    while (!rest.empty() && n.IsDefined()) {
      const size_t dot = rest.find('.');
      std::string step = rest.substr(0, dot);
      rest = dot == std::string::npos ? "" : rest.substr(dot + 1);
      const size_t bracket = step.find('[');
      n.reset(Child(n, step.substr(0, bracket)));
      if (bracket != std::string::npos && n.IsSequence()) {
        n.reset(n[std::stoul(step.substr(bracket + 1))]);
      }
    }
    EXPECT_EQ(Text(n), c.want);
  }
  // The release namespace reaches the binding's subject. The reporting URL is not in the config
  // file: the daemon derives it from POD_NAMESPACE (the downward API), so it follows too.
  auto rendered = RenderChart(DefaultValues(), {"sonde", "monitoring"});
  ASSERT_TRUE(rendered.ok()) << rendered.error();
  const auto objects = ByKey(rendered.value());
  ASSERT_TRUE(objects.count("ClusterRoleBinding//sonde"));
  EXPECT_EQ(Text(At(objects.at("ClusterRoleBinding//sonde").node, "subjects")[0]["namespace"]),
            "monitoring");
  ASSERT_TRUE(objects.count("ConfigMap/monitoring/sonde-config"));
  EXPECT_EQ(
      Text(Child(Child(objects.at("ConfigMap/monitoring/sonde-config").node, "data"), "sonde.yaml"))
          .find("reportingURL"),
      std::string::npos);
}

}  // namespace
}  // namespace sonde::deploy_test
