#include "kube/test_cluster.hpp"

#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <functional>
#include <random>
#include <thread>

namespace sonde::kube {
namespace {

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;

constexpr std::string_view kKubeVersion = "v1.20.2";

std::string RandomToken() {
  std::random_device rd;
  std::string out;
  for (int i = 0; i < 16; ++i) {
    static constexpr char kHex[] = "0123456789abcdef";
    const unsigned byte = rd() & 0xff;
    out += kHex[byte >> 4];
    out += kHex[byte & 15];
  }
  return out;
}

// `n` distinct ports the kernel considers free on 127.0.0.1 right now. They are released before
// the servers bind them, so another process may take one meanwhile: Start() retries on that.
Result<std::vector<int>> FreeLoopbackPorts(int n) {
  std::vector<int> sockets, ports;
  Status status = Status::Ok();
  for (int i = 0; i < n && status.ok(); ++i) {
    const int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof addr;
    if (fd < 0 || bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 ||
        getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) != 0) {
      status = Status::Error("cannot bind a free port on 127.0.0.1");
    } else {
      ports.push_back(ntohs(addr.sin_port));
    }
    if (fd >= 0) sockets.push_back(fd);
  }
  for (int fd : sockets) close(fd);
  if (!status.ok()) return Result<std::vector<int>>::Error(status.message());
  return ports;
}

std::string FindInPath(const std::string& program) {
  const char* path = std::getenv("PATH");
  std::string dirs = path != nullptr ? path : "/usr/local/bin:/usr/bin:/bin";
  size_t start = 0;
  while (start <= dirs.size()) {
    size_t end = dirs.find(':', start);
    if (end == std::string::npos) end = dirs.size();
    const std::string candidate = dirs.substr(start, end - start) + "/" + program;
    if (access(candidate.c_str(), X_OK) == 0) return candidate;
    start = end + 1;
  }
  return "";
}

// Removes the directories of clusters whose test process died without cleaning up (killed by a
// timeout or crashed). Only directories with an owner.pid whose process is gone.
void RemoveAbandonedClusterDirs() {
  std::error_code ec;
  for (const auto& entry : fs::directory_iterator(fs::temp_directory_path(), ec)) {
    if (!entry.path().filename().string().starts_with("sonde-kube-")) continue;
    std::ifstream in(entry.path() / "owner.pid");
    pid_t owner = 0;
    if (!(in >> owner) || owner <= 0) continue;
    if (kill(owner, 0) != 0 && errno == ESRCH) fs::remove_all(entry.path(), ec);
  }
}

}  // namespace

std::string KubeBinDir() {
  if (const char* cache = std::getenv("SONDE_KUBE_CACHE"); cache != nullptr && *cache != 0) {
    return std::string(cache) + "/bin";
  }
  std::string base;
  if (const char* xdg = std::getenv("XDG_CACHE_HOME"); xdg != nullptr && *xdg != 0) {
    base = xdg;
  } else {
    const char* home = std::getenv("HOME");
    base = std::string(home != nullptr ? home : "") + "/.cache";
  }
  return base + "/sonde/kube-" + std::string(kKubeVersion) + "/bin";
}

Result<std::unique_ptr<TestCluster>> TestCluster::Start(ClusterOptions options) {
  using R = Result<std::unique_ptr<TestCluster>>;
  for (const char* binary : {"kube-apiserver", "kube-controller-manager"}) {
    const std::string path = KubeBinDir() + "/" + binary;
    if (access(path.c_str(), X_OK) != 0) {
      return R::Error(std::string(binary) + " not built: run scripts/kube-build.sh (or `make " +
                      "test`, which runs it); looked for " + path);
    }
  }
  if (FindInPath("etcd").empty()) {
    return R::Error(
        "etcd not installed: run scripts/kube-build.sh (it installs Debian's "
        "etcd-server)");
  }
  RemoveAbandonedClusterDirs();
  std::unique_ptr<TestCluster> cluster(new TestCluster(std::move(options)));
  std::string tmpl = (fs::temp_directory_path() / "sonde-kube-XXXXXX").string();
  if (mkdtemp(tmpl.data()) == nullptr) return R::Error("cannot create a directory in /tmp");
  cluster->dir_ = tmpl;
  std::ofstream(cluster->dir_ + "/owner.pid") << getpid() << "\n";
  auto pki = MakeClusterPki(cluster->dir_);
  if (!pki.ok()) return R::Error(pki.error());
  cluster->pki_ = std::move(pki).value();
  if (Status s = cluster->WriteTokenFile(cluster->dir_ + "/tokens.csv"); !s.ok()) {
    return R::Error(s.message());
  }
  // A port picked as free may be taken before the server binds it (tests run in parallel).
  for (int attempt = 1;; ++attempt) {
    Status s = cluster->Boot();
    if (s.ok()) return cluster;
    if (attempt == 3 || s.message().find("address already in use") == std::string::npos) {
      return R::Error("Kubernetes test cluster: " + s.message());
    }
    cluster->StopAll();
    std::error_code ec;
    fs::remove_all(cluster->dir_ + "/etcd", ec);
  }
}

