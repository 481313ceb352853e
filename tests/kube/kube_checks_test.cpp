// Sonde's Kubernetes bundled checks (`sonde check pod-restarts|pod-status|namespace-pod-check|
// resource-quota`) against the real kube-apiserver v1.20.2 with RBAC. Each check runs as a
// subprocess, as in a checker pod: KUBECONFIG holds the token of a user bound only to the
// check's ClusterRole as docs/probes-and-checks.md gives it, KH_REPORTING_URL points at a
// loopback server that records the report. The objects each check must judge are made as admin:
// pods (their status PATCHed, as a kubelet would), kubelet-style BackOff events, quotas filled
// by real pods (the quota admission and controller count them), a namespace held in
// Terminating by a finalizer.
#include <gtest/gtest.h>

#include <boost/json.hpp>
#include <ctime>
#include <fstream>
#include <mutex>
#include <regex>
#include <sstream>
#include <thread>

#include "kube/cluster_suite.hpp"
#include "kube/helpers.hpp"
#include "kube/kubelet_standin.hpp"
#include "kube/proxy_standin.hpp"
#include "probe/test_dns.hpp"
#include "server/test_server.hpp"
#include "support/checks.hpp"
#include "support/daemon_process.hpp"

namespace sonde::kube {
namespace {

namespace json = boost::json;
namespace asio = boost::asio;
using sonde::testing::Eventually;
using sonde::testing::ReadFile;
using sonde::testing::TempDir;
json::value At(const json::value& v, std::initializer_list<std::string_view> keys) {
  return sonde::testing::JsonAt(v, keys);
}

const char* const kCheckUsers[] = {"pod-restarts",   "pod-status", "namespace-pod",
                                   "resource-quota", "dns",        "deployment"};

std::string DocumentedRoles() { return testing::DocumentedRoles(SONDE_SOURCE_DIR); }

class KubeChecks : public ClusterSuite<KubeChecks> {
 public:
  static ClusterOptions Options() {
    ClusterOptions o;
    o.authorization = Authorization::kRbac;
    o.users.assign(std::begin(kCheckUsers), std::end(kCheckUsers));
    return o;
  }

 protected:
  void SetUp() override {
    ClusterSuite::SetUp();
    if (HasFatalFailure()) return;
    static bool roles_bound = false;
    if (roles_bound) return;
    const std::string roles = DocumentedRoles();
    ASSERT_FALSE(roles.empty()) << "no ClusterRoles block in docs/probes-and-checks.md";
    Status applied = cluster().Apply(roles);
    ASSERT_TRUE(applied.ok()) << applied.message();
    const std::pair<const char*, const char*> bindings[] = {
        {"pod-restarts", "sonde-pod-restarts-check"},
        {"pod-status", "sonde-pod-status-check"},
        {"namespace-pod", "sonde-namespace-pod-check"},
        {"resource-quota", "sonde-resource-quota-check"},
        {"dns", "sonde-dns-check"},
        {"deployment", "sonde-deployment-check"}};
    for (auto [user, role] : bindings) {
      applied = cluster().Apply(testing::ClusterRoleBindingYaml(role, user));
      ASSERT_TRUE(applied.ok()) << applied.message();
    }
    roles_bound = true;
  }

  json::value Admin(std::string_view method, const std::string& path, const json::value& body) {
    auto r = cluster().Request(
        method, path, json::serialize(body), cluster().admin_token(),
        {.content_type = method == "PATCH" ? "application/merge-patch+json" : "application/json"});
    EXPECT_TRUE(r.ok()) << (r.ok() ? "" : r.error());
    if (!r.ok()) return nullptr;
    EXPECT_LT(r.value().status, 300) << method << " " << path << ": " << r.value().body;
    return r.value().Json();
  }

  // A namespace whose `default` service account has its token (pods are refused until then:
  // "no API token found for service account", in 1.20).
  void CreateNamespace(const std::string& ns, json::object meta = {}) {
    meta["name"] = ns;
    Admin("POST", "/api/v1/namespaces", {{"metadata", meta}});
    EXPECT_TRUE(Eventually([&] { return testing::DefaultServiceAccountHasToken(cluster(), ns); }))
        << "no token for the default service account in " << ns;
  }

