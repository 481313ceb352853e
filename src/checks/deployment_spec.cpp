#include "checks/deployment_spec.hpp"

#include <boost/json/serialize.hpp>
#include <charconv>

#include "checks/quantity.hpp"

namespace sonde::checks_internal {
namespace {

namespace json = boost::json;

constexpr const char* kDefaultImage = "nginxinc/nginx-unprivileged:1.17.8";
constexpr const char* kDefaultRollTo = "nginxinc/nginx-unprivileged:1.17.9";

std::vector<std::string> SplitCommas(const std::string& text) {
  std::vector<std::string> out;
  size_t from = 0;
  while (from <= text.size()) {
    const size_t comma = std::min(text.find(',', from), text.size());
    if (comma > from) out.push_back(text.substr(from, comma - from));
    from = comma + 1;
  }
  return out;
}

bool IsWholeNumber(const std::string& text, int64_t& value) {
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  return ec == std::errc() && end == text.data() + text.size() && value >= 0;
}

// Kuberhealthy's v2 image takes whole numbers (CPU in millicores, memory in MiB); v3 takes
// Kubernetes quantities. A whole number keeps the v2 meaning, anything else must be a quantity.
std::string Resource(const CheckEnv& env, EnvReader& in, const char* name, int64_t fallback,
                     const char* unit) {
  const auto text = env.Get(name);
  int64_t n = fallback;
  if (!text || IsWholeNumber(*text, n)) return std::to_string(n) + unit;
  if (const auto q = ParseQuantity(*text); !q || *q < 0) {
    in.Problem(std::string(name) + " \"" + *text + "\" is neither a whole number (" +
               (std::string_view(unit) == "m" ? "millicores" : "MiB") +
               ") nor a quantity such as 100m or 64Mi");
  }
  return *text;
}

// "k=v,k2=v2" in order; the first of a repeated key wins, as in Kuberhealthy.
std::vector<std::pair<std::string, std::string>> Pairs(const CheckEnv& env, EnvReader& in,
                                                       const char* name) {
  std::vector<std::pair<std::string, std::string>> out;
  const auto text = env.Get(name);
  if (!text) return out;
  for (const std::string& item : SplitCommas(*text)) {
    const size_t eq = item.find('=');
    if (eq == std::string::npos || eq == 0) {
      in.Problem(std::string(name) + " \"" + item + "\": want key=value");
      continue;
    }
    const std::string key = item.substr(0, eq);
    bool seen = false;
    for (const auto& [k, v] : out) seen = seen || k == key;
    if (!seen) out.emplace_back(key, item.substr(eq + 1));
  }
  return out;
}

// Kuberhealthy's forms: "key" (Exists), "key=value" (Equal), "key=value:Effect".
std::vector<Toleration> Tolerations(const CheckEnv& env, EnvReader& in) {
  std::vector<Toleration> out;
  const auto text = env.Get("TOLERATIONS");
  if (!text) return out;
  for (const std::string& item : SplitCommas(*text)) {
    const size_t eq = item.find('=');
    if (eq == std::string::npos) {
      out.push_back({item, "Exists", "", ""});
      continue;
    }
    const std::string rest = item.substr(eq + 1);
    const size_t colon = rest.find(':');
    if (eq == 0 || (colon != std::string::npos && rest.find(':', colon + 1) != std::string::npos)) {
      in.Problem("TOLERATIONS \"" + item + "\": want key, key=value or key=value:Effect");
      continue;
    }
    if (colon == std::string::npos) {
      out.push_back({item.substr(0, eq), "Equal", rest, ""});
    } else {
      out.push_back({item.substr(0, eq), "Equal", rest.substr(0, colon), rest.substr(colon + 1)});
    }
  }
  return out;
}

json::object PairsObject(const std::vector<std::pair<std::string, std::string>>& pairs) {
  json::object o;
  for (const auto& [k, v] : pairs) o[k] = v;
  return o;
}

json::object RunLabels(const DeploymentSettings& s) { return {{kRunLabelKey, s.run_label}}; }

json::object TcpProbe(int port) {
  return {{"tcpSocket", {{"port", port}}}, {"initialDelaySeconds", 2}, {"timeoutSeconds", 2},
          {"periodSeconds", 15},           {"successThreshold", 1},    {"failureThreshold", 5}};
}

json::object Container(const DeploymentSettings& s, const std::string& image) {
  json::object c{{"name", kContainerName},
                 {"image", image},
                 {"imagePullPolicy", "IfNotPresent"},
                 {"ports", json::array{json::object{{"containerPort", s.container_port}}}},
                 {"resources",
                  {{"requests", {{"cpu", s.cpu_request}, {"memory", s.memory_request}}},
                   {"limits", {{"cpu", s.cpu_limit}, {"memory", s.memory_limit}}}}}};
  if (!s.env.empty()) {
    json::array env;
    for (const auto& [k, v] : s.env) env.push_back(json::object{{"name", k}, {"value", v}});
    c["env"] = std::move(env);
  }
  c["livenessProbe"] = TcpProbe(s.container_port);
  c["readinessProbe"] = TcpProbe(s.container_port);
  return c;
}

json::object PodSpec(const DeploymentSettings& s, const std::string& image) {
  json::object spec{{"containers", json::array{Container(s, image)}},
                    {"restartPolicy", "Always"},
                    {"terminationGracePeriodSeconds", 1}};
  if (!s.service_account.empty()) spec["serviceAccountName"] = s.service_account;
  if (!s.node_selector.empty()) spec["nodeSelector"] = PairsObject(s.node_selector);
  if (!s.tolerations.empty()) {
    json::array list;
    for (const Toleration& t : s.tolerations) {
      json::object o{{"key", t.key}, {"operator", t.op}};
      if (!t.value.empty()) o["value"] = t.value;
      if (!t.effect.empty()) o["effect"] = t.effect;
      list.push_back(std::move(o));
    }
    spec["tolerations"] = std::move(list);
  }
  if (!s.pull_secret.empty()) {
    spec["imagePullSecrets"] = json::array{json::object{{"name", s.pull_secret}}};
  }
  return spec;
}

}  // namespace

DeploymentSettings ReadDeploymentSettings(const CheckEnv& env, EnvReader& in, TimePoint now) {
  DeploymentSettings s;
  s.image = in.String("CHECK_IMAGE", kDefaultImage);
  s.roll_to = in.String("CHECK_IMAGE_ROLL_TO", kDefaultRollTo);
  s.pull_secret = in.String("CHECK_IMAGE_PULL_SECRET", "");
  s.deployment = in.String("CHECK_DEPLOYMENT_NAME", "deployment-deployment");
  s.service = in.String("CHECK_SERVICE_NAME", "deployment-svc");
  s.ns = in.String("CHECK_NAMESPACE", in.String("KH_POD_NAMESPACE", "kuberhealthy"));
  s.replicas = static_cast<int>(in.Int("CHECK_DEPLOYMENT_REPLICAS", 2, 1, 1000));
  s.rolling_update = in.Bool("CHECK_DEPLOYMENT_ROLLING_UPDATE", false);
  s.container_port = static_cast<int>(in.Int("CHECK_CONTAINER_PORT", 8080, 1, 65535));
  s.service_port = static_cast<int>(in.Int("CHECK_LOAD_BALANCER_PORT", 80, 1, 65535));
  s.service_account = in.String("CHECK_SERVICE_ACCOUNT", "");
  s.cpu_request = Resource(env, in, "CHECK_POD_CPU_REQUEST", 15, "m");
  s.cpu_limit = Resource(env, in, "CHECK_POD_CPU_LIMIT", 75, "m");
  s.memory_request = Resource(env, in, "CHECK_POD_MEM_REQUEST", 20, "Mi");
  s.memory_limit = Resource(env, in, "CHECK_POD_MEM_LIMIT", 75, "Mi");
  s.node_selector = Pairs(env, in, "NODE_SELECTOR");
  s.tolerations = Tolerations(env, in);
  s.env = Pairs(env, in, "ADDITIONAL_ENV_VARS");
  s.shutdown_grace = in.PositiveDuration("SHUTDOWN_GRACE_PERIOD", std::chrono::seconds(30));
  if (s.shutdown_grace < std::chrono::seconds(1)) {
    in.Problem("SHUTDOWN_GRACE_PERIOD must be at least 1s");
  }
  // Kuberhealthy silently swaps in its default images here; a roll to the same image changes
  // nothing, so the check could not test a rollout at all.
  if (s.rolling_update && s.image == s.roll_to) {
    in.Problem("CHECK_IMAGE_ROLL_TO \"" + s.roll_to +
               "\" is CHECK_IMAGE: a rolling update needs a different image");
  }
  s.run_label = "unix-" + std::to_string(UnixSeconds(now));
  return s;
}

std::string DeploymentManifest(const DeploymentSettings& s, const std::string& image) {
  const int half = (s.replicas + 1) / 2;
  const json::object deployment{
      {"apiVersion", "apps/v1"},
      {"kind", "Deployment"},
      {"metadata", {{"name", s.deployment}, {"namespace", s.ns}}},
      {"spec",
       {{"replicas", s.replicas},
        {"minReadySeconds", 5},
        {"selector", {{"matchLabels", RunLabels(s)}}},
        {"strategy",
         {{"type", "RollingUpdate"},
          {"rollingUpdate", {{"maxSurge", half}, {"maxUnavailable", half}}}}},
        {"template",
         {{"metadata", {{"name", s.deployment}, {"labels", RunLabels(s)}}},
          {"spec", PodSpec(s, image)}}}}}};
  return json::serialize(deployment);
}

std::string ServiceManifest(const DeploymentSettings& s) {
  const json::object service{
      {"apiVersion", "v1"},
      {"kind", "Service"},
      {"metadata", {{"name", s.service}, {"namespace", s.ns}}},
      {"spec",
       {{"type", "ClusterIP"},
        {"selector", RunLabels(s)},
        {"ports",
         json::array{json::object{
             {"protocol", "TCP"}, {"port", s.service_port}, {"targetPort", s.container_port}}}}}}};
  return json::serialize(service);
}

std::string RollPatch(const DeploymentSettings& s) {
  const json::object patch{
      {"spec",
       {{"template",
         {{"spec",
           {{"containers",
             json::array{json::object{{"name", kContainerName}, {"image", s.roll_to}}}}}}}}}}};
  return json::serialize(patch);
}

}  // namespace sonde::checks_internal
