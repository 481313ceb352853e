// Small helpers the Kubernetes test binaries share: files, JSON paths, base64, and the
// ClusterRoles block the docs give for the Kubernetes checks.
// Thread safety: pure functions, except that the file readers read the file system.
#pragma once

#include <boost/json.hpp>
#include <initializer_list>
#include <string>
#include <string_view>

namespace sonde::kube {
class TestCluster;
}  // namespace sonde::kube

namespace sonde::testing {

// The whole file; "" when it cannot be read.
std::string ReadFile(const std::string& path);

// An object's member of that type, or an empty one (a missing or mistyped field reads as empty).
const boost::json::object& Obj(const boost::json::object& o, const char* key);
std::string Str(const boost::json::object& o, const char* key);
const boost::json::array& Arr(const boost::json::object& o, const char* key);

// A copy of v's member at the path of keys, or null.
boost::json::value JsonAt(const boost::json::value& v,
                          std::initializer_list<std::string_view> keys);

// Standard base64 (a Secret's data); "" when it is not base64.
std::string Base64Decode(const std::string& in);

// The YAML block of docs/probes-and-checks.md that starts with
// "# ClusterRoles of the Kubernetes checks", under the source tree `source_dir`; "" if absent.
std::string DocumentedRoles(const std::string& source_dir);

// A ClusterRoleBinding named after `role` that grants it to the user `user`, as YAML.
std::string ClusterRoleBindingYaml(const std::string& role, const std::string& user);

// Whether the namespace's `default` service account has its token yet: 1.20 admits no pod
// before ("no API token found for service account").
bool DefaultServiceAccountHasToken(kube::TestCluster& cluster, const std::string& ns);

}  // namespace sonde::testing
