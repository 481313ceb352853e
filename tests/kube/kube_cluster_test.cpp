// The Kubernetes test fixture against the real kube-apiserver v1.20.2: what Sonde's operator
// tests rely on (auth, namespaces, CRDs, watches, Leases, RBAC, Pods, garbage collection).
#include <gtest/gtest.h>
#include <unistd.h>
#include <yaml-cpp/yaml.h>

#include <boost/json.hpp>
#include <cstdlib>
#include <thread>

#include "kube/cluster_suite.hpp"
#include "kube/subprocess.hpp"

namespace sonde::kube {
namespace {

namespace json = boost::json;

// Polls `pred` every 100 ms until it holds or `limit` passes.
template <class Pred>
bool Eventually(Pred pred, std::chrono::milliseconds limit = std::chrono::seconds(20)) {
  const auto end = std::chrono::steady_clock::now() + limit;
  while (std::chrono::steady_clock::now() < end) {
    if (pred()) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  return pred();
}

std::string StringAt(const json::value& v, std::initializer_list<std::string_view> keys) {
  const json::value* cur = &v;
  for (auto k : keys) {
    cur = cur->is_object() ? cur->get_object().if_contains(k) : nullptr;
    if (cur == nullptr) return "";
  }
  return cur->is_string() ? std::string(cur->get_string()) : json::serialize(*cur);
}

// Whether an admin request answers `want`; the answer's body in the failure message.
::testing::AssertionResult AdminAnswers(const TestCluster& cluster, std::string_view method,
                                        const std::string& path, std::string_view body, int want) {
  auto r = cluster.AdminRequest(method, path, body);
  if (!r.ok()) return ::testing::AssertionFailure() << r.error();
  if (r.value().status != want) {
    return ::testing::AssertionFailure() << method << " " << path << ": HTTP " << r.value().status
                                         << ", want " << want << ": " << r.value().body;
  }
  return ::testing::AssertionSuccess();
}

constexpr std::string_view kWidgetCrd = R"(
apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata:
  name: widgets.sonde.test
spec:
  group: sonde.test
  scope: Namespaced
  names: {plural: widgets, singular: widget, kind: Widget}
  versions:
    - name: v1
      served: true
      storage: true
      subresources: {status: {}}
      schema:
        openAPIV3Schema:
          type: object
          properties:
            spec:
              type: object
              properties:
                size: {type: integer}
)";

TEST(TestClusterStart, FailsWithTheLogTailWhenAComponentDoesNotComeUp) {
  ClusterOptions options;
  options.controller_manager = false;
  options.extra_apiserver_flags = {"--no-such-flag=1"};
  auto started = TestCluster::Start(options);
  ASSERT_FALSE(started.ok());
  EXPECT_NE(started.error().find("kube-apiserver exited with status"), std::string::npos)
      << started.error();
  EXPECT_NE(started.error().find("unknown flag: --no-such-flag"), std::string::npos)
      << "the log's tail: " << started.error();
}

TEST(TestClusterStart, FailsLoudlyWhenTheBinariesAreMissing) {
  const char* before = std::getenv("SONDE_KUBE_CACHE");
  const std::string saved = before != nullptr ? before : "";
  setenv("SONDE_KUBE_CACHE", "/nonexistent/sonde-kube-cache", 1);
  auto started = TestCluster::Start();
  if (before != nullptr) {
    setenv("SONDE_KUBE_CACHE", saved.c_str(), 1);
  } else {
    unsetenv("SONDE_KUBE_CACHE");
  }
  ASSERT_FALSE(started.ok());
  EXPECT_EQ(started.error(),
            "kube-apiserver not built: run scripts/kube-build.sh (or `make test`, which runs it); "
            "looked for /nonexistent/sonde-kube-cache/bin/kube-apiserver");
}

class KubeCluster : public ClusterSuite<KubeCluster> {};

TEST_F(KubeCluster, ServesVersion_v1_20_2) {
  auto r = cluster().AdminRequest("GET", "/version");
  ASSERT_TRUE(r.ok()) << r.error();
  ASSERT_EQ(r.value().status, 200) << r.value().body;
  EXPECT_EQ(StringAt(r.value().Json(), {"gitVersion"}), "v1.20.2") << r.value().body;
  EXPECT_EQ(StringAt(r.value().Json(), {"minor"}), "20");
}

TEST_F(KubeCluster, RejectsRequestsWithoutAValidToken) {
  struct Case {
    std::string name, token;
    int want;
  };
  const std::vector<Case> cases = {{"no token", "", 401},
                                   {"unknown token", "not-a-token", 401},
                                   {"admin token", cluster().admin_token(), 200}};
  for (const Case& c : cases) {
    auto r = cluster().Request("GET", "/api/v1/namespaces", "", c.token);
    ASSERT_TRUE(r.ok()) << c.name << ": " << r.error();
    EXPECT_EQ(r.value().status, c.want) << c.name << ": " << r.value().body;
  }
}

TEST_F(KubeCluster, AdminCreatesANamespaceAndApplyReplacesIt) {
  const std::string ns =
      "apiVersion: v1\nkind: Namespace\nmetadata:\n  name: sonde-ns\n"
      "  labels: {round: \"one\"}\n";
  ASSERT_TRUE(cluster().Apply(ns).ok());
  // Applying again replaces the object instead of failing with AlreadyExists.
  const Status again = cluster().Apply(
      "apiVersion: v1\nkind: Namespace\nmetadata:\n  name: sonde-ns\n  labels: {round: two}\n");
  ASSERT_TRUE(again.ok()) << again.message();
  auto r = cluster().AdminRequest("GET", "/api/v1/namespaces/sonde-ns");
  ASSERT_TRUE(r.ok()) << r.error();
  ASSERT_EQ(r.value().status, 200) << r.value().body;
  EXPECT_EQ(StringAt(r.value().Json(), {"metadata", "labels", "round"}), "two");
}

TEST_F(KubeCluster, CrdBecomesEstablishedAndValidatesCustomResources) {
  const Status applied = cluster().Apply(kWidgetCrd);
  ASSERT_TRUE(applied.ok()) << applied.message();
  const Status established = cluster().WaitForCrdEstablished("widgets.sonde.test");
  ASSERT_TRUE(established.ok()) << established.message();
  const std::string widgets = "/apis/sonde.test/v1/namespaces/default/widgets";
  EXPECT_TRUE(AdminAnswers(cluster(), "POST", widgets,
                           R"({"apiVersion":"sonde.test/v1","kind":"Widget",
                          "metadata":{"name":"w1"},"spec":{"size":3}})",
                           201));
  // The structural schema is enforced: a string where an integer belongs is refused.
  EXPECT_TRUE(AdminAnswers(cluster(), "POST", widgets,
                           R"({"apiVersion":"sonde.test/v1","kind":"Widget",
                          "metadata":{"name":"w2"},"spec":{"size":"big"}})",
                           422));
  auto r = cluster().AdminRequest("GET", widgets + "/w1");
  ASSERT_TRUE(r.ok()) << r.error();
  EXPECT_EQ(StringAt(r.value().Json(), {"spec", "size"}), "3") << r.value().body;
}