  void CreatePod(const std::string& ns, const std::string& name, json::object resources = {},
                 json::object labels = {}) {
    Admin(
        "POST", "/api/v1/namespaces/" + ns + "/pods",
        {{"metadata", {{"name", name}, {"labels", labels}}},
         {"spec",
          {{"containers", {{{"name", "main"}, {"image", "busybox"}, {"resources", resources}}}}}}});
  }

  void SetPodStatus(const std::string& ns, const std::string& name, json::object status) {
    Admin("PATCH", "/api/v1/namespaces/" + ns + "/pods/" + name + "/status",
          {{"status", std::move(status)}});
  }

  // A Warning event as the kubelet records a container's restart back-off.
  void CreateEvent(const std::string& ns, const std::string& pod, const std::string& reason,
                   int count) {
    static int n = 0;
    const std::string now = "2026-01-01T00:00:00Z";
    Admin("POST", "/api/v1/namespaces/" + ns + "/events",
          {{"metadata", {{"name", pod + "." + std::to_string(++n)}}},
           {"involvedObject",
            {{"kind", "Pod"}, {"namespace", ns}, {"name", pod}, {"apiVersion", "v1"}}},
           {"reason", reason},
           {"message", "Back-off restarting failed container"},
           {"type", "Warning"},
           {"count", count},
           {"source", {{"component", "kubelet"}}},
           {"firstTimestamp", now},
           {"lastTimestamp", now}});
  }

  struct Report {
    int exit_code = -1;
    json::value body;  // the report received, null when none came
    std::string stderr_text;
  };

  // Runs `sonde check kind` as `user` with exactly `env` (and the Kuberhealthy variables).
  Report RunCheck(const std::string& kind, const std::string& user,
                  const std::vector<std::string>& env, int deadline_seconds = 60) {
    std::mutex mu;
    std::vector<std::string> bodies;
    sonde::testing::TestServer sink([&](HttpRequest r) -> asio::awaitable<HttpResponse> {
      std::lock_guard lock(mu);
      bodies.push_back(r.body);
      co_return HttpResponse::Text(200, "ok");
    });
    const std::string kubeconfig = dir_.path() + "/" + user + ".kubeconfig";
    Status written = cluster().WriteKubeconfig(kubeconfig, KubeconfigAuth::Token(user));
    EXPECT_TRUE(written.ok()) << written.message();
    std::vector<std::string> argv = {
        "/usr/bin/env",
        "-i",
        "HOME=" + dir_.path(),
        "KUBECONFIG=" + kubeconfig,
        "KH_REPORTING_URL=http://127.0.0.1:" + std::to_string(sink.port()) + "/check",
        "KH_RUN_UUID=run-" + kind,
        "KH_CHECK_RUN_DEADLINE=" + std::to_string(std::time(nullptr) + deadline_seconds)};
    argv.insert(argv.end(), env.begin(), env.end());
    argv.insert(argv.end(), {sonde::testing::SondeBinary(), "check", kind});
    auto ran = RunCommand(argv, "", std::chrono::seconds(deadline_seconds + 30));
    Report report;
    EXPECT_TRUE(ran.ok()) << (ran.ok() ? "" : ran.error());
    if (!ran.ok()) return report;
    report.exit_code = ran.value().exit_code;
    report.stderr_text = ran.value().err;
    std::lock_guard lock(mu);
    EXPECT_EQ(bodies.size(), 1u) << "reports received; stderr: " << ran.value().err;
    if (!bodies.empty()) report.body = json::parse(bodies.back());
    return report;
  }

  // The stand-ins' identity.
  static ClusterConfig AdminConfig() {
    ClusterConfig admin;
    admin.server = cluster().server();
    admin.ca_pem = ReadFile(cluster().ca_file());
    admin.token = cluster().admin_token();
    return admin;
  }

  static uint16_t FreePort() {
    asio::io_context io;
    asio::ip::tcp::acceptor a(io, {asio::ip::make_address("127.0.0.1"), 0});
    return a.local_endpoint().port();
  }

