// deploy/kubernetes against the real kube-apiserver v1.20.2 with RBAC: every object of the
// kustomization, in its order, is accepted as written (the PodDisruptionBudget only as
// policy/v1beta1, the documented fallback for servers older than 1.21); the server's own
// authorizer confirms that the kuberhealthy ServiceAccount may make every call of
// src/kube/permissions.hpp and nothing else asked of it; and the Deployment's container, started
// with the args and environment the kubelet would give it, serves, leads and publishes its
// pod-IP address on the Lease.
#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <openssl/evp.h>
#include <sys/socket.h>
#include <unistd.h>
#include <yaml-cpp/yaml.h>

#include <boost/json.hpp>
#include <filesystem>
#include <fstream>
#include <map>
#include <set>
#include <sstream>
#include <thread>

#include "cli/http_client.hpp"
#include "deploy/helm_render.hpp"
#include "kube/cluster_suite.hpp"
#include "kube/helpers.hpp"
#include "kube/manifest.hpp"
#include "kube/permissions.hpp"
#include "kube/subprocess.hpp"

namespace sonde::kube {
namespace {

namespace fs = std::filesystem;
namespace json = boost::json;
using Clock = std::chrono::steady_clock;
using sonde::testing::Base64Decode;
using sonde::testing::ReadFile;

constexpr std::string_view kOperatorNamespace = "kuberhealthy";
constexpr std::string_view kServiceAccountUser = "system:serviceaccount:kuberhealthy:kuberhealthy";

std::string DeployDir() { return std::string(SONDE_SOURCE_DIR) + "/deploy/kubernetes/"; }

template <class Pred>
bool Eventually(Pred pred, std::chrono::milliseconds limit) {
  const auto end = Clock::now() + limit;
  while (Clock::now() < end) {
    if (pred()) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  return pred();
}

// A pointer into `v`: never pass a temporary.
const json::value* At(const json::value& v, std::initializer_list<std::string_view> keys) {
  const json::value* cur = &v;
  for (auto k : keys) {
    cur = cur->is_object() ? cur->get_object().if_contains(k) : nullptr;
    if (cur == nullptr) return nullptr;
  }
  return cur;
}

const json::value* At(json::value&& v, std::initializer_list<std::string_view> keys) = delete;

std::string StringAt(const json::value& v, std::initializer_list<std::string_view> keys) {
  const json::value* s = At(v, keys);
  return s != nullptr && s->is_string() ? std::string(s->get_string()) : "";
}

// kustomization.yaml's resources, in order.
std::vector<std::string> KustomizationResources() {
  std::vector<std::string> out;
  const YAML::Node k = YAML::LoadFile(DeployDir() + "kustomization.yaml");
  for (const auto& r : k["resources"]) out.push_back(r.as<std::string>());
  return out;
}

// Every object of the kustomization, in order, as the requests that create it.
std::vector<ObjectRequest> ShippedObjects() {
  std::vector<ObjectRequest> out;
  for (const std::string& file : KustomizationResources()) {
    auto plan = PlanApply(ReadFile(DeployDir() + file));
    EXPECT_TRUE(plan.ok()) << file << ": " << plan.error();
    if (!plan.ok()) continue;
    for (auto& o : plan.value()) out.push_back(std::move(o));
  }
  return out;
}

ObjectRequest Shipped(std::string_view kind) {
  for (auto& o : ShippedObjects()) {
    if (o.kind == kind) return o;
  }
  ADD_FAILURE() << "deploy/kubernetes has no " << kind;
  return {};
}

class DeployApply : public ClusterSuite<DeployApply> {
 public:
  static ClusterOptions Options() {
    ClusterOptions o;
    o.authorization = Authorization::kRbac;
    return o;
  }

 protected:
  // Creates every shipped object once per suite (the first test does it and checks each answer;
  // the others only need it done).
  static void Install() {
    static bool installed = false;
    if (installed) return;
    installed = true;
    for (ObjectRequest& o : ShippedObjects()) {
      SCOPED_TRACE(o.kind + " " + o.name);
      if (o.kind == "PodDisruptionBudget") {
        InstallPodDisruptionBudget(o);
        continue;
      }
      auto created = cluster().AdminRequest("POST", o.collection, json::serialize(o.body));
      ASSERT_TRUE(created.ok()) << created.error();
      EXPECT_EQ(created.value().status, 201) << created.value().body;
    }
    for (const char* crd : {"khchecks.comcast.github.io", "khjobs.comcast.github.io",
                            "khstates.comcast.github.io", "healthchecks.kuberhealthy.github.io"}) {
      const Status established = cluster().WaitForCrdEstablished(crd);
      EXPECT_TRUE(established.ok()) << established.message();
    }
  }

  // 1.20 has no policy/v1: the shipped object is refused as such and taken, unchanged but for
  // its apiVersion, as policy/v1beta1.
  static void InstallPodDisruptionBudget(ObjectRequest& o) {
    ASSERT_EQ(o.body.at("apiVersion"), "policy/v1");
    auto group = cluster().AdminRequest("GET", "/apis/policy/v1");
    ASSERT_TRUE(group.ok()) << group.error();
    EXPECT_EQ(group.value().status, 404) << group.value().body;
    auto as_v1 = cluster().AdminRequest("POST", o.collection, json::serialize(o.body));
    ASSERT_TRUE(as_v1.ok()) << as_v1.error();
    EXPECT_EQ(as_v1.value().status, 404) << as_v1.value().body;

    o.body["apiVersion"] = "policy/v1beta1";
    auto path = CollectionPath(o.body);
    ASSERT_TRUE(path.ok()) << path.error();
    auto as_v1beta1 = cluster().AdminRequest("POST", path.value(), json::serialize(o.body));
    ASSERT_TRUE(as_v1beta1.ok()) << as_v1beta1.error();
    EXPECT_EQ(as_v1beta1.value().status, 201) << as_v1beta1.value().body;
    const json::value stored = as_v1beta1.value().Json();
    const json::value* min_available = At(stored, {"spec", "minAvailable"});
    ASSERT_NE(min_available, nullptr) << stored;
    EXPECT_EQ(*min_available, o.body.at("spec").at("minAvailable"));
    const json::value* selector = At(stored, {"spec", "selector"});
    ASSERT_NE(selector, nullptr) << stored;
    EXPECT_EQ(*selector, o.body.at("spec").at("selector"));
  }

  // Asks the API server's authorizer whether the ServiceAccount may do this.
  static Result<bool> MayServiceAccount(std::string_view verb, std::string_view group,
                                        std::string_view resource, std::string_view ns) {
    const size_t slash = resource.find('/');
    json::object attributes{{"verb", verb},
                            {"group", group},
                            {"resource", resource.substr(0, slash)},
                            {"namespace", ns}};
    if (slash != std::string_view::npos) attributes["subresource"] = resource.substr(slash + 1);
    const json::object review{
        {"apiVersion", "authorization.k8s.io/v1"},
        {"kind", "SubjectAccessReview"},
        {"spec",
         {{"user", kServiceAccountUser},
          {"groups", json::array{"system:serviceaccounts", "system:serviceaccounts:kuberhealthy",
                                 "system:authenticated"}},
          {"resourceAttributes", attributes}}}};
    auto answer = cluster().AdminRequest(
        "POST", "/apis/authorization.k8s.io/v1/subjectaccessreviews", json::serialize(review));
    if (!answer.ok()) return Result<bool>::Error(answer.error());
    const json::value reply = answer.value().Json();
    const json::value* allowed = At(reply, {"status", "allowed"});
    if (answer.value().status != 201 || allowed == nullptr || !allowed->is_bool()) {
      return Result<bool>::Error("SubjectAccessReview: HTTP " +
                                 std::to_string(answer.value().status) + ": " +
                                 answer.value().body);
    }
    return allowed->get_bool();
  }

  static std::string ServiceAccountToken() {
    std::string token;
    Eventually(
        [&] {
          auto sa = cluster().AdminRequest(
              "GET", "/api/v1/namespaces/kuberhealthy/serviceaccounts/kuberhealthy");
          if (!sa.ok() || sa.value().status != 200) return false;
          const json::value account = sa.value().Json();
          const json::value* secrets = At(account, {"secrets"});
          if (secrets == nullptr || !secrets->is_array() || secrets->get_array().empty()) {
            return false;
          }
          const std::string name = StringAt(secrets->get_array()[0], {"name"});
          auto s = cluster().AdminRequest("GET", "/api/v1/namespaces/kuberhealthy/secrets/" + name);
          if (!s.ok() || s.value().status != 200) return false;
          token = Base64Decode(StringAt(s.value().Json(), {"data", "token"}));
          return !token.empty();
        },
        std::chrono::seconds(30));
    return token;
  }
};

TEST_F(DeployApply, KustomizationListsEveryManifestFile) {
  std::set<std::string> files;
  for (const auto& entry : fs::directory_iterator(DeployDir())) {
    const std::string name = entry.path().filename().string();
    if (entry.path().extension() == ".yaml" && name != "kustomization.yaml") files.insert(name);
  }
  const auto listed = KustomizationResources();
  EXPECT_EQ(std::set<std::string>(listed.begin(), listed.end()), files);
  EXPECT_EQ(listed.size(), files.size()) << "a file listed twice";
}

// Each answer is checked inside Install(); afterwards every object reads back.
TEST_F(DeployApply, EveryShippedObjectIsAcceptedInOrder) {
  Install();
  for (ObjectRequest& o : ShippedObjects()) {
    if (o.kind == "PodDisruptionBudget") o.body["apiVersion"] = "policy/v1beta1";
    auto path = CollectionPath(o.body);
    ASSERT_TRUE(path.ok()) << path.error();
    auto got = cluster().AdminRequest("GET", path.value() + "/" + o.name);
    ASSERT_TRUE(got.ok()) << got.error();
    EXPECT_EQ(got.value().status, 200) << o.kind << " " << o.name << ": " << got.value().body;
  }
  // The pod template passes pod admission (the ServiceAccount, the security context): the
  // ReplicaSet controller creates both replicas' pods (Pending: this cluster has no nodes).
  const ObjectRequest deployment = Shipped("Deployment");
  const int64_t replicas = deployment.body.at("spec").at("replicas").as_int64();
  std::string last;
  EXPECT_TRUE(Eventually(
      [&] {
        auto pods = cluster().AdminRequest(
            "GET",
            "/api/v1/namespaces/kuberhealthy/pods?labelSelector=app.kubernetes.io%2Fname%3Dsonde");
        if (!pods.ok()) return false;
        last = pods.value().body;
        const json::value list = pods.value().Json();
        const json::value* items = At(list, {"items"});
        return items != nullptr && items->is_array() &&
               static_cast<int64_t>(items->get_array().size()) == replicas;
      },
      std::chrono::seconds(30)))
      << last;
}

// The chart's fallback value renders a PodDisruptionBudget that 1.20 accepts.
TEST_F(DeployApply, ChartPodDisruptionBudgetWithV1beta1IsAccepted) {
  using deploy_test::HelmRelease;
  const std::string chart = std::string(SONDE_SOURCE_DIR) + "/deploy/helm/sonde/";
  auto values = deploy_test::WithValue(YAML::LoadFile(chart + "values.yaml"),
                                       "podDisruptionBudget.apiVersion", "policy/v1beta1");
  ASSERT_TRUE(values.ok()) << values.error();
  auto rendered = deploy_test::RenderTemplate(
      ReadFile(chart + "templates/poddisruptionbudget.yaml"), "templates/poddisruptionbudget.yaml",
      values.value(), HelmRelease{.name = "sonde", .name_space = "monitoring"});
  ASSERT_TRUE(rendered.ok()) << rendered.error();
  ASSERT_TRUE(
      cluster().Apply("apiVersion: v1\nkind: Namespace\nmetadata: {name: monitoring}\n").ok());
  auto plan = PlanApply(rendered.value());
  ASSERT_TRUE(plan.ok()) << plan.error();
  ASSERT_EQ(plan.value().size(), 1u);
  const ObjectRequest& pdb = plan.value()[0];
  EXPECT_EQ(pdb.collection, "/apis/policy/v1beta1/namespaces/monitoring/poddisruptionbudgets");
  auto created = cluster().AdminRequest("POST", pdb.collection, json::serialize(pdb.body));
  ASSERT_TRUE(created.ok()) << created.error();
  EXPECT_EQ(created.value().status, 201) << created.value().body;
}

// The server's authorizer, not our reading of the manifests: every (resource, verb) of the
// permissions table is allowed where the table says, every other verb on those resources is
// denied, and so is a list of things the operator must never do.
TEST_F(DeployApply, ServiceAccountMayDoExactlyWhatPermissionsHppLists) {
  Install();
  int reviews = 0;
  for (const Permission& p : kOperatorPermissions) {
    std::vector<std::pair<std::string_view, bool>> places;  // namespace ("" = all), in scope
    if (p.scope == Scope::kCluster) {
      places = {{"", true}, {"team-a", true}, {kOperatorNamespace, true}};
    } else {
      places = {{kOperatorNamespace, true}, {"team-a", false}, {"", false}};
    }
    for (size_t bit = 0; bit < kVerbNames.size(); ++bit) {
      const bool granted = (p.verbs & (1u << bit)) != 0;
      for (const auto& [ns, in_scope] : places) {
        SCOPED_TRACE(std::string(kVerbNames[bit]) + " " + std::string(p.api_group) + "/" +
                     std::string(p.resource) + " in namespace \"" + std::string(ns) + "\"");
        auto allowed = MayServiceAccount(kVerbNames[bit], p.api_group, p.resource, ns);
        ASSERT_TRUE(allowed.ok()) << allowed.error();
        EXPECT_EQ(allowed.value(), granted && in_scope);
        ++reviews;
      }
    }
  }
  EXPECT_EQ(reviews, static_cast<int>(kOperatorPermissions.size() * kVerbNames.size() * 3));

  struct Forbidden {
    std::string_view verb, group, resource, ns;
  };
  const Forbidden forbidden[] = {
      {"delete", "", "namespaces", ""},
      {"create", "", "namespaces", ""},
      {"get", "", "secrets", kOperatorNamespace},
      {"list", "", "secrets", ""},
      {"watch", "", "secrets", "team-a"},
      {"get", "", "configmaps", "team-a"},
      {"update", "", "configmaps", kOperatorNamespace},
      {"update", "", "pods", "team-a"},
      {"patch", "", "pods", "team-a"},
      {"create", "", "pods/exec", "team-a"},
      {"get", "", "pods/log", "team-a"},
      {"create", "", "serviceaccounts/token", kOperatorNamespace},
      {"update", "", "serviceaccounts", kOperatorNamespace},
      {"create", "apps", "deployments", kOperatorNamespace},
      {"update", "apps", "deployments", kOperatorNamespace},
      {"delete", "comcast.github.io", "khchecks", "team-a"},
      {"create", "kuberhealthy.github.io", "healthchecks", "team-a"},
      {"delete", "kuberhealthy.github.io", "healthchecks", "team-a"},
      {"delete", "coordination.k8s.io", "leases", kOperatorNamespace},
      {"create", "rbac.authorization.k8s.io", "clusterrolebindings", ""},
      {"escalate", "rbac.authorization.k8s.io", "clusterroles", ""},
      {"bind", "rbac.authorization.k8s.io", "clusterroles", ""},
      {"impersonate", "", "serviceaccounts", ""},
      {"update", "apiextensions.k8s.io", "customresourcedefinitions", ""},
  };
  for (const Forbidden& f : forbidden) {
    SCOPED_TRACE(std::string(f.verb) + " " + std::string(f.group) + "/" + std::string(f.resource) +
                 " in namespace \"" + std::string(f.ns) + "\"");
    auto allowed = MayServiceAccount(f.verb, f.group, f.resource, f.ns);
    ASSERT_TRUE(allowed.ok()) << allowed.error();
    EXPECT_FALSE(allowed.value());
  }

  // The reviews' user is the identity the ServiceAccount's own token authenticates as.
  const std::string token = ServiceAccountToken();
  ASSERT_FALSE(token.empty()) << "no token for the kuberhealthy ServiceAccount";
  auto secrets = cluster().Request("GET", "/api/v1/namespaces/kuberhealthy/secrets", "", token);
  ASSERT_TRUE(secrets.ok()) << secrets.error();
  EXPECT_EQ(secrets.value().status, 403) << secrets.value().body;
  EXPECT_NE(secrets.value().body.find(kServiceAccountUser), std::string::npos)
      << secrets.value().body;
  auto checks = cluster().Request("GET", "/apis/comcast.github.io/v1/khchecks", "", token);
  ASSERT_TRUE(checks.ok()) << checks.error();
  EXPECT_EQ(checks.value().status, 200) << checks.value().body;
}

// The kubelet's view of the Deployment's one container: its args, its environment with the
// downward API's fields filled in, its ConfigMap mounted as files.
struct Container {
  std::vector<std::string> argv;  // ["serve", "--kube"]
  std::vector<std::pair<std::string, std::string>> env;
  std::string readiness_path;
};

// What the downward API would give a replica scheduled on node-a. The pod IP is one that only
// POD_IP can yield (the daemon would otherwise advertise its listen address, 127.0.0.1); nothing
// connects to it here.
const std::map<std::string, std::string> kDownward = {{"metadata.name", "kuberhealthy-6d4f-x7k2p"},
                                                      {"metadata.namespace", "kuberhealthy"},
                                                      {"status.podIP", "127.0.0.7"},
                                                      {"spec.nodeName", "node-a"}};

// Reads the shipped Deployment and materialises its ConfigMap mounts under `root`.
Container ShippedContainer(const std::string& root) {
  Container out;
  const json::object deployment = Shipped("Deployment").body;
  const json::object config_map = Shipped("ConfigMap").body;
  const json::object& pod = deployment.at("spec").at("template").at("spec").as_object();
  const json::array& containers = pod.at("containers").as_array();
  EXPECT_EQ(containers.size(), 1u);
  const json::object& c = containers.at(0).as_object();
  for (const auto& a : c.at("args").as_array()) out.argv.emplace_back(a.as_string());
  out.readiness_path = StringAt(c, {"readinessProbe", "httpGet", "path"});

  std::map<std::string, std::string> config_volumes;  // volume name -> ConfigMap name
  for (const auto& v : pod.at("volumes").as_array()) {
    const std::string cm = StringAt(v, {"configMap", "name"});
    if (!cm.empty()) config_volumes[StringAt(v, {"name"})] = cm;
  }
  std::vector<std::string> mount_paths;
  for (const auto& m : c.at("volumeMounts").as_array()) {
    auto it = config_volumes.find(StringAt(m, {"name"}));
    if (it == config_volumes.end()) continue;
    EXPECT_EQ(it->second, StringAt(config_map, {"metadata", "name"}));
    const std::string path = StringAt(m, {"mountPath"});
    fs::create_directories(root + path);
    for (const auto& [key, value] : config_map.at("data").as_object()) {
      std::ofstream(root + path + "/" + std::string(key)) << std::string_view(value.as_string());
    }
    mount_paths.push_back(path);
  }
  for (const auto& e : c.at("env").as_array()) {
    const std::string name = StringAt(e, {"name"});
    if (const json::value* value = At(e, {"value"}); value != nullptr) {
      std::string v(value->as_string());
      for (const auto& path : mount_paths) {
        if (v.rfind(path + "/", 0) == 0) v = root + v;
      }
      out.env.emplace_back(name, v);
      continue;
    }
    const std::string field = StringAt(e, {"valueFrom", "fieldRef", "fieldPath"});
    auto it = kDownward.find(field);
    EXPECT_NE(it, kDownward.end()) << "env " << name << ": no stand-in for " << e;
    if (it != kDownward.end()) out.env.emplace_back(name, it->second);
  }
  return out;
}

// Requests the API server has served for the four check resources (its
// apiserver_request_total, every verb and code).
double CheckResourceRequests(const std::string& metrics) {
  double total = 0;
  std::istringstream lines(metrics);
  for (std::string line; std::getline(lines, line);) {
    if (line.rfind("apiserver_request_total{", 0) != 0) continue;
    for (const char* r : {"khchecks", "khjobs", "khstates", "healthchecks"}) {
      if (line.find(std::string("resource=\"") + r + "\"") != std::string::npos) {
        total += std::stod(line.substr(line.rfind(' ') + 1));
      }
    }
  }
  return total;
}

// A port the kernel just handed out on 127.0.0.1 (0 when it would not).
uint16_t FreeLoopbackPort() {
  const int fd = socket(AF_INET, SOCK_STREAM, 0);
  if (fd < 0) return 0;
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof(addr);
  const bool ok = bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) == 0 &&
                  getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) == 0;
  close(fd);
  return ok ? ntohs(addr.sin_port) : 0;
}

TEST_F(DeployApply, DeploymentsContainerServesLeadsAndPublishesItsPodAddress) {
  Install();
  const std::string token = ServiceAccountToken();
  ASSERT_FALSE(token.empty());
  const std::string root = cluster().dir() + "/pod";
  fs::create_directories(root + "/state");
  const Container c = ShippedContainer(root);
  ASSERT_FALSE(HasFailure());
  std::ofstream(root + "/kubeconfig")
      << R"(apiVersion: v1
kind: Config
current-context: sa
clusters: [{name: test, cluster: {server: ")"
      << cluster().server() << R"(", certificate-authority: ")" << cluster().ca_file() << R"("}}]
users: [{name: kuberhealthy, user: {token: ")"
      << token << R"("}}]
contexts: [{name: sa, context: {cluster: test, user: kuberhealthy}}]
)";
  const uint16_t port = FreeLoopbackPort();
  ASSERT_NE(port, 0);
  // What a pod has that this test must stand in for: its own network namespace (so the
  // config's 0.0.0.0:8080 becomes a free loopback port), the emptyDir state volume, and the
  // mounted ServiceAccount token (a kubeconfig naming it, instead of KUBERNETES_SERVICE_HOST).
  std::vector<std::string> argv = {"/usr/bin/env", "-i"};
  for (const auto& [k, v] : c.env) argv.push_back(k + "=" + v);
  for (const std::string& s :
       {"SONDE_LISTEN=127.0.0.1:" + std::to_string(port), "SONDE_STATE_DIR=" + root + "/state",
        "KUBECONFIG=" + root + "/kubeconfig", "HOME=" + root}) {
    argv.push_back(s);
  }
  argv.push_back(std::string(SONDE_BINARY_DIR) + "/sonde");
  argv.insert(argv.end(), c.argv.begin(), c.argv.end());
  auto process = ServerProcess::Start("sonde", argv, root + "/sonde.log");
  ASSERT_TRUE(process.ok()) << process.error();
  const std::string url = "http://127.0.0.1:" + std::to_string(port);
  const auto log = [&] { return TailOfFile(root + "/sonde.log", 40); };

