#include "kube/manifest.hpp"

#include <array>
#include <charconv>
#include <cstdlib>
#include <string>

namespace sonde::kube {
namespace {

namespace json = boost::json;

struct ResourceType {
  std::string_view group;  // "" for the core group
  std::string_view kind;
  std::string_view plural;
  bool namespaced;
};

// The kinds Sonde's tests create. The version is the document's own.
constexpr std::array kResourceTypes = {
    ResourceType{"", "Namespace", "namespaces", false},
    ResourceType{"", "ServiceAccount", "serviceaccounts", true},
    ResourceType{"", "ConfigMap", "configmaps", true},
    ResourceType{"", "Secret", "secrets", true},
    ResourceType{"", "Service", "services", true},
    ResourceType{"", "Pod", "pods", true},
    ResourceType{"apiextensions.k8s.io", "CustomResourceDefinition", "customresourcedefinitions",
                 false},
    ResourceType{"rbac.authorization.k8s.io", "ClusterRole", "clusterroles", false},
    ResourceType{"rbac.authorization.k8s.io", "ClusterRoleBinding", "clusterrolebindings", false},
    ResourceType{"rbac.authorization.k8s.io", "Role", "roles", true},
    ResourceType{"rbac.authorization.k8s.io", "RoleBinding", "rolebindings", true},
    ResourceType{"apps", "Deployment", "deployments", true},
    ResourceType{"policy", "PodDisruptionBudget", "poddisruptionbudgets", true},
    ResourceType{"coordination.k8s.io", "Lease", "leases", true},
    ResourceType{"comcast.github.io", "KuberhealthyCheck", "khchecks", true},
    ResourceType{"comcast.github.io", "KuberhealthyJob", "khjobs", true},
    ResourceType{"comcast.github.io", "KuberhealthyState", "khstates", true},
    ResourceType{"kuberhealthy.github.io", "HealthCheck", "healthchecks", true},
};

bool IsOneOf(const std::string& s, std::initializer_list<std::string_view> options) {
  for (auto o : options)
    if (s == o) return true;
  return false;
}

// A plain (unquoted) scalar as Kubernetes' YAML reader types it; strings otherwise.
json::value PlainScalar(const std::string& s) {
  if (IsOneOf(s, {"", "~", "null", "Null", "NULL"})) return nullptr;
  if (IsOneOf(s, {"true", "True", "TRUE"})) return true;
  if (IsOneOf(s, {"false", "False", "FALSE"})) return false;
  const char* begin = s.data();
  const char* end = s.data() + s.size();
  if (*begin == '+') ++begin;
  int64_t i = 0;
  if (auto [p, ec] = std::from_chars(begin, end, i); ec == std::errc() && p == end) return i;
  // Numbers only: from_chars would also take "inf" and "nan", which YAML spells .inf and .nan.
  if (s.find_first_not_of("+-0123456789.eE") == std::string::npos) {
    double d = 0;
    if (auto [p, ec] = std::from_chars(begin, end, d); ec == std::errc() && p == end) return d;
  }
  return json::string(s);
}

std::string Member(const std::string& where, const std::string& key) {
  return where.empty() || where.back() == ' ' ? where + key : where + "." + key;
}

const json::string* StringAt(const json::object& o, std::string_view key) {
  const json::value* v = o.if_contains(key);
  return v != nullptr && v->is_string() ? &v->get_string() : nullptr;
}

}  // namespace

Result<json::value> YamlToJson(const YAML::Node& node, const std::string& where) {
  using R = Result<json::value>;
  switch (node.Type()) {
    case YAML::NodeType::Undefined:
    case YAML::NodeType::Null:
      return json::value(nullptr);
    case YAML::NodeType::Scalar:
      if (node.Tag() == "!") return json::value(json::string(node.Scalar()));
      return PlainScalar(node.Scalar());
    case YAML::NodeType::Sequence: {
      json::array out;
      for (size_t i = 0; i < node.size(); ++i) {
        auto v = YamlToJson(node[i], where + "[" + std::to_string(i) + "]");
        if (!v.ok()) return v;
        out.push_back(std::move(v).value());
      }
      return json::value(std::move(out));
    }
    case YAML::NodeType::Map: {
      json::object out;
      for (const auto& kv : node) {
        if (!kv.first.IsScalar()) return R::Error(where + ": a mapping key is not a string");
        const std::string key = kv.first.Scalar();
        auto v = YamlToJson(kv.second, Member(where, key));
        if (!v.ok()) return v;
        out[key] = std::move(v).value();
      }
      return json::value(std::move(out));
    }
  }
  return R::Error(where + ": unsupported YAML node");
}

Result<std::string> CollectionPath(const json::object& object) {
  using R = Result<std::string>;
  const json::string* api_version = StringAt(object, "apiVersion");
  const json::string* kind = StringAt(object, "kind");
  if (api_version == nullptr) return R::Error("apiVersion: missing");
  if (kind == nullptr) return R::Error("kind: missing");
  const std::string_view av = *api_version;
  const size_t slash = av.find('/');
  const std::string_view group = slash == std::string_view::npos ? "" : av.substr(0, slash);
  for (const ResourceType& t : kResourceTypes) {
    if (t.group != group || t.kind != *kind) continue;
    std::string path = group.empty() ? "/api/" + std::string(av) : "/apis/" + std::string(av);
    if (t.namespaced) {
      std::string ns = "default";
      if (const auto* meta = object.if_contains("metadata"); meta && meta->is_object()) {
        if (const json::string* n = StringAt(meta->get_object(), "namespace")) ns = *n;
      }
      path += "/namespaces/" + ns;
    }
    return path + "/" + std::string(t.plural);
  }
  return R::Error("kind: " + std::string(*kind) + " in " + std::string(av) +
                  " is not in the test cluster's resource table (tests/kube/manifest.cpp)");
}

Result<std::vector<ObjectRequest>> PlanApply(std::string_view yaml) {
  using R = Result<std::vector<ObjectRequest>>;
  std::vector<YAML::Node> docs;
  try {
    docs = YAML::LoadAll(std::string(yaml));
  } catch (const YAML::Exception& e) {
    return R::Error("YAML: line " + std::to_string(e.mark.line + 1) + ", column " +
                    std::to_string(e.mark.column + 1) + ": " + e.msg);
  }
  std::vector<ObjectRequest> out;
  for (size_t i = 0; i < docs.size(); ++i) {
    if (docs[i].IsNull()) continue;
    const std::string where = "doc[" + std::to_string(i) + "]: ";
    if (!docs[i].IsMap()) return R::Error(where + "a manifest must be a mapping");
    auto body = YamlToJson(docs[i], where);
    if (!body.ok()) return R::Error(body.error());
    ObjectRequest request{.body = std::move(body).value().get_object()};
    auto path = CollectionPath(request.body);
    if (!path.ok()) return R::Error(where + path.error());
    request.collection = std::move(path).value();
    request.kind = std::string(request.body.at("kind").get_string());
    const auto* meta = request.body.if_contains("metadata");
    const json::string* name =
        meta && meta->is_object() ? StringAt(meta->get_object(), "name") : nullptr;
    if (name == nullptr || name->empty()) return R::Error(where + "metadata.name: missing");
    request.name = *name;
    out.push_back(std::move(request));
  }
  return out;
}

}  // namespace sonde::kube