  // No Deployment, ReplicaSet, Service or pod is left in `ns`.
  void ExpectNothingLeft(const std::string& ns) {
    for (const std::string& path :
         {"/apis/apps/v1/namespaces/" + ns + "/deployments",
          "/apis/apps/v1/namespaces/" + ns + "/replicasets",
          "/api/v1/namespaces/" + ns + "/services", "/api/v1/namespaces/" + ns + "/pods"}) {
      auto r = cluster().AdminRequest("GET", path);
      ASSERT_TRUE(r.ok()) << r.error();
      const json::value items = At(r.value().Json(), {"items"});
      ASSERT_TRUE(items.is_array()) << path << ": " << r.value().body;
      EXPECT_EQ(items.as_array().size(), 0u) << path << ": " << r.value().body;
    }
  }

  static json::value Ok() { return json::parse(R"({"OK":true,"Errors":[]})"); }
  static json::value Failed(std::initializer_list<std::string> errors) {
    json::array a;
    for (const std::string& e : errors) a.emplace_back(e);
    return {{"OK", false}, {"Errors", std::move(a)}};
  }

  TempDir dir_;
};

TEST_F(KubeChecks, PodRestartsCountsBackOffEventsOfLivePods) {
  CreateNamespace("restarts");
  CreateNamespace("restarts-other");
  CreatePod("restarts", "crashy");
  CreatePod("restarts", "steady");
  CreatePod("restarts-other", "loop");
  CreateEvent("restarts", "crashy", "BackOff", 12);
  CreateEvent("restarts", "steady", "BackOff", 10);  // not more than the limit
  CreateEvent("restarts", "steady", "Failed", 50);   // not a BackOff
  CreateEvent("restarts", "gone", "BackOff", 30);    // the pod no longer exists
  CreateEvent("restarts-other", "loop", "BackOff", 11);

  Report r = RunCheck("pod-restarts", "pod-restarts", {"POD_NAMESPACE=restarts"});
  EXPECT_EQ(r.body, Failed({"Found: 12 `BackOff` events for pod: crashy in namespace: restarts"}));
  EXPECT_EQ(r.exit_code, 1) << r.stderr_text;

  r = RunCheck("pod-restarts", "pod-restarts", {});  // every namespace
  EXPECT_EQ(r.body,
            Failed({"Found: 12 `BackOff` events for pod: crashy in namespace: restarts",
                    "Found: 11 `BackOff` events for pod: loop in namespace: restarts-other"}));

  r = RunCheck("pod-restarts", "pod-restarts", {"MAX_FAILURES_ALLOWED=12"});
  EXPECT_EQ(r.body, Ok());
  EXPECT_EQ(r.exit_code, 0) << r.stderr_text;

  // A user without the role: the check fails with the API server's answer.
  r = RunCheck("pod-restarts", "pod-status", {"POD_NAMESPACE=restarts"});
  EXPECT_EQ(r.body, Failed({"GET /api/v1/namespaces/restarts/events?fieldSelector=type%3DWarning"
                            "&limit=500: 403 Forbidden: events is forbidden: User \"pod-status\" "
                            "cannot list resource \"events\" in API group \"\" in the namespace "
                            "\"restarts\""}));
}

TEST_F(KubeChecks, PodStatusReportsOldPodsNotRunning) {
  CreateNamespace("status");
  for (const char* name : {"done", "failed", "pending", "running", "unknown"}) {
    CreatePod("status", name);
  }
  CreatePod("status", "checker", {}, {{"app", "kuberhealthy-check"}});
  SetPodStatus("status", "running", {{"phase", "Running"}});
  SetPodStatus("status", "done", {{"phase", "Succeeded"}});
  SetPodStatus("status", "failed", {{"phase", "Failed"}});
  SetPodStatus("status", "unknown", {{"phase", "Unknown"}});
  SetPodStatus("status", "checker", {{"phase", "Failed"}});
  SetPodStatus(
      "status", "pending",
      {{"phase", "Pending"},
       {"containerStatuses",
        {{{"name", "main"},
          {"image", "busybox"},
          {"imageID", ""},
          {"ready", false},
          {"restartCount", 0},
          {"state", {{"waiting", {{"reason", "ErrImagePull"}, {"message", "no such image"}}}}}}}}});
  // creationTimestamp has whole seconds: be sure the pods are more than 1s old.
  std::this_thread::sleep_for(std::chrono::milliseconds(1100));

  Report r = RunCheck("pod-status", "pod-status", {"TARGET_NAMESPACE=status", "SKIP_DURATION=1s"});
  EXPECT_EQ(r.body, Failed({"status/failed is in pod status phase Failed",
                            "status/pending is in pod status phase Pending (main: ErrImagePull)",
                            "status/unknown is in pod status phase Unknown"}));
  EXPECT_EQ(r.exit_code, 1) << r.stderr_text;

  // Younger than SKIP_DURATION (default 10m): not judged yet.
  r = RunCheck("pod-status", "pod-status", {"TARGET_NAMESPACE=status"});
  EXPECT_EQ(r.body, Ok());

  r = RunCheck("pod-status", "pod-status", {"SKIP_DURATION=ten minutes"});
  EXPECT_EQ(r.body, Failed({"failed to parse skip duration: SKIP_DURATION: invalid duration "
                            "\"ten minutes\": expected a number"}));
  EXPECT_EQ(r.exit_code, 2);
}

TEST_F(KubeChecks, ResourceQuotaReportsNamespacesAtTheThreshold) {
  struct Quota {
    std::string ns;
    json::object hard;
    json::object requests;  // of the pod that uses the quota
  };
  const Quota quotas[] = {
      {"rq-busy", {{"cpu", "1"}, {"memory", "1Gi"}}, {{"cpu", "950m"}, {"memory", "100Mi"}}},
      {"rq-calm", {{"cpu", "10"}, {"memory", "10Gi"}}, {{"cpu", "100m"}, {"memory", "100Mi"}}},
      {"rq-full", {{"requests.memory", "100Mi"}}, {{"memory", "100Mi"}}},
  };
  for (const Quota& q : quotas) {
    CreateNamespace(q.ns);
    Admin("POST", "/api/v1/namespaces/" + q.ns + "/resourcequotas",
          {{"metadata", {{"name", "compute"}}}, {"spec", {{"hard", q.hard}}}});
    const std::string path = "/api/v1/namespaces/" + q.ns + "/resourcequotas/compute";
    // The quota controller fills status.hard; until then the quota admits no pod.
    ASSERT_TRUE(Eventually([&] {
      auto r = cluster().AdminRequest("GET", path);
      return r.ok() && !At(r.value().Json(), {"status", "hard"}).is_null();
    }));
    CreatePod(q.ns, "user", {{"requests", q.requests}, {"limits", q.requests}});
    ASSERT_TRUE(Eventually([&] {
      auto r = cluster().AdminRequest("GET", path);
      const json::value used = r.ok() ? At(r.value().Json(), {"status", "used"}) : nullptr;
      return used.is_object() &&
             (used.as_object().contains("memory") || used.as_object().contains("requests.memory"));
    })) << q.ns;
  }

  Report r = RunCheck("resource-quota", "resource-quota", {});
  EXPECT_EQ(r.body,
            Failed({"cpu for rq-busy namespace has reached threshold of 0.90: USED: 950m LIMIT: 1 "
                    "PERCENT_USED:  0.950 (resourcequota compute)",
                    "requests.memory for rq-full namespace has reached threshold of 0.90: USED: "
                    "100Mi LIMIT: 100Mi PERCENT_USED:  1.000 (resourcequota compute)"}));
  EXPECT_EQ(r.exit_code, 1) << r.stderr_text;

  r = RunCheck("resource-quota", "resource-quota", {"BLACKLIST=default,rq-full"});
  EXPECT_EQ(r.body, Failed({"cpu for rq-busy namespace has reached threshold of 0.90: USED: 950m "
                            "LIMIT: 1 PERCENT_USED:  0.950 (resourcequota compute)"}));

  r = RunCheck("resource-quota", "resource-quota", {"THRESHOLD=0.96", "WHITELIST=rq-busy,rq-full"});
  EXPECT_EQ(r.body,
            Failed({"requests.memory for rq-full namespace has reached threshold of 0.96: USED: "
                    "100Mi LIMIT: 100Mi PERCENT_USED:  1.000 (resourcequota compute)"}));

  r = RunCheck("resource-quota", "resource-quota", {"WHITELIST=rq-calm,kube-system"});
  EXPECT_EQ(r.body, Ok());
  EXPECT_EQ(r.exit_code, 0) << r.stderr_text;

  // Full quotas would fail the namespace-pod-check too; deleted namespaces are skipped there.
  for (const Quota& q : quotas) Admin("DELETE", "/api/v1/namespaces/" + q.ns, json::object{});
}

// dns-status-internal's way: ask every Ready DNS pod that DNS_POD_SELECTOR picks (here one
// dnsmasq on loopback, as a CoreDNS pod with its UDP port).
TEST_F(KubeChecks, DnsAsksEachReadyDnsPodTheSelectorPicks) {
  sonde::testing::Dnsmasq dns;
  CreateNamespace("dns-sys");
  // A DNS pod as the kubelet reports it: Running, Ready, its address on loopback.
  for (const char* name : {"coredns-ready", "coredns-starting"}) {
    Admin("POST", "/api/v1/namespaces/dns-sys/pods",
          {{"metadata", {{"name", name}, {"labels", {{"k8s-app", "kube-dns"}}}}},
           {"spec",
            {{"containers",
              {{{"name", "coredns"},
                {"image", "coredns"},
                {"ports",
                 {{{"name", "dns-tcp"}, {"containerPort", 1}, {"protocol", "TCP"}},
                  {{"name", "dns"}, {"containerPort", dns.port()}, {"protocol", "UDP"}}}}}}}}}});
  }
  SetPodStatus("dns-sys", "coredns-ready",
               {{"phase", "Running"},
                {"podIP", "127.0.0.1"},
                {"conditions", {{{"type", "Ready"}, {"status", "True"}}}}});
  // Not ready: its address (a closed port) must not be asked.
  SetPodStatus("dns-sys", "coredns-starting",
               {{"phase", "Running"},
                {"podIP", "127.0.0.2"},
                {"conditions", {{{"type", "Ready"}, {"status", "False"}}}}});
  const std::vector<std::string> base = {"DNS_POD_SELECTOR=k8s-app=kube-dns", "NAMESPACE=dns-sys"};
  auto with = [&](std::initializer_list<std::string> more) {
    std::vector<std::string> env = base;
    env.insert(env.end(), more);
    return env;
  };

  Report r = RunCheck("dns", "dns", with({"HOSTNAME=ok.test", "EXPECTED_ANSWER=127.0.0.7"}));
  EXPECT_EQ(r.body, Ok());
  EXPECT_EQ(r.exit_code, 0) << r.stderr_text;

  r = RunCheck("dns", "dns", with({"HOSTNAME=missing.test"}));
  EXPECT_EQ(r.body, Failed({"DNS Status check determined that missing.test is DOWN: A "
                            "missing.test @" +
                            dns.server() + " answered NXDOMAIN"}));
  EXPECT_EQ(r.exit_code, 1);

  r = RunCheck("dns", "dns", {"DNS_POD_SELECTOR=k8s-app=nothing", "NAMESPACE=dns-sys"});
  EXPECT_EQ(r.body, Failed({"No DNS pods found with label k8s-app=nothing in namespace dns-sys"}));
}

// Kuberhealthy's cmd/pod-status-check/pod-status-check.yaml, with TARGET_NAMESPACE's
// valueFrom (no downward API in local mode) and SKIP_DURATION changed, runs unchanged in local
// mode: its image stands for `sonde check pod-status`, which finds the cluster through the
// daemon's KUBECONFIG.
TEST_F(KubeChecks, KuberhealthyYamlRunsInLocalMode) {
  CreateNamespace("local");
  CreatePod("local", "stuck");
  SetPodStatus("local", "stuck", {{"phase", "Failed"}});
  std::this_thread::sleep_for(std::chrono::milliseconds(1100));
  const std::string kubeconfig = dir_.path() + "/local.kubeconfig";
  ASSERT_TRUE(cluster().WriteKubeconfig(kubeconfig, KubeconfigAuth::Token("pod-status")).ok());
  TempDir checks;
  checks.Write("pod-status.yaml", R"(apiVersion: comcast.github.io/v1
kind: KuberhealthyCheck
metadata:
  name: pod-status
  namespace: kuberhealthy
spec:
  runInterval: 60m
  timeout: 15m
  podSpec:
    containers:
      - env:
          - name: SKIP_DURATION
            value: "1s"
          - name: TARGET_NAMESPACE
            value: local
        image: kuberhealthy/pod-status-check:v1.1.2
        imagePullPolicy: IfNotPresent
        name: main
        resources:
          requests:
            cpu: 10m
            memory: 50Mi
)");
  ::setenv("KUBECONFIG", kubeconfig.c_str(), 1);
  sonde::testing::DaemonProcess d(checks.path());
  ::unsetenv("KUBECONFIG");
  json::value detail;
  ASSERT_TRUE(Eventually(
      [&] {
        detail = sonde::testing::CheckDetail(d, "kuberhealthy/pod-status");
        return detail.is_object() && (detail.as_object().contains("failureCount") ||
                                      detail.as_object().contains("successCount"));
      },
      std::chrono::seconds(30)))
      << d.log();
  EXPECT_TRUE(detail.as_object().contains("failureCount")) << json::serialize(detail);
  EXPECT_EQ(sonde::testing::DetailErrors(detail),
            std::vector<std::string>{"local/stuck is in pod status phase Failed"});
}

// What the kubelet stand-in runs for the deployment check's images: python3's http.server on
// the pod's own loopback address and the container port.
std::vector<std::string> WebServer(uint16_t port, const std::string& dir) {
  return {"/bin/sh", "-c",
          "exec /usr/bin/python3 -m http.server --bind \"$SONDE_STANDIN_POD_IP\" --directory '" +
              dir + "' " + std::to_string(port)};
}

// Kuberhealthy's Helm settings (rolling update on) with images the kubelet stand-in runs: the
// Deployment's pods come up, the Service's cluster IP (127.0.2.x, relayed by the kube-proxy
// stand-in) answers 200 before and after the roll, and everything is gone afterwards. A Service
// an earlier run left is removed first.
TEST_F(KubeChecks, DeploymentComesUpRollsAndIsTornDown) {
  CreateNamespace("kuberhealthy");
  const uint16_t container_port = FreePort(), service_port = FreePort();
  TempDir site;
  site.Write("index.html", "hello from a pod\n");
  sonde::testing::KubeletStandin kubelet(
      {.cluster = AdminConfig(),
       .label_selector = "kh-deployment-timestamp",
       .image_commands = {{"sonde-test/web:1", WebServer(container_port, site.path())},
                          {"sonde-test/web:2", WebServer(container_port, site.path())}}});
  sonde::testing::ProxyStandin proxy({.cluster = AdminConfig()});
  Admin("POST", "/api/v1/namespaces/kuberhealthy/services",
        {{"metadata", {{"name", "deployment-svc"}}},
         {"spec", {{"selector", {{"app", "old"}}}, {"ports", {{{"port", service_port}}}}}}});

  Report r = RunCheck("deployment", "deployment",
                      {"CHECK_IMAGE=sonde-test/web:1", "CHECK_IMAGE_ROLL_TO=sonde-test/web:2",
                       "CHECK_DEPLOYMENT_ROLLING_UPDATE=true",
                       "CHECK_CONTAINER_PORT=" + std::to_string(container_port),
                       "CHECK_LOAD_BALANCER_PORT=" + std::to_string(service_port)});
  EXPECT_EQ(r.body, Ok()) << r.stderr_text;
  EXPECT_EQ(r.exit_code, 0) << r.stderr_text;
  // Two pods of each image ran, and both GETs went through the Service to one of them.
  EXPECT_EQ(kubelet.pods_started(), 4u);
  EXPECT_GE(proxy.relayed(), 2u);
  ExpectNothingLeft("kuberhealthy");
}

// An image that never pulls: the wait for the replicas ends at the steps' deadline (the run's
// budget less a quarter kept for the teardown) with what the pods wait for, and the teardown
// still removes everything.
TEST_F(KubeChecks, DeploymentWhoseImageNeverPullsFailsAndIsTornDown) {
  CreateNamespace("deploy-fail");
  sonde::testing::KubeletStandin kubelet(
      {.cluster = AdminConfig(), .label_selector = "kh-deployment-timestamp"});

  Report r = RunCheck("deployment", "deployment",
                      {"CHECK_NAMESPACE=deploy-fail", "CHECK_IMAGE=sonde-test/invalid:1"}, 30);
  ASSERT_TRUE(r.body.is_object()) << r.stderr_text;
  EXPECT_EQ(r.body.at("OK"), false);
  const json::array& errors = r.body.at("Errors").as_array();
  ASSERT_EQ(errors.size(), 1u) << r.body;
  std::smatch waited;
  const std::string e(errors[0].as_string());
  ASSERT_TRUE(std::regex_search(e, waited, std::regex("after ([0-9]+)s"))) << e;
  // 30s less the 5s report margin is 25s, of which a quarter is the teardown's.
  EXPECT_GE(std::stoi(waited[1]), 15) << e;
  EXPECT_LE(std::stoi(waited[1]), 19) << e;
  EXPECT_EQ(std::regex_replace(e, std::regex("after [0-9]+s"), "after Ns"),
            "deployment deploy-fail/deployment-deployment: 0 of 2 replicas available after Ns (2 "
            "pods Pending: ErrImagePull: rpc error: pull access denied for sonde-test/invalid:1, "
            "repository does not exist)");
  EXPECT_EQ(r.exit_code, 1) << r.stderr_text;
  ExpectNothingLeft("deploy-fail");
}

// Last in the file: it creates a pod in every namespace the other tests made.
TEST_F(KubeChecks, NamespacePodCheckCreatesAndDeletesAPodEverywhere) {
  CreateNamespace("np-ok");
  CreateNamespace("np-full");
  Admin("POST", "/api/v1/namespaces/np-full/resourcequotas",
        {{"metadata", {{"name", "no-pods"}}}, {"spec", {{"hard", {{"pods", "0"}}}}}});
  ASSERT_TRUE(Eventually([&] {
    auto r = cluster().AdminRequest("GET", "/api/v1/namespaces/np-full/resourcequotas/no-pods");
    return r.ok() && !At(r.value().Json(), {"status", "hard"}).is_null();
  }));
  // Held in Terminating by a finalizer: no pod can be created there, and that is no fault.
  CreateNamespace("np-doomed", {{"finalizers", {"sonde.test/hold"}}});
  Admin("DELETE", "/api/v1/namespaces/np-doomed", json::object{});

  Report r = RunCheck("namespace-pod-check", "namespace-pod", {});
  ASSERT_TRUE(r.body.is_object()) << r.stderr_text;
  EXPECT_EQ(r.body.at("OK"), false);
  const json::array& errors = r.body.at("Errors").as_array();
  ASSERT_EQ(errors.size(), 1u) << r.body;
  const std::string e(errors[0].as_string());
  EXPECT_TRUE(
      e.starts_with("Error deploying pod kuberhealthy-namespace-checker-pod in "
                    "namespace: np-full: 403 Forbidden: pods "))
      << e;
  EXPECT_NE(e.find("exceeded quota: no-pods, requested: pods=1, used: pods=0, limited: pods=0"),
            std::string::npos)
      << e;
  EXPECT_EQ(r.exit_code, 1) << r.stderr_text;

  // Every test pod it created is gone again.
  auto pods = cluster().AdminRequest(
      "GET", "/api/v1/pods?labelSelector=app%3Dkuberhealthy-namespace-check");
  ASSERT_TRUE(pods.ok());
  EXPECT_EQ(pods.value().Json().at("items").as_array().size(), 0u) << pods.value().body;

  // Without the quota every namespace takes the pod.
  Admin("DELETE", "/api/v1/namespaces/np-full/resourcequotas/no-pods", json::object{});
  r = RunCheck("namespace-pod-check", "namespace-pod", {});
  EXPECT_EQ(r.body, Ok());
  EXPECT_EQ(r.exit_code, 0) << r.stderr_text;
}

}  // namespace
}  // namespace sonde::kube
