// Test support: a real, throw-away Kubernetes control plane on loopback: etcd, kube-apiserver
// v1.20.2 and kube-controller-manager as child processes (built by scripts/kube-build.sh), with
// their own CA, certificates, tokens and free ports in a temporary directory.
//
// Ownership: TestCluster owns the processes and the directory; destruction stops the processes
// (SIGTERM, SIGKILL after a grace) and removes the directory. They also die with the test process.
// Thread safety: none; use a cluster from one thread at a time.
// Failure: Start() fails (never skips) when a binary is missing, with what to run; when a
// component does not come up, its error ends with the last lines of that component's log.
#pragma once

#include <boost/json.hpp>
#include <chrono>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "core/result.hpp"
#include "kube/pki.hpp"
#include "kube/subprocess.hpp"

namespace sonde::kube {

enum class Authorization {
  kAlwaysAllow,  // every authenticated request is allowed
  kRbac,         // "Node,RBAC": only admin (system:masters) until roles are bound
};

struct ClusterOptions {
  Authorization authorization = Authorization::kAlwaysAllow;
  // Users with a bearer token but no group, beside "admin" (group system:masters).
  std::vector<std::string> users = {"sonde", "viewer"};
  // Creates the `default` service accounts and their tokens (Pods need them in 1.20) and
  // garbage-collects by ownerReference.
  bool controller_manager = true;
  std::chrono::seconds ready_timeout{60};  // per component
  // Appended to kube-apiserver's flags (e.g. "--feature-gates=...", "--admission-control-...").
  std::vector<std::string> extra_apiserver_flags;
};

// ClusterOptions{} (for templates: g++ 12 crashes on `return {};` of this type there).
inline ClusterOptions DefaultClusterOptions() { return ClusterOptions{}; }

struct KubeResponse {
  int status = 0;                   // HTTP status; 0 when the deadline passed before headers came
  std::string body;                 // what came before the deadline (watches are cut at it)
  bool timed_out = false;           // the request's deadline passed (expected for watches)
  boost::json::value Json() const;  // the body parsed; null when it is not JSON
};

struct RequestOptions {
  std::string content_type = "application/json";  // for PATCH: application/merge-patch+json
  std::chrono::milliseconds timeout{30'000};
};

// How a kubeconfig authenticates.
struct KubeconfigAuth {
  static KubeconfigAuth Token(std::string user) { return {false, std::move(user)}; }
  static KubeconfigAuth ClientCert() { return {true, "sonde-client-cert"}; }
  bool client_cert = false;
  std::string user;
};

class TestCluster {
 public:
  static Result<std::unique_ptr<TestCluster>> Start(ClusterOptions options = {});
  ~TestCluster();
  TestCluster(const TestCluster&) = delete;
  TestCluster& operator=(const TestCluster&) = delete;

  const std::string& server() const { return server_; }  // "https://127.0.0.1:PORT"
  const std::string& ca_file() const { return pki_.ca_cert; }
  const std::string& client_cert_file() const { return pki_.client_cert; }
  const std::string& client_key_file() const { return pki_.client_key; }
  // The API server's serving certificate and key (a proxy in front of it may serve them too).
  const std::string& server_cert_file() const { return pki_.server_cert; }
  const std::string& server_key_file() const { return pki_.server_key; }
  uint16_t port() const {
    return static_cast<uint16_t>(std::stoi(server_.substr(server_.rfind(':') + 1)));
  }
  const std::string& dir() const { return dir_; }  // the temporary directory (logs, PKI)
  const std::string& admin_token() const { return admin_token_; }
  // The bearer token of "admin" or one of ClusterOptions::users; "" for an unknown user.
  std::string token(std::string_view user) const;

  // A kubeconfig for this cluster (context "sonde-test", namespace "default").
  Status WriteKubeconfig(const std::string& path, const KubeconfigAuth& auth) const;

  // One request to the API server (through curl). `token` "" sends none. Errors: curl could
  // not connect or failed otherwise; an HTTP error status is a response, not an error.
  Result<KubeResponse> Request(std::string_view method, std::string_view path,
                               std::string_view body, std::string_view token,
                               const RequestOptions& options = {}) const;
  Result<KubeResponse> AdminRequest(std::string_view method, std::string_view path,
                                    std::string_view body = "") const {
    return Request(method, path, body, admin_token_);
  }

  // Creates every object of a multi-document manifest as admin, in order; an object that
  // already exists is replaced (GET + PUT with its resourceVersion). Errors name the document.
  Status Apply(std::string_view yaml) const;

  // Waits until the CRD `name` is Established and its custom resources can be listed.
  Status WaitForCrdEstablished(std::string_view name,
                               std::chrono::milliseconds timeout = std::chrono::seconds(30)) const;

  // The last `lines` lines of a component's log ("etcd", "kube-apiserver",
  // "kube-controller-manager").
  std::string LogTail(std::string_view component, int lines = 30) const;

 private:
  explicit TestCluster(ClusterOptions options);
  Status Boot();
  Status WriteTokenFile(const std::string& path);
  Status StartEtcd(int client_port, int peer_port);
  Status StartApiServer(int port, int etcd_port);
  Status StartControllerManager();
  Status WaitFor(ServerProcess& component, std::string_view what,
                 const std::function<bool()>& ready) const;
  void StopAll();

  ClusterOptions options_;
  std::string dir_;
  ClusterPki pki_;
  std::string server_;
  std::string admin_token_;
  std::vector<std::pair<std::string, std::string>> tokens_;  // user, token
  std::unique_ptr<ServerProcess> etcd_, apiserver_, controller_manager_;
};

// Where scripts/kube-build.sh puts the binaries: $SONDE_KUBE_CACHE/bin, else
// ${XDG_CACHE_HOME:-$HOME/.cache}/sonde/kube-v1.20.2/bin.
std::string KubeBinDir();

}  // namespace sonde::kube