  EXPECT_TRUE(Eventually(
      [&] {
        auto r = HttpCall("GET", url + c.readiness_path);
        return r.ok() && r.value().status == 200;
      },
      std::chrono::seconds(30)))
      << log();

  // It leads, under the Lease in its own namespace, named by POD_NAME, with the Deployment's
  // lease duration, and tells followers to forward reports to POD_IP.
  std::string lease_duration;
  for (const auto& [k, v] : c.env) {
    if (k == "SONDE_LEASE_DURATION") lease_duration = v;
  }
  ASSERT_EQ(lease_duration, "15s");
  json::value lease;
  EXPECT_TRUE(Eventually(
      [&] {
        auto r =
            cluster().AdminRequest("GET",
                                   "/apis/coordination.k8s.io/v1/namespaces/kuberhealthy/leases/"
                                   "kuberhealthy-controller");
        lease = r.ok() ? r.value().Json() : json::value(nullptr);
        return StringAt(lease, {"spec", "holderIdentity"}) == kDownward.at("metadata.name");
      },
      std::chrono::seconds(20)))
      << lease << log();
  const json::value* duration = At(lease, {"spec", "leaseDurationSeconds"});
  ASSERT_NE(duration, nullptr) << lease;
  EXPECT_EQ(*duration, 15);
  EXPECT_EQ(StringAt(lease, {"metadata", "annotations", "sonde.dev/reporting-url"}),
            "http://127.0.0.7:" + std::to_string(port));

