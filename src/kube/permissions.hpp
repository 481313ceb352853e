// Every Kubernetes API call the operator makes, as RBAC sees it: the single source of truth for
// deploy/kubernetes/2x-*.yaml and the Helm chart's RBAC (tests/deploy_manifests_test.cpp checks
// that the shipped roles grant at least this, with no wildcard). Code that adds a call to the API
// adds its row here first; the test then fails until the manifests grant it.
//
// Header-only constants; no ownership, no I/O, no failure. Thread safety: immutable, so safe
// to read from any thread.
#pragma once

#include <array>
#include <cstdint>
#include <string_view>

namespace sonde::kube {

// RBAC verbs, as a bit set so that a row is one constexpr literal.
enum Verb : uint8_t {
  kGet = 1 << 0,
  kList = 1 << 1,
  kWatch = 1 << 2,
  kCreate = 1 << 3,
  kUpdate = 1 << 4,
  kPatch = 1 << 5,
  kDelete = 1 << 6,
};
using Verbs = uint8_t;

// Names in the order of the bits above, as RBAC rules spell them.
inline constexpr std::array<std::string_view, 7> kVerbNames = {"get",    "list",  "watch", "create",
                                                               "update", "patch", "delete"};

// Where the grant must hold: in every namespace (a ClusterRole bound by a ClusterRoleBinding,
// since checks live in any namespace) or only in the operator's own (a Role).
enum class Scope : uint8_t { kCluster, kOperatorNamespace };

struct Permission {
  std::string_view api_group;  // "" is the core group
  std::string_view resource;   // plural, with "/subresource" when one is called
  Verbs verbs;
  Scope scope;
};

inline constexpr std::array kOperatorPermissions = {
    // Checks and jobs are watched; a job's phase is written, and finished jobs are reaped.
    Permission{"comcast.github.io", "khchecks", kGet | kList | kWatch | kUpdate | kPatch,
               Scope::kCluster},
    Permission{"comcast.github.io", "khjobs", kGet | kList | kWatch | kUpdate | kPatch | kDelete,
               Scope::kCluster},
    // v2 results; states without a check are deleted.
    Permission{"comcast.github.io", "khstates",
               kGet | kList | kWatch | kCreate | kUpdate | kPatch | kDelete, Scope::kCluster},
    // v3 checks (finalizer through update) and their results in the status subresource.
    Permission{"kuberhealthy.github.io", "healthchecks", kGet | kList | kWatch | kUpdate | kPatch,
               Scope::kCluster},
    Permission{"kuberhealthy.github.io", "healthchecks/status", kGet | kUpdate | kPatch,
               Scope::kCluster},
    // A checker pod's ownerReference with blockOwnerDeletion, where the
    // OwnerReferencesPermissionEnforcement admission plugin is on.
    Permission{"kuberhealthy.github.io", "healthchecks/finalizers", kUpdate, Scope::kCluster},
    // Checker pods: created per run, followed by watch, evicted or deleted at the deadline, reaped.
    Permission{"", "pods", kGet | kList | kWatch | kCreate | kDelete, Scope::kCluster},
    Permission{"", "pods/eviction", kCreate, Scope::kCluster},
    Permission{"", "events", kCreate | kPatch, Scope::kCluster},
    Permission{"", "namespaces", kGet | kList | kWatch, Scope::kCluster},
    // Leader election.
    Permission{"coordination.k8s.io", "leases", kGet | kCreate | kUpdate,
               Scope::kOperatorNamespace},
};

// The permission row for (group, resource), or nullptr.
constexpr const Permission* FindPermission(std::string_view api_group, std::string_view resource) {
  for (const Permission& p : kOperatorPermissions) {
    if (p.api_group == api_group && p.resource == resource) return &p;
  }
  return nullptr;
}

// Whether the table lets the operator call `verb` on (group, resource) in `scope` (a cluster-wide
// grant covers the operator's namespace too); code can static_assert on it beside the call.
constexpr bool Allowed(std::string_view api_group, std::string_view resource, Verb verb,
                       Scope scope) {
  // A loop rather than FindPermission: GCC's UBSan makes a pointer comparison non-constant.
  for (const Permission& p : kOperatorPermissions) {
    if (p.api_group == api_group && p.resource == resource) {
      return (p.verbs & verb) != 0 && (p.scope == Scope::kCluster || p.scope == scope);
    }
  }
  return false;
}

static_assert(Allowed("", "pods/eviction", kCreate, Scope::kCluster));
static_assert(!Allowed("coordination.k8s.io", "leases", kDelete, Scope::kOperatorNamespace));

}  // namespace sonde::kube
