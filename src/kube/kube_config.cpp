#include "kube/kube_config.hpp"

#include <openssl/evp.h>
#include <yaml-cpp/yaml.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>

namespace sonde::kube {
namespace {

namespace fs = std::filesystem;

Result<std::string> ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return Result<std::string>::Error("cannot read " + path + ": " + std::strerror(errno));
  std::ostringstream out;
  out << in.rdbuf();
  return out.str();
}

std::string Trim(std::string s) {
  while (!s.empty() && (s.back() == '\n' || s.back() == '\r' || s.back() == ' ')) s.pop_back();
  return s;
}

Result<std::string> DecodeBase64(const std::string& text) {
  std::string in;
  for (char c : text) {
    if (c != '\n' && c != '\r' && c != ' ') in.push_back(c);
  }
  if (in.size() % 4 != 0) return Result<std::string>::Error("not valid base64");
  std::string out(in.size() / 4 * 3, '\0');
  const int n = EVP_DecodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                                reinterpret_cast<const unsigned char*>(in.data()),
                                static_cast<int>(in.size()));
  if (n < 0) return Result<std::string>::Error("not valid base64");
  size_t padding = 0;
  while (padding < 2 && !in.empty() && in[in.size() - 1 - padding] == '=') ++padding;
  out.resize(static_cast<size_t>(n) - padding);
  return out;
}

// The named entry of a kubeconfig list ("clusters", "users", "contexts"), and its index.
std::optional<std::pair<YAML::Node, size_t>> FindNamed(const YAML::Node& list,
                                                       const std::string& name) {
  if (list && list.IsSequence()) {
    for (size_t i = 0; i < list.size(); ++i) {
      if (list[i]["name"] && list[i]["name"].as<std::string>() == name) {
        return std::make_pair(list[i], i);
      }
    }
  }
  return std::nullopt;
}

// Reads `<field>-data` (base64) or `<field>` (a file path relative to `dir`) into `out`.
Status ReadPem(const YAML::Node& node, const std::string& field, const std::string& where,
               const fs::path& dir, std::string& out) {
  if (const auto data = node[field + "-data"]) {
    auto decoded = DecodeBase64(data.as<std::string>());
    if (!decoded.ok()) return Status::Error(where + "." + field + "-data: " + decoded.error());
    out = decoded.value();
    return Status::Ok();
  }
  if (const auto file = node[field]) {
    fs::path path = file.as<std::string>();
    if (path.is_relative()) path = dir / path;
    auto text = ReadFile(path.string());
    if (!text.ok()) return Status::Error(where + "." + field + ": " + text.error());
    out = text.value();
  }
  return Status::Ok();
}

Result<ClusterConfig> ReadKubeconfig(const YAML::Node& root, const std::string& path,
                                     const std::string& wanted_context) {
  using R = Result<ClusterConfig>;
  const fs::path dir = fs::path(path).parent_path();
  std::string context_name = wanted_context;
  if (context_name.empty() && root["current-context"]) {
    context_name = root["current-context"].as<std::string>();
  }
  if (context_name.empty()) return R::Error(path + ": current-context: not set");
  const auto context_entry = FindNamed(root["contexts"], context_name);
  if (!context_entry) {
    return R::Error(path + ": contexts: no context named \"" + context_name + "\"");
  }
  const auto& [context, ci] = *context_entry;
  const std::string cwhere = "contexts[" + std::to_string(ci) + "].context";
  const YAML::Node ctx = context["context"];
  if (!ctx || !ctx["cluster"]) return R::Error(path + ": " + cwhere + ".cluster: missing");

  ClusterConfig config;
  config.source = "kubeconfig " + path + " (context " + context_name + ")";
  if (ctx["namespace"]) config.ns = ctx["namespace"].as<std::string>();
  const auto cluster_name = ctx["cluster"].as<std::string>();
  const auto cluster_entry = FindNamed(root["clusters"], cluster_name);
  if (!cluster_entry || !cluster_entry->first["cluster"]) {
    return R::Error(path + ": clusters: no cluster named \"" + cluster_name + "\"");
  }
  const auto& [cluster, cli] = *cluster_entry;
  const std::string where = "clusters[" + std::to_string(cli) + "].cluster";
  const YAML::Node c = cluster["cluster"];
  if (!c["server"]) return R::Error(path + ": " + where + ".server: missing");
  config.server = c["server"].as<std::string>();
  while (!config.server.empty() && config.server.back() == '/') config.server.pop_back();
  if (config.server.rfind("https://", 0) != 0) {
    return R::Error(path + ": " + where + ".server: \"" + config.server +
                    "\" is not an https:// URL");
  }
  config.insecure_skip_verify = c["insecure-skip-tls-verify"].as<bool>(false);
  if (c["tls-server-name"]) config.tls_server_name = c["tls-server-name"].as<std::string>();
  if (auto s = ReadPem(c, "certificate-authority", where, dir, config.ca_pem); !s.ok()) {
    return R::Error(path + ": " + s.message());
  }

  if (ctx["user"]) {
    const auto user_name = ctx["user"].as<std::string>();
    const auto user_entry = FindNamed(root["users"], user_name);
    if (!user_entry) return R::Error(path + ": users: no user named \"" + user_name + "\"");
    const auto& [user, ui] = *user_entry;
    const std::string uwhere = "users[" + std::to_string(ui) + "].user";
    const YAML::Node u = user["user"];
    if (u && u["token"]) config.token = u["token"].as<std::string>();
    if (u && u["tokenFile"]) {
      fs::path file = u["tokenFile"].as<std::string>();
      if (file.is_relative()) file = dir / file;
      config.token_file = file.string();
      auto token = ReadFile(config.token_file);
      if (!token.ok()) return R::Error(path + ": " + uwhere + ".tokenFile: " + token.error());
      config.token = Trim(token.value());
    }
    if (u) {
      for (const char* field : {"client-certificate", "client-key"}) {
        std::string& out =
            std::string(field) == "client-key" ? config.client_key_pem : config.client_cert_pem;
        if (auto s = ReadPem(u, field, uwhere, dir, out); !s.ok()) {
          return R::Error(path + ": " + s.message());
        }
      }
      if (config.client_cert_pem.empty() != config.client_key_pem.empty()) {
        return R::Error(path + ": " + uwhere +
                        ": client-certificate and client-key must be given together");
      }
      if (u["exec"] || u["auth-provider"]) {
        return R::Error(path + ": " + uwhere +
                        ": exec and auth-provider credentials are not supported; use a token, "
                        "a token file or a client certificate");
      }
    }
  }
  return config;
}

}  // namespace

