// Where the Kubernetes API server is and how to authenticate to it: from a kubeconfig file
// (--kubeconfig, $KUBECONFIG, ~/.kube/config) or from the pod's service account (in-cluster).
//
// Thread safety: plain values and free functions; safe to call from any thread.
// Failure: every loader returns an error that names the file and the field, e.g.
// "/root/.kube/config: users[0].user.client-certificate: cannot read /x.crt: No such file".
#pragma once

#include <functional>
#include <optional>
#include <string>

#include "core/result.hpp"

namespace sonde::kube {

struct ClusterConfig {
  std::string server;  // "https://host:port", no trailing slash
  std::string ca_pem;  // empty: the system's trust store
  bool insecure_skip_verify = false;
  std::string tls_server_name;  // empty: the server URL's host
  // Bearer token. When token_file is set the token is re-read from it (service-account
  // tokens rotate), and `token` holds the value read at load time.
  std::string token;
  std::string token_file;
  std::string client_cert_pem;  // with client_key_pem: TLS client authentication
  std::string client_key_pem;
  std::string ns;      // the context's namespace, or the service account's; "" if none
  std::string source;  // "kubeconfig /path (context x)" or "in-cluster", for messages
};

// Reads a kubeconfig; `context` empty means current-context. Relative file paths in it are
// relative to the kubeconfig's directory, as kubectl reads them.
Result<ClusterConfig> LoadKubeconfig(const std::string& path, const std::string& context = "");

// The service account's view: KUBERNETES_SERVICE_HOST/PORT from `getenv`, token, ca.crt and
// namespace from `account_dir` (default /var/run/secrets/kubernetes.io/serviceaccount).
using EnvLookup = std::function<std::optional<std::string>(const std::string&)>;
Result<ClusterConfig> LoadInCluster(
    const EnvLookup& getenv,
    const std::string& account_dir = "/var/run/secrets/kubernetes.io/serviceaccount");

// kubectl's order: an explicit --kubeconfig path; else $KUBECONFIG (first existing file of a
// colon-separated list); else in-cluster when KUBERNETES_SERVICE_HOST is set; else
// ~/.kube/config.
Result<ClusterConfig> ResolveClusterConfig(const std::string& kubeconfig_flag,
                                           const std::string& context, const EnvLookup& getenv);

// The process environment, for ResolveClusterConfig and LoadInCluster.
std::optional<std::string> ProcessEnv(const std::string& name);

}  // namespace sonde::kube