TestCluster::TestCluster(ClusterOptions options) : options_(std::move(options)) {}

TestCluster::~TestCluster() {
  StopAll();
  std::error_code ec;
  if (!dir_.empty()) fs::remove_all(dir_, ec);
}

void TestCluster::StopAll() {
  // Clients first, so none of them logs the server going away as an error for long.
  controller_manager_.reset();
  apiserver_.reset();
  etcd_.reset();
}

std::string TestCluster::token(std::string_view user) const {
  for (const auto& [name, token] : tokens_)
    if (name == user) return token;
  return "";
}

std::string TestCluster::LogTail(std::string_view component, int lines) const {
  return TailOfFile(dir_ + "/" + std::string(component) + ".log", lines);
}

Status TestCluster::WriteTokenFile(const std::string& path) {
  admin_token_ = RandomToken();
  tokens_ = {{"admin", admin_token_}};
  std::ofstream out(path);
  out << admin_token_ << ",admin,uid-admin,\"system:masters\"\n";
  for (const std::string& user : options_.users) {
    tokens_.emplace_back(user, RandomToken());
    out << tokens_.back().second << "," << user << ",uid-" << user << "\n";
  }
  out.close();
  return out ? Status::Ok() : Status::Error("cannot write " + path);
}

Status TestCluster::Boot() {
  auto ports = FreeLoopbackPorts(3);
  if (!ports.ok()) return Status::Error(ports.error());
  const int etcd_port = ports.value()[0], peer_port = ports.value()[1];
  const int api_port = ports.value()[2];
  if (Status s = StartEtcd(etcd_port, peer_port); !s.ok()) return s;
  if (Status s = StartApiServer(api_port, etcd_port); !s.ok()) return s;
  if (Status s = WaitFor(*apiserver_, "/readyz",
                         [&] {
                           auto r = AdminRequest("GET", "/readyz");
                           return r.ok() && r.value().status == 200;
                         });
      !s.ok()) {
    return s;
  }
  if (!options_.controller_manager) return Status::Ok();
  if (Status s = StartControllerManager(); !s.ok()) return s;
  // 1.20's ServiceAccount admission wants the account and its token secret before any Pod.
  return WaitFor(*controller_manager_, "the default service account and its token", [&] {
    auto r = AdminRequest("GET", "/api/v1/namespaces/default/serviceaccounts/default");
    if (!r.ok() || r.value().status != 200) return false;
    const auto json = r.value().Json();
    const auto* secrets = json.is_object() ? json.get_object().if_contains("secrets") : nullptr;
    return secrets != nullptr && secrets->is_array() && !secrets->get_array().empty();
  });
}

Status TestCluster::StartEtcd(int client_port, int peer_port) {
  const std::string client = "http://127.0.0.1:" + std::to_string(client_port);
  const std::string peer = "http://127.0.0.1:" + std::to_string(peer_port);
  auto p = ServerProcess::Start(
      "etcd",
      {FindInPath("etcd"), "--name=sonde-test", "--data-dir=" + dir_ + "/etcd",
       "--listen-client-urls=" + client, "--advertise-client-urls=" + client,
       "--listen-peer-urls=" + peer, "--initial-advertise-peer-urls=" + peer,
       "--initial-cluster=sonde-test=" + peer, "--log-level=warn", "--logger=zap"},
      dir_ + "/etcd.log");
  if (!p.ok()) return Status::Error(p.error());
  etcd_ = std::move(p).value();
  return Status::Ok();
}