TEST_F(KubeCluster, WatchFromAResourceVersionSendsTheAddedEvent) {
  const std::string collection = "/api/v1/namespaces/default/configmaps";
  auto list = cluster().AdminRequest("GET", collection);
  ASSERT_TRUE(list.ok()) << list.error();
  const std::string rv = StringAt(list.value().Json(), {"metadata", "resourceVersion"});
  ASSERT_FALSE(rv.empty()) << list.value().body;
  EXPECT_TRUE(AdminAnswers(cluster(), "POST", collection,
                           R"({"metadata":{"name":"watched"},"data":{"k":"v"}})", 201));

  auto watch = cluster().Request(
      "GET", collection + "?watch=1&allowWatchBookmarks=true&resourceVersion=" + rv, "",
      cluster().admin_token(), {.timeout = std::chrono::seconds(3)});
  ASSERT_TRUE(watch.ok()) << watch.error();
  EXPECT_TRUE(watch.value().timed_out) << "a watch stays open until the client's deadline";
  EXPECT_EQ(watch.value().status, 200);
  // One JSON event per line.
  const std::string& events = watch.value().body;
  const std::string first = events.substr(0, events.find('\n'));
  boost::system::error_code ec;
  const json::value event = json::parse(first, ec);
  ASSERT_FALSE(ec) << "not a JSON event: " << events;
  EXPECT_EQ(StringAt(event, {"type"}), "ADDED");
  EXPECT_EQ(StringAt(event, {"object", "metadata", "name"}), "watched");
}

