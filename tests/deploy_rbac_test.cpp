// The shipped RBAC (deploy/kubernetes/2x-*.yaml) against src/kube/permissions.hpp: every call
// the operator makes is granted where it makes it, nothing else is, and nothing is a wildcard.
#include <gtest/gtest.h>

#include <map>
#include <set>
#include <string>
#include <tuple>
#include <vector>

#include "deploy/manifests.hpp"
#include "kube/permissions.hpp"

namespace sonde::deploy_test {
namespace {

using kube::Scope;

// (scope, api group, resource) -> verbs the operator's ServiceAccount holds there.
using Grants = std::map<std::tuple<Scope, std::string, std::string>, std::set<std::string>>;

struct Rbac {
  std::vector<ManifestObject> objects;
  std::string sa_name, sa_namespace;
};

Rbac Load() {
  Rbac r;
  auto objects = LoadManifestDir(SourcePath("deploy/kubernetes"));
  EXPECT_TRUE(objects.ok()) << objects.error();
  if (objects.ok()) r.objects = objects.value();
  for (const auto& o : r.objects) {
    if (o.Kind() == "ServiceAccount") {
      r.sa_name = o.Name();
      r.sa_namespace = o.Namespace();
    }
  }
  return r;
}

const ManifestObject* FindRole(const Rbac& r, const std::string& kind, const std::string& name,
                               const std::string& ns) {
  for (const auto& o : r.objects) {
    if (o.Kind() == kind && o.Name() == name && o.Namespace() == ns) return &o;
  }
  return nullptr;
}

bool BindsOperator(const Rbac& r, const ManifestObject& binding) {
  for (const auto& s : Child(binding.node, "subjects")) {
    if (Text(Child(s, "kind")) == "ServiceAccount" && Text(Child(s, "name")) == r.sa_name &&
        Text(Child(s, "namespace")) == r.sa_namespace) {
      return true;
    }
  }
  return false;
}

// What the bindings give the operator's ServiceAccount. A RoleBinding grants in its own
// namespace, which must be the operator's for Scope::kOperatorNamespace.
Grants GrantsOf(const Rbac& r) {
  Grants g;
  for (const auto& b : r.objects) {
    const bool cluster = b.Kind() == "ClusterRoleBinding";
    if ((!cluster && b.Kind() != "RoleBinding") || !BindsOperator(r, b)) continue;
    const std::string role_kind = Text(At(b.node, "roleRef.kind"));
    const ManifestObject* role = FindRole(r, role_kind, Text(At(b.node, "roleRef.name")),
                                          role_kind == "Role" ? b.Namespace() : "");
    if (role == nullptr) continue;
    const Scope scope = cluster ? Scope::kCluster : Scope::kOperatorNamespace;
    if (!cluster && b.Namespace() != r.sa_namespace) continue;
    for (const auto& rule : Child(role->node, "rules")) {
      for (const auto& group : Child(rule, "apiGroups")) {
        for (const auto& res : Child(rule, "resources")) {
          for (const auto& verb : Child(rule, "verbs")) {
            g[{scope, group.Scalar(), res.Scalar()}].insert(verb.Scalar());
          }
        }
      }
    }
  }
  return g;
}

std::set<std::string> VerbNames(kube::Verbs verbs) {
  std::set<std::string> out;
  for (size_t i = 0; i < kube::kVerbNames.size(); ++i) {
    if (verbs & (1u << i)) out.insert(std::string(kube::kVerbNames[i]));
  }
  return out;
}

std::string Describe(const kube::Permission& p) {
  return std::string(p.api_group.empty() ? "core" : p.api_group) + "/" + std::string(p.resource) +
         (p.scope == Scope::kCluster ? " (cluster)" : " (operator namespace)");
}

TEST(DeployRbac, BindingsReferToTheShippedServiceAccountAndRoles) {
  const Rbac r = Load();
  EXPECT_EQ(r.sa_name, "kuberhealthy");
  EXPECT_EQ(r.sa_namespace, "kuberhealthy");
  int bindings = 0;
  for (const auto& b : r.objects) {
    if (b.Kind() != "ClusterRoleBinding" && b.Kind() != "RoleBinding") continue;
    SCOPED_TRACE(b.Where());
    ++bindings;
    EXPECT_EQ(Text(At(b.node, "roleRef.apiGroup")), "rbac.authorization.k8s.io");
    const std::string kind = Text(At(b.node, "roleRef.kind"));
    EXPECT_TRUE(kind == "ClusterRole" || (kind == "Role" && b.Kind() == "RoleBinding")) << kind;
    EXPECT_NE(
        FindRole(r, kind, Text(At(b.node, "roleRef.name")), kind == "Role" ? b.Namespace() : ""),
        nullptr)
        << "roleRef names no shipped " << kind;
    ASSERT_EQ(Child(b.node, "subjects").size(), 1u);
    EXPECT_TRUE(BindsOperator(r, b)) << "the subject is not the shipped ServiceAccount";
  }
  EXPECT_EQ(bindings, 2);
}

// Table-driven over src/kube/permissions.hpp: each row is granted in its scope.
TEST(DeployRbac, GrantsEveryPermissionTheOperatorUses) {
  const Grants g = GrantsOf(Load());
  for (const kube::Permission& p : kube::kOperatorPermissions) {
    SCOPED_TRACE(Describe(p));
    const auto it = g.find({p.scope, std::string(p.api_group), std::string(p.resource)});
    const std::set<std::string> held = it == g.end() ? std::set<std::string>{} : it->second;
    for (const std::string& verb : VerbNames(p.verbs)) {
      EXPECT_TRUE(held.count(verb)) << "missing verb " << verb;
    }
  }
}

// Least privilege: the roles grant nothing the table does not list, with no wildcards.
TEST(DeployRbac, GrantsNothingBeyondThePermissionTableAndNoWildcards) {
  const Rbac r = Load();
  for (const auto& o : r.objects) {
    if (o.Kind() != "ClusterRole" && o.Kind() != "Role") continue;
    for (const auto& rule : Child(o.node, "rules")) {
      for (const char* list : {"apiGroups", "resources", "verbs"}) {
        for (const auto& item : Child(rule, list)) {
          EXPECT_EQ(item.Scalar().find('*'), std::string::npos) << o.Where() << " " << list;
        }
      }
      EXPECT_FALSE(Child(rule, "nonResourceURLs").IsDefined()) << o.Where();
    }
  }
  for (const auto& [key, verbs] : GrantsOf(r)) {
    const auto& [scope, group, resource] = key;
    const kube::Permission* p = kube::FindPermission(group, resource);
    ASSERT_NE(p, nullptr) << "granted but not in permissions.hpp: " << group << "/" << resource;
    EXPECT_EQ(p->scope, scope) << Describe(*p) << " is granted in the wrong scope";
    for (const std::string& verb : verbs) {
      EXPECT_TRUE(VerbNames(p->verbs).count(verb)) << Describe(*p) << ": extra verb " << verb;
    }
  }
}

TEST(DeployRbac, PermissionTableAnswersLookups) {
  struct Case {
    std::string_view group, resource;
    kube::Verb verb;
    Scope scope;
    bool allowed;
  };
  const Case cases[] = {
      {"", "pods", kube::kCreate, Scope::kCluster, true},
      {"", "pods", kube::kUpdate, Scope::kCluster, false},
      {"", "pods/eviction", kube::kCreate, Scope::kCluster, true},
      {"kuberhealthy.github.io", "healthchecks/status", kube::kPatch, Scope::kCluster, true},
      {"kuberhealthy.github.io", "healthchecks", kube::kDelete, Scope::kCluster, false},
      {"comcast.github.io", "khstates", kube::kDelete, Scope::kCluster, true},
      {"coordination.k8s.io", "leases", kube::kUpdate, Scope::kOperatorNamespace, true},
      {"coordination.k8s.io", "leases", kube::kUpdate, Scope::kCluster, false},
      {"", "secrets", kube::kGet, Scope::kCluster, false},
  };
  for (const Case& c : cases) {
    EXPECT_EQ(kube::Allowed(c.group, c.resource, c.verb, c.scope), c.allowed)
        << c.group << "/" << c.resource << " verb bit " << int(c.verb);
  }
}

}  // namespace
}  // namespace sonde::deploy_test