Status TestCluster::StartApiServer(int port, int etcd_port) {
  server_ = "https://127.0.0.1:" + std::to_string(port);
  const std::string authz =
      options_.authorization == Authorization::kRbac ? "Node,RBAC" : "AlwaysAllow";
  std::vector<std::string> argv = {
      KubeBinDir() + "/kube-apiserver", "--bind-address=127.0.0.1", "--advertise-address=127.0.0.1",
      "--secure-port=" + std::to_string(port),
      "--etcd-servers=http://127.0.0.1:" + std::to_string(etcd_port),
      "--tls-cert-file=" + pki_.server_cert, "--tls-private-key-file=" + pki_.server_key,
      "--client-ca-file=" + pki_.ca_cert, "--token-auth-file=" + dir_ + "/tokens.csv",
      // Without a token a request is anonymous, which AlwaysAllow would let through.
      "--anonymous-auth=false", "--authorization-mode=" + authz,
      "--service-account-issuer=https://kubernetes.default.svc.cluster.local",
      "--service-account-key-file=" + pki_.service_account_pub,
      "--service-account-signing-key-file=" + pki_.service_account_key,
      // Cluster IPs on loopback, so that tests reach Services (through the kube-proxy
      // stand-in) without traffic leaving the host. The `kubernetes` Service is 127.0.2.1.
      "--service-cluster-ip-range=127.0.2.0/24",
      // With a loopback advertise address the default reconciler complains every 10 s.
      "--endpoint-reconciler-type=none", "--allow-privileged=true",
      "--cert-dir=" + dir_ + "/apiserver-certs", "--profiling=false"};
  argv.insert(argv.end(), options_.extra_apiserver_flags.begin(),
              options_.extra_apiserver_flags.end());
  auto p = ServerProcess::Start("kube-apiserver", std::move(argv), dir_ + "/kube-apiserver.log");
  if (!p.ok()) return Status::Error(p.error());
  apiserver_ = std::move(p).value();
  return Status::Ok();
}

Status TestCluster::StartControllerManager() {
  const std::string kubeconfig = dir_ + "/controller-manager.kubeconfig";
  if (Status s = WriteKubeconfig(kubeconfig, KubeconfigAuth::Token("admin")); !s.ok()) return s;
  auto p = ServerProcess::Start(
      "kube-controller-manager",
      {KubeBinDir() + "/kube-controller-manager", "--kubeconfig=" + kubeconfig,
       "--use-service-account-credentials=false", "--controllers=*",
       "--service-account-private-key-file=" + pki_.service_account_key,
       "--root-ca-file=" + pki_.ca_cert, "--cluster-signing-cert-file=" + pki_.ca_cert,
       "--cluster-signing-key-file=" + pki_.ca_key, "--leader-elect=false",
       // No serving: nothing here scrapes it, and the defaults are fixed ports.
       "--port=0", "--secure-port=0"},
      dir_ + "/kube-controller-manager.log");
  if (!p.ok()) return Status::Error(p.error());
  controller_manager_ = std::move(p).value();
  return Status::Ok();
}

Status TestCluster::WaitFor(ServerProcess& component, std::string_view what,
                            const std::function<bool()>& ready) const {
  const auto deadline = Clock::now() + options_.ready_timeout;
  while (true) {
    for (ServerProcess* p : {etcd_.get(), apiserver_.get(), controller_manager_.get()}) {
      std::string how;
      if (p != nullptr && p->Exited(&how)) {
        return Status::Error(p->name() + " " + how + " while waiting for " + std::string(what) +
                             "; last lines of " + p->log_path() + ":\n" +
                             TailOfFile(p->log_path(), 30));
      }
    }
    if (ready()) return Status::Ok();
    if (Clock::now() > deadline) {
      return Status::Error(component.name() + ": " + std::string(what) + " not ready after " +
                           std::to_string(options_.ready_timeout.count()) + " s; last lines of " +
                           component.log_path() + ":\n" + TailOfFile(component.log_path(), 30));
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
  }
}

}  // namespace sonde::kube