TEST_F(KubeCluster, LeaseUpdateWithAStaleResourceVersionConflicts) {
  ASSERT_TRUE(cluster()
                  .Apply("apiVersion: coordination.k8s.io/v1\nkind: Lease\nmetadata:\n"
                         "  name: sonde-leader\nspec:\n  holderIdentity: a\n"
                         "  leaseDurationSeconds: 15\n")
                  .ok());
  const std::string path = "/apis/coordination.k8s.io/v1/namespaces/default/leases/sonde-leader";
  auto got = cluster().AdminRequest("GET", path);
  ASSERT_TRUE(got.ok()) << got.error();
  json::value lease = got.value().Json();
  ASSERT_TRUE(lease.is_object()) << got.value().body;

  lease.at("spec").as_object()["holderIdentity"] = "b";
  EXPECT_TRUE(AdminAnswers(cluster(), "PUT", path, json::serialize(lease), 200));
  // The same resourceVersion again: someone else (the "b" update) won.
  lease.at("spec").as_object()["holderIdentity"] = "c";
  EXPECT_TRUE(AdminAnswers(cluster(), "PUT", path, json::serialize(lease), 409));
}

TEST_F(KubeCluster, PodIsCreatedInDefaultAndStaysPending) {
  EXPECT_TRUE(AdminAnswers(cluster(), "POST", "/api/v1/namespaces/default/pods",
                           R"({"metadata":{"name":"checker"},
                          "spec":{"containers":[{"name":"main","image":"busybox"}]}})",
                           201));
  auto r = cluster().AdminRequest("GET", "/api/v1/namespaces/default/pods/checker");
  ASSERT_TRUE(r.ok()) << r.error();
  EXPECT_EQ(StringAt(r.value().Json(), {"spec", "serviceAccountName"}), "default");
  EXPECT_EQ(StringAt(r.value().Json(), {"status", "phase"}), "Pending") << "there is no kubelet";
}

TEST_F(KubeCluster, ControllerManagerCollectsGarbageByOwnerReference) {
  const std::string cms = "/api/v1/namespaces/default/configmaps";
  auto owner = cluster().AdminRequest("POST", cms, R"({"metadata":{"name":"owner"}})");
  ASSERT_TRUE(owner.ok()) << owner.error();
  ASSERT_EQ(owner.value().status, 201) << owner.value().body;
  const std::string uid = StringAt(owner.value().Json(), {"metadata", "uid"});
  EXPECT_TRUE(AdminAnswers(cluster(), "POST", cms,
                           R"({"metadata":{"name":"owned","ownerReferences":[{"apiVersion":"v1",
                          "kind":"ConfigMap","name":"owner","uid":")" +
                               uid + R"("}]}})",
                           201));
  EXPECT_TRUE(AdminAnswers(cluster(), "DELETE", cms + "/owner", "", 200));
  EXPECT_TRUE(Eventually([&] {
    auto r = cluster().AdminRequest("GET", cms + "/owned");
    return r.ok() && r.value().status == 404;
  })) << "kube-controller-manager log:\n"
      << cluster().LogTail("kube-controller-manager");
}

