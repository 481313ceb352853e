#include "kube/helpers.hpp"

#include <openssl/evp.h>

#include <fstream>
#include <sstream>

#include "kube/test_cluster.hpp"

namespace sonde::testing {

std::string ReadFile(const std::string& path) {
  std::ifstream in(path);
  std::ostringstream out;
  out << in.rdbuf();
  return out.str();
}

const boost::json::object& Obj(const boost::json::object& o, const char* key) {
  static const boost::json::object kEmpty;
  const auto* v = o.if_contains(key);
  return v != nullptr && v->is_object() ? v->as_object() : kEmpty;
}

std::string Str(const boost::json::object& o, const char* key) {
  const auto* v = o.if_contains(key);
  return v != nullptr && v->is_string() ? std::string(v->as_string()) : "";
}

const boost::json::array& Arr(const boost::json::object& o, const char* key) {
  static const boost::json::array kEmpty;
  const auto* v = o.if_contains(key);
  return v != nullptr && v->is_array() ? v->as_array() : kEmpty;
}

boost::json::value JsonAt(const boost::json::value& v,
                          std::initializer_list<std::string_view> keys) {
  const boost::json::value* cur = &v;
  for (auto k : keys) {
    cur = cur->is_object() ? cur->get_object().if_contains(k) : nullptr;
    if (cur == nullptr) return nullptr;
  }
  return *cur;
}

std::string Base64Decode(const std::string& in) {
  std::string out(in.size() / 4 * 3, '\0');
  const int n = EVP_DecodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                                reinterpret_cast<const unsigned char*>(in.data()),
                                static_cast<int>(in.size()));
  if (n < 0) return "";
  size_t pad = 0;
  while (pad < in.size() && pad < 2 && in[in.size() - 1 - pad] == '=') ++pad;
  out.resize(static_cast<size_t>(n) - pad);
  return out;
}

std::string DocumentedRoles(const std::string& source_dir) {
  const std::string doc = ReadFile(source_dir + "/docs/probes-and-checks.md");
  const size_t start = doc.find("```yaml\n# ClusterRoles of the Kubernetes checks");
  if (start == std::string::npos) return "";
  const size_t body = doc.find('\n', start) + 1;
  return doc.substr(body, doc.find("```", body) - body);
}

std::string ClusterRoleBindingYaml(const std::string& role, const std::string& user) {
  return "apiVersion: rbac.authorization.k8s.io/v1\nkind: ClusterRoleBinding\nmetadata: {name: " +
         role +
         "}\nroleRef: {apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: " + role +
         "}\nsubjects: [{apiGroup: rbac.authorization.k8s.io, kind: User, name: " + user + "}]\n";
}

bool DefaultServiceAccountHasToken(kube::TestCluster& cluster, const std::string& ns) {
  auto r = cluster.AdminRequest("GET", "/api/v1/namespaces/" + ns + "/serviceaccounts/default");
  const boost::json::value v = r.ok() ? r.value().Json() : nullptr;
  const boost::json::value secrets = JsonAt(v, {"secrets"});
  return secrets.is_array() && !secrets.as_array().empty();
}

}  // namespace sonde::testing
