#include "checks/daemonset_plan.hpp"

#include <algorithm>
#include <cctype>
#include <set>

#include "kube/json_fields.hpp"

namespace sonde::checks_internal {
namespace {

using kube::internal::ArrayAt;
using kube::internal::BoolAt;
using kube::internal::ObjectAt;
using kube::internal::StringAt;
using kube::internal::ToObject;
namespace json = boost::json;

std::vector<std::string> SplitList(const std::string& text) {
  std::vector<std::string> out;
  size_t start = 0;
  while (start <= text.size()) {
    const size_t comma = std::min(text.find(',', start), text.size());
    std::string item = text.substr(start, comma - start);
    item.erase(0, item.find_first_not_of(" \t"));
    item.erase(item.find_last_not_of(" \t") + 1);
    if (!item.empty()) out.push_back(std::move(item));
    start = comma + 1;
  }
  return out;
}

bool ValidEffect(const std::string& effect) {
  return effect == "NoSchedule" || effect == "PreferNoSchedule" || effect == "NoExecute";
}

// A DNS-1123 label: what a namespace and the DaemonSet's name (a label value too) must be.
bool DnsLabel(const std::string& s, size_t max) {
  if (s.empty() || s.size() > max || s.front() == '-' || s.back() == '-') return false;
  return std::all_of(s.begin(), s.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-';
  });
}

// "key=value:effect" (Equal), "key:effect" or "key" (Exists), as Kuberhealthy's image reads
// TOLERATIONS; "key:effect" is Sonde's addition (Kuberhealthy makes it the key "key:effect").
void ReadTolerations(EnvReader& in, const std::string& text, std::vector<Toleration>& out) {
  for (const std::string& entry : SplitList(text)) {
    Toleration t;
    const size_t eq = entry.find('=');
    const size_t colon = entry.find(':', eq == std::string::npos ? 0 : eq);
    t.key = entry.substr(0, std::min(eq, colon));
    if (eq != std::string::npos) {
      t.op = "Equal";
      t.value = entry.substr(eq + 1, colon == std::string::npos ? colon : colon - eq - 1);
    }
    if (colon != std::string::npos) t.effect = entry.substr(colon + 1);
    const std::string where = "TOLERATIONS entry \"" + entry + "\": ";
    if (t.key.empty()) {
      in.Problem(where + "the taint key is empty (key, key:effect or key=value:effect)");
    } else if (!t.effect.empty() && !ValidEffect(t.effect)) {
      in.Problem(where + "the effect must be NoSchedule, PreferNoSchedule or NoExecute");
    } else {
      out.push_back(std::move(t));
    }
  }
}

// "key=value:effect", "key:effect" or "key" (any effect); the value is ignored, as in
// Kuberhealthy's image.
void ReadAllowedTaints(EnvReader& in, const std::string& text, std::vector<TaintRule>& out) {
  out.clear();
  for (const std::string& entry : SplitList(text)) {
    const size_t eq = entry.find('=');
    const size_t colon = entry.find(':', eq == std::string::npos ? 0 : eq);
    TaintRule r{entry.substr(0, std::min(eq, colon)),
                colon == std::string::npos ? "" : entry.substr(colon + 1)};
    const std::string where = "ALLOWED_TAINTS entry \"" + entry + "\": ";
    if (r.key.empty()) {
      in.Problem(where + "the taint key is empty (key:effect or key=value:effect)");
    } else if (!r.effect.empty() && !ValidEffect(r.effect)) {
      in.Problem(where + "the effect must be NoSchedule, PreferNoSchedule or NoExecute");
    } else {
      out.push_back(std::move(r));
    }
  }
}

void ReadNodeSelector(EnvReader& in, const std::string& text,
                      std::map<std::string, std::string>& out) {
  for (const std::string& pair : SplitList(text)) {
    const size_t eq = pair.find('=');
    if (eq == std::string::npos || eq == 0 || pair.find('=', eq + 1) != std::string::npos) {
      in.Problem("NODE_SELECTOR entry \"" + pair + "\" is not key=value");
    } else if (!out.emplace(pair.substr(0, eq), pair.substr(eq + 1)).second) {
      in.Problem("NODE_SELECTOR names \"" + pair.substr(0, eq) + "\" twice");
    }
  }
}

std::string TaintText(const std::string& key, const std::string& value, const std::string& effect) {
  return key + (value.empty() ? "" : "=" + value) + ":" + effect;
}

// Why `node` gets no pod, or "" when it must get one.
std::string SkipReason(const json::object& node, const DaemonsetConfig& config) {
  static const json::object kEmpty;
  const json::object* meta = ObjectAt(node, "metadata");
  const json::object* spec = ObjectAt(node, "spec");
  if (meta && meta->contains("deletionTimestamp")) return "being deleted";
  if (spec && BoolAt(*spec, "unschedulable").value_or(false)) return "cordoned";
  const json::object* labels = meta ? ObjectAt(*meta, "labels") : nullptr;
  for (const auto& [k, v] : config.node_selector) {
    if (StringAt(labels ? *labels : kEmpty, k) != v) {
      return "NODE_SELECTOR " + k + "=" + v + " does not match";
    }
  }
  const json::array* taints = spec ? ArrayAt(*spec, "taints") : nullptr;
  if (taints == nullptr) return "";
  for (const json::value& t : *taints) {
    if (!t.is_object()) continue;
    const std::string key = StringAt(t.get_object(), "key");
    const std::string value = StringAt(t.get_object(), "value");
    const std::string effect = StringAt(t.get_object(), "effect");
    if (effect != "NoSchedule" && effect != "NoExecute") continue;  // PreferNoSchedule: a hint
    for (const TaintRule& r : config.allowed_taints) {
      if (r.key == key && (r.effect.empty() || r.effect == effect)) {
        return "taint " + TaintText(key, value, effect) + " is in ALLOWED_TAINTS";
      }
    }
    const bool tolerated =
        std::any_of(config.tolerations.begin(), config.tolerations.end(),
                    [&](const Toleration& tol) { return Tolerates(tol, key, value, effect); });
    if (!tolerated) return "taint " + TaintText(key, value, effect) + " is not tolerated";
  }
  return "";
}

}  // namespace