class KubeRbac : public ClusterSuite<KubeRbac> {
 public:
  static ClusterOptions Options() { return {.authorization = Authorization::kRbac}; }
};

int PodsListStatus(const TestCluster& cluster, const std::string& user) {
  auto r = cluster.Request("GET", "/api/v1/namespaces/default/pods", "", cluster.token(user));
  EXPECT_TRUE(r.ok()) << r.error();
  return r.ok() ? r.value().status : -1;
}

TEST_F(KubeRbac, UserIsForbiddenUntilAClusterRoleIsBound) {
  EXPECT_EQ(PodsListStatus(cluster(), "sonde"), 403);
  EXPECT_EQ(PodsListStatus(cluster(), "admin"), 200) << "system:masters";
  const Status applied = cluster().Apply(R"(
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRole
metadata:
  name: sonde-pod-reader
rules:
  - apiGroups: [""]
    resources: [pods]
    verbs: [get, list, watch]
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRoleBinding
metadata:
  name: sonde-pod-reader
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: sonde-pod-reader}
subjects:
  - {apiGroup: rbac.authorization.k8s.io, kind: User, name: sonde}
)");
  ASSERT_TRUE(applied.ok()) << applied.message();
  EXPECT_TRUE(Eventually([&] { return PodsListStatus(cluster(), "sonde") == 200; }));
  EXPECT_EQ(PodsListStatus(cluster(), "viewer"), 403) << "the binding names sonde only";
}

// What a client reading the kubeconfig would send: its server, CA and credentials, with curl.
std::string PodsListStatusWithKubeconfig(const std::string& path) {
  const YAML::Node config = YAML::LoadFile(path);
  const YAML::Node cluster = config["clusters"][0]["cluster"];
  const YAML::Node user = config["users"][0]["user"];
  EXPECT_EQ(config["current-context"].as<std::string>(), "sonde-test");
  std::vector<std::string> argv = {
      "curl",       "-sS",
      "-o",         "/dev/null",
      "-w",         "%{http_code}",
      "--max-time", "10",
      "--cacert",   cluster["certificate-authority"].as<std::string>()};
  if (user["token"]) {
    argv.insert(argv.end(), {"-H", "Authorization: Bearer " + user["token"].as<std::string>()});
  } else {
    argv.insert(argv.end(), {"--cert", user["client-certificate"].as<std::string>(), "--key",
                             user["client-key"].as<std::string>()});
  }
  argv.push_back(cluster["server"].as<std::string>() + "/api/v1/namespaces/default/pods");
  auto r = RunCommand(argv, "", std::chrono::seconds(20));
  EXPECT_TRUE(r.ok()) << r.error();
  return r.ok() ? r.value().out + r.value().err : "";
}

TEST_F(KubeRbac, KubeconfigsAuthenticateByTokenOrClientCertificate) {
  struct Case {
    std::string name;
    KubeconfigAuth auth;
    std::string want;
  };
  const std::vector<Case> cases = {
      {"admin token", KubeconfigAuth::Token("admin"), "200"},
      {"client certificate (system:masters)", KubeconfigAuth::ClientCert(), "200"},
      {"viewer token, no role", KubeconfigAuth::Token("viewer"), "403"},
  };
  for (const Case& c : cases) {
    const std::string path = cluster().dir() + "/test.kubeconfig";
    const Status written = cluster().WriteKubeconfig(path, c.auth);
    ASSERT_TRUE(written.ok()) << c.name << ": " << written.message();
    EXPECT_EQ(PodsListStatusWithKubeconfig(path), c.want) << c.name;
    unlink(path.c_str());
  }
  EXPECT_FALSE(cluster().WriteKubeconfig("/dev/null", KubeconfigAuth::Token("nobody")).ok());
}

}  // namespace
}  // namespace sonde::kube