  // Under the ServiceAccount it reads all four check resources: the status page lists no error.
  auto page = HttpCall("GET", url + "/");
  ASSERT_TRUE(page.ok()) << page.error();
  boost::system::error_code ec;
  const json::value status = json::parse(page.value().body, ec);
  ASSERT_FALSE(ec) << page.value().body;
  const json::value* errors = At(status, {"Errors"});
  ASSERT_NE(errors, nullptr) << status;
  EXPECT_TRUE(errors->is_array() && errors->get_array().empty()) << status << log();
  auto metrics = HttpCall("GET", url + "/metrics");
  ASSERT_TRUE(metrics.ok()) << metrics.error();
  EXPECT_NE(metrics.value().body.find("\nkuberhealthy_controller_leader 1"), std::string::npos)
      << metrics.value().body;

  // Read paths are served from the watch caches: a hundred status pages and scrapes make no
  // request for the check resources (the API server counts them; nothing else touches these).
  const auto check_reads = [&] {
    auto m = cluster().AdminRequest("GET", "/metrics");
    return m.ok() ? CheckResourceRequests(m.value().body) : -1.0;
  };
  const double reads_before = check_reads();
  ASSERT_GE(reads_before, 4.0) << "the informers' lists are not counted: the check is blind";
  for (int i = 0; i < 25; ++i) {
    for (const char* path : {"/", "/json", "/metrics", "/api/checks"}) {
      auto r = HttpCall("GET", url + path);
      ASSERT_TRUE(r.ok() && r.value().status == 200) << path;
    }
  }
  EXPECT_EQ(check_reads(), reads_before);

  // SIGTERM (as at a rollout) releases the Lease for the next replica within the grace period.
  process.value()->Stop(std::chrono::seconds(10));
  std::string how;
  EXPECT_TRUE(process.value()->Exited(&how));
  EXPECT_EQ(how, "exited with status 0") << log();
  auto released = cluster().AdminRequest(
      "GET", "/apis/coordination.k8s.io/v1/namespaces/kuberhealthy/leases/kuberhealthy-controller");
  ASSERT_TRUE(released.ok()) << released.error();
  EXPECT_EQ(StringAt(released.value().Json(), {"spec", "holderIdentity"}), "") << log();
}

}  // namespace
}  // namespace sonde::kube