Result<ClusterConfig> LoadKubeconfig(const std::string& path, const std::string& context) {
  auto text = ReadFile(path);
  if (!text.ok()) return Result<ClusterConfig>::Error(text.error());
  try {
    return ReadKubeconfig(YAML::Load(text.value()), path, context);
  } catch (const YAML::Exception& e) {
    return Result<ClusterConfig>::Error(path + ":" + std::to_string(e.mark.line + 1) + ": " +
                                        e.msg);
  }
}

Result<ClusterConfig> LoadInCluster(const EnvLookup& getenv, const std::string& account_dir) {
  using R = Result<ClusterConfig>;
  const auto host = getenv("KUBERNETES_SERVICE_HOST");
  const auto port = getenv("KUBERNETES_SERVICE_PORT");
  if (!host || host->empty() || !port || port->empty()) {
    return R::Error(
        "in-cluster: KUBERNETES_SERVICE_HOST and KUBERNETES_SERVICE_PORT are not set (not "
        "running in a pod?)");
  }
  ClusterConfig config;
  config.source = "in-cluster";
  const bool v6 = host->find(':') != std::string::npos;
  config.server = "https://" + (v6 ? "[" + *host + "]" : *host) + ":" + *port;
  config.token_file = account_dir + "/token";
  auto token = ReadFile(config.token_file);
  if (!token.ok()) return R::Error("in-cluster: " + token.error());
  config.token = Trim(token.value());
  auto ca = ReadFile(account_dir + "/ca.crt");
  if (!ca.ok()) return R::Error("in-cluster: " + ca.error());
  config.ca_pem = ca.value();
  if (auto ns = ReadFile(account_dir + "/namespace"); ns.ok()) config.ns = Trim(ns.value());
  return config;
}

Result<ClusterConfig> ResolveClusterConfig(const std::string& kubeconfig_flag,
                                           const std::string& context, const EnvLookup& getenv) {
  if (!kubeconfig_flag.empty()) return LoadKubeconfig(kubeconfig_flag, context);
  if (const auto list = getenv("KUBECONFIG"); list && !list->empty()) {
    std::stringstream paths(*list);
    std::string path;
    while (std::getline(paths, path, ':')) {
      if (!path.empty() && fs::exists(path)) return LoadKubeconfig(path, context);
    }
    return Result<ClusterConfig>::Error("$KUBECONFIG=" + *list + ": no such file");
  }
  if (getenv("KUBERNETES_SERVICE_HOST")) return LoadInCluster(getenv);
  const auto home = getenv("HOME");
  if (home && fs::exists(*home + "/.kube/config")) {
    return LoadKubeconfig(*home + "/.kube/config", context);
  }
  return Result<ClusterConfig>::Error(
      "no Kubernetes configuration: give --kubeconfig, set $KUBECONFIG, run in a pod, or "
      "create ~/.kube/config");
}

std::optional<std::string> ProcessEnv(const std::string& name) {
  const char* value = std::getenv(name.c_str());  // NOLINT(concurrency-mt-unsafe): read-only
  if (value == nullptr) return std::nullopt;
  return std::string(value);
}

}  // namespace sonde::kube