DaemonsetConfig ReadDaemonsetConfig(EnvReader& in, const CheckEnv& env) {
  DaemonsetConfig c;
  c.ns = in.String("POD_NAMESPACE", c.ns);
  if (!DnsLabel(c.ns, 63)) in.Problem("POD_NAMESPACE \"" + c.ns + "\" is not a namespace name");
  c.image = in.String("PAUSE_CONTAINER_IMAGE", c.image);
  c.grace = in.PositiveDuration("SHUTDOWN_GRACE_PERIOD", c.grace);
  c.name = in.String("CHECK_DAEMONSET_NAME", c.name);
  // The run's name is NAME-<unix seconds> and is also a label value (at most 63 characters).
  if (!DnsLabel(c.name, 52)) {
    in.Problem("CHECK_DAEMONSET_NAME \"" + c.name +
               "\" must be at most 52 lower-case letters, digits and '-', e.g. daemonset");
  }
  c.priority_class = in.String("DAEMONSET_PRIORITY_CLASS_NAME", "");
  if (auto v = env.Get("NODE_SELECTOR")) ReadNodeSelector(in, *v, c.node_selector);
  if (auto v = env.Get("TOLERATIONS")) ReadTolerations(in, *v, c.tolerations);
  if (auto v = env.Get("ALLOWED_TAINTS")) ReadAllowedTaints(in, *v, c.allowed_taints);
  return c;
}

bool Tolerates(const Toleration& t, const std::string& key, const std::string& value,
               const std::string& effect) {
  if (!t.effect.empty() && t.effect != effect) return false;
  if (!t.key.empty() && t.key != key) return false;
  return t.op == "Exists" || t.value == value;
}

NodePlan PlanNodes(const std::vector<json::object>& nodes, const DaemonsetConfig& config) {
  NodePlan plan;
  for (const json::object& node : nodes) {
    const json::object* meta = ObjectAt(node, "metadata");
    const std::string name = meta ? StringAt(*meta, "name") : "";
    if (name.empty()) continue;
    std::string why = SkipReason(node, config);
    if (why.empty()) {
      plan.expected.push_back(name);
    } else {
      plan.skipped.emplace_back(name, std::move(why));
    }
  }
  return plan;
}

std::map<std::string, std::string> RunLabels(const std::string& ds_name,
                                             const std::string& instance, int64_t run_time) {
  return {{"kh-app", ds_name},
          {"source", "kuberhealthy"},
          {"khcheck", "daemonset"},
          {"creatingInstance", instance},
          {"checkRunTime", std::to_string(run_time)}};
}

json::object DaemonsetManifest(const DaemonsetConfig& config, const std::string& ds_name,
                               const std::map<std::string, std::string>& labels,
                               const std::vector<std::string>& nodes) {
  json::array tolerations;
  for (const Toleration& t : config.tolerations) {
    json::object o{{"key", t.key}, {"operator", t.op}};
    if (t.op == "Equal") o["value"] = t.value;
    if (!t.effect.empty()) o["effect"] = t.effect;
    tolerations.push_back(std::move(o));
  }
  // matchFields takes one value per requirement: one term (ORed) per node.
  json::array terms;
  for (const std::string& node : nodes) {
    terms.push_back(json::object{
        {"matchFields",
         json::array{{{"key", "metadata.name"}, {"operator", "In"}, {"values", {node}}}}}});
  }
  const int64_t grace_seconds = std::chrono::ceil<std::chrono::seconds>(config.grace).count();
  json::object pod_spec{{"terminationGracePeriodSeconds", grace_seconds},
                        {"tolerations", std::move(tolerations)},
                        {"affinity",
                         {{"nodeAffinity",
                           {{"requiredDuringSchedulingIgnoredDuringExecution",
                             {{"nodeSelectorTerms", std::move(terms)}}}}}}},
                        {"containers",
                         {{{"name", "sleep"},
                           {"image", config.image},
                           {"resources", {{"requests", {{"cpu", "0"}, {"memory", "0"}}}}}}}}};
  if (!config.node_selector.empty()) pod_spec["nodeSelector"] = ToObject(config.node_selector);
  if (!config.priority_class.empty()) pod_spec["priorityClassName"] = config.priority_class;
  const json::object label_object = ToObject(labels);
  return {{"apiVersion", "apps/v1"},
          {"kind", "DaemonSet"},
          {"metadata", {{"name", ds_name}, {"namespace", config.ns}, {"labels", label_object}}},
          {"spec",
           {{"selector", {{"matchLabels", label_object}}},
            {"template",
             {{"metadata",
               {{"labels", label_object},
                {"annotations", {{"cluster-autoscaler.kubernetes.io/safe-to-evict", "true"}}}}},
              {"spec", std::move(pod_spec)}}}}}};
}

std::string LabelValue(std::string text) {
  for (char& c : text) {
    c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    if (!std::isalnum(static_cast<unsigned char>(c)) && c != '-' && c != '_' && c != '.') c = '-';
  }
  if (text.size() > 63) text.resize(63);
  const auto alnum = [](char c) { return std::isalnum(static_cast<unsigned char>(c)) != 0; };
  while (!text.empty() && !alnum(text.back())) text.pop_back();
  while (!text.empty() && !alnum(text.front())) text.erase(0, 1);
  return text;
}

}  // namespace sonde::checks_internal
