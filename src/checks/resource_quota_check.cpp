// The resource-quota check (kuberhealthy/resource-quota-check): fails for each namespace whose
// ResourceQuota usage of CPU or memory is at or above THRESHOLD (default 0.9) of its hard
// limit. WHITELIST (comma-separated) limits the namespaces looked at, BLACKLIST skips some;
// both are empty by default (Kuberhealthy's example YAML sets BLACKLIST "default" and
// WHITELIST "kube-system,kuberhealthy"). Kuberhealthy's message is kept, with quantities as
// Kubernetes writes them and the quota named: "cpu for shop namespace has reached threshold of
// 0.90: USED: 950m LIMIT: 1 PERCENT_USED:  0.950 (resourcequota compute)".
// Differences: Kuberhealthy reads only the `cpu` and `memory` keys of status.hard (a quota
// without them divides by zero and may alert); Sonde judges each of cpu, memory, requests.cpu,
// requests.memory, limits.cpu and limits.memory that the quota sets to more than zero. A
// THRESHOLD outside (0, 0.99] is an error here, where Kuberhealthy silently uses 0.9.
#include <algorithm>
#include <charconv>
#include <cstdio>
#include <set>
#include <sstream>

#include "checks/check_kinds.hpp"
#include "checks/env_reader.hpp"
#include "checks/kube_session.hpp"
#include "checks/quantity.hpp"
#include "kube/json_fields.hpp"

namespace sonde::checks_internal {
namespace {

using kube::internal::ObjectAt;
using kube::internal::StringAt;
namespace json = boost::json;

std::set<std::string> CommaList(const std::string& text) {
  std::set<std::string> out;
  std::istringstream in(text);
  for (std::string item; std::getline(in, item, ',');) {
    item.erase(0, item.find_first_not_of(' '));
    item.erase(item.find_last_not_of(' ') + 1);
    if (!item.empty()) out.insert(item);
  }
  return out;
}

double Threshold(const CheckEnv& env, EnvReader& in) {
  const auto text = env.Get("THRESHOLD");
  if (!text) return 0.9;
  double value = 0;
  auto [end, ec] = std::from_chars(text->data(), text->data() + text->size(), value);
  if (ec != std::errc() || end != text->data() + text->size()) {
    in.Problem("THRESHOLD \"" + *text + "\" is not a number (e.g. 0.9 for 90%)");
  } else if (value <= 0 || value > 0.99) {
    in.Problem("THRESHOLD " + *text + " must be greater than 0 and at most 0.99");
  }
  return value;
}

// The errors for one quota: each resource at or above the threshold.
void JudgeQuota(const json::object& quota, double threshold, std::vector<std::string>& errors) {
  static const json::object kNone;
  const json::object* meta = ObjectAt(quota, "metadata");
  const json::object* status = ObjectAt(quota, "status");
  if (meta == nullptr || status == nullptr) return;
  const json::object* hard = ObjectAt(*status, "hard");
  const json::object* used = ObjectAt(*status, "used");
  if (hard == nullptr) return;
  if (used == nullptr) used = &kNone;
  const std::string ns = StringAt(*meta, "namespace");
  for (const char* resource :
       {"cpu", "memory", "requests.cpu", "requests.memory", "limits.cpu", "limits.memory"}) {
    const std::string limit_text = StringAt(*hard, resource);
    const std::string used_text = StringAt(*used, resource);
    const auto limit = ParseQuantity(limit_text);
    const auto usage = ParseQuantity(used_text.empty() ? "0" : used_text);
    if (!limit || !usage || *limit <= 0) continue;
    const double fraction = *usage / *limit;
    if (fraction < threshold) continue;
    char text[256];
    std::snprintf(text, sizeof text,
                  "%s for %s namespace has reached threshold of %4.2f: USED: %s LIMIT: %s "
                  "PERCENT_USED: %6.3f (resourcequota %s)",
                  resource, ns.c_str(), threshold, used_text.empty() ? "0" : used_text.c_str(),
                  limit_text.c_str(), fraction, StringAt(*meta, "name").c_str());
    errors.emplace_back(text);
  }
}

}  // namespace

CheckOutcome RunResourceQuotaCheck(const CheckEnv& env, Duration budget) {
  EnvReader in(env);
  const std::set<std::string> whitelist = CommaList(in.String("WHITELIST", ""));
  const std::set<std::string> blacklist = CommaList(in.String("BLACKLIST", ""));
  const double threshold = Threshold(env, in);
  if (!in.ok()) return in.Outcome();
  auto session = KubeSession::Open(env, budget);
  if (!session.ok()) return {{session.error()}, true};
  auto quotas = session.value()->List("/api/v1/resourcequotas");
  if (!quotas.ok()) return {{quotas.error()}};
  std::vector<std::string> errors;
  for (const json::object& quota : quotas.value()) {
    const json::object* meta = ObjectAt(quota, "metadata");
    const std::string ns = meta ? StringAt(*meta, "namespace") : "";
    if ((!whitelist.empty() && !whitelist.contains(ns)) || blacklist.contains(ns)) continue;
    JudgeQuota(quota, threshold, errors);
  }
  return {errors};
}

}  // namespace sonde::checks_internal
