// Operator mode end to end against the real kube-apiserver v1.20.2 with RBAC: the shipped
// CRDs and RBAC applied, two `sonde serve --kube` replicas under the shipped ServiceAccount's
// token, the kubelet stand-in running checker pods as local processes. v2 checks (the seed's
// openbayes-gear-check among them), a v2 job and a v3 HealthCheck run, report (through the
// follower, which forwards to the leader), and land in khstates, HealthCheck statuses and the
// status pages; then the leader stops and the other replica takes over mid-schedule, and no
// check ever has two pods running at once.
#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <openssl/evp.h>
#include <sys/socket.h>
#include <unistd.h>

#include <array>
#include <boost/json.hpp>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <sstream>
#include <thread>

#include "core/clock.hpp"
#include "core/time.hpp"
#include "kube/cluster_suite.hpp"
#include "kube/fault_proxy.hpp"
#include "kube/helpers.hpp"
#include "kube/kubelet_standin.hpp"
#include "support/daemon_process.hpp"

namespace sonde::kube {
namespace {

namespace json = boost::json;
using sonde::testing::Base64Decode;
using sonde::testing::DaemonProcess;
using sonde::testing::Eventually;
using sonde::testing::ReadFile;
using sonde::testing::TempDir;
using std::chrono::seconds;
json::value At(const json::value& v, std::initializer_list<std::string_view> keys) {
  return sonde::testing::JsonAt(v, keys);
}

uint16_t FreePort() {
  const int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr));
  socklen_t len = sizeof(addr);
  getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len);
  close(fd);
  return ntohs(addr.sin_port);
}

json::value ParseOrNull(const std::string& text) {
  boost::system::error_code ec;
  auto v = json::parse(text, ec);
  return ec ? json::value(nullptr) : v;
}

// A v2 client that sends neither the run header nor the URL's query: Kuberhealthy finds its run
// by the pod's IP. It reports from its own pod address (the stand-in gives each pod one).
constexpr const char* kReportByIp = R"(#!/bin/bash
set -e
curl -sS --fail-with-body --interface "$MY_POD_IP" -X POST "${KH_REPORTING_URL%%\?*}" \
  -H 'Content-Type: application/json' -d '{"OK": true}'
)";

constexpr const char* kReportOk = R"(#!/bin/bash
set -e
curl -sS --fail-with-body --location --request POST "$KH_REPORTING_URL" \
  --header 'Content-Type: application/json' --data-raw '{ "OK": true }'
)";

// The seed's check (../shared/seed), with its image's command replaced by a script that does
// what the image's run.sh ends with: report OK with curl.
std::string SeedCheck(const std::string& script) {
  return R"(apiVersion: comcast.github.io/v1
kind: KuberhealthyCheck
metadata:
  name: openbayes-gear-check
  namespace: kuberhealthy
spec:
  runInterval: 6h
  timeout: 5m
  podSpec:
    containers:
    - env:
      - name: OPENBAYES_TOKEN
        value: <THE TOKEN>
      - name: ENTRYPOINT
        value: <THE ENTRYPOINT>
      - name: RUNTIME
        value: pytorch-1.7.0
      - name: RESOURCE
        value: titan_rtx
      image: xxxx
      name: main
      command: ["/bin/bash", ")" +
         script + R"("]
)";
}

std::string Checks(const std::string& script, const std::string& by_ip) {
  const std::string cmd = R"(["/bin/bash", ")" + script + R"("])";
  return R"(apiVersion: comcast.github.io/v1
kind: KuberhealthyCheck
metadata: {name: fast-check, namespace: kuberhealthy}
spec:
  runInterval: 2s
  timeout: 30s
  podSpec:
    containers: [{name: main, image: checker:1, command: )" +
         cmd + R"(}]
---
apiVersion: comcast.github.io/v1
kind: KuberhealthyJob
metadata: {name: one-shot, namespace: kuberhealthy}
spec:
  timeout: 1m
  podSpec:
    containers: [{name: main, image: checker:1, command: )" +
         cmd + R"(}]
---
apiVersion: kuberhealthy.github.io/v2
kind: HealthCheck
metadata: {name: hc-check, namespace: kuberhealthy}
spec:
  runInterval: 3s
  timeout: 30s
  podSpec:
    spec:
      containers: [{name: main, image: checker:1, command: )" +
         cmd + R"(}]
---
apiVersion: comcast.github.io/v1
kind: KuberhealthyCheck
metadata: {name: bad-image, namespace: kuberhealthy}
spec:
  runInterval: 1h
  timeout: 30s
  podSpec:
    containers: [{name: main, image: "registry.invalid/nothing:1"}]
---
apiVersion: comcast.github.io/v1
kind: KuberhealthyCheck
metadata: {name: by-pod-ip, namespace: kuberhealthy}
spec:
  runInterval: 1h
  timeout: 30s
  podSpec:
    containers:
    - name: main
      image: checker:1
      command: ["/bin/bash", ")" +
         by_ip + R"("]
      env: [{name: MY_POD_IP, valueFrom: {fieldRef: {fieldPath: status.podIP}}}]
---
apiVersion: comcast.github.io/v1
kind: KuberhealthyCheck
metadata: {name: never-runs, namespace: kuberhealthy}
spec:
  runInterval: 1h
  timeout: 2s
  podSpec:
    containers: [{name: main, image: "never-starts:1"}]
)";
}

// Sums kube-apiserver's apiserver_request_total for a verb and a resource (and subresource).
double ApiRequests(const std::string& metrics, const std::string& verb, const std::string& resource,
                   const std::string& subresource = "") {
  double total = 0;
  std::istringstream lines(metrics);
  for (std::string line; std::getline(lines, line);) {
    if (line.rfind("apiserver_request_total{", 0) != 0) continue;
    if (line.find("verb=\"" + verb + "\"") == std::string::npos ||
        line.find("resource=\"" + resource + "\"") == std::string::npos ||
        line.find("subresource=\"" + subresource + "\"") == std::string::npos) {
      continue;
    }
    total += std::stod(line.substr(line.rfind(' ') + 1));
  }
  return total;
}

// Whether a replica says it leads (kuberhealthy_controller_leader on its /metrics).
bool Leads(const DaemonProcess& d) {
  return d.Get("/metrics").body.find("\nkuberhealthy_controller_leader 1") != std::string::npos;
}

class OperatorTest;
TestCluster& OperatorTestCluster();

class OperatorTest : public ClusterSuite<OperatorTest> {
  friend TestCluster& OperatorTestCluster();

 public:
  static ClusterOptions Options() {
    ClusterOptions o;
    o.authorization = Authorization::kRbac;
    return o;
  }

 protected:
  // Applies the shipped CRDs, namespace and RBAC, as a user installing Sonde would.
  static void Install() {
    const std::string dir = std::string(SONDE_SOURCE_DIR) + "/deploy/kubernetes/";
    for (const char* file : {"00-crd-khchecks.yaml", "01-crd-khjobs.yaml", "02-crd-khstates.yaml",
                             "03-crd-healthchecks.yaml", "10-namespace.yaml",
                             "20-serviceaccount.yaml", "21-clusterrole.yaml",
                             "22-clusterrolebinding.yaml", "23-role.yaml", "24-rolebinding.yaml"}) {
      const Status applied = cluster().Apply(ReadFile(dir + file));
      ASSERT_TRUE(applied.ok()) << file << ": " << applied.message();
    }
    for (const char* crd : {"khchecks.comcast.github.io", "khjobs.comcast.github.io",
                            "khstates.comcast.github.io", "healthchecks.kuberhealthy.github.io"}) {
      const Status established = cluster().WaitForCrdEstablished(crd);
      ASSERT_TRUE(established.ok()) << established.message();
    }
  }

  // The shipped ServiceAccount's token, as its pods would mount it.
  static std::string ServiceAccountToken() {
    std::string token;
    Eventually(
        [&] {
          auto sa = cluster().AdminRequest(
              "GET", "/api/v1/namespaces/kuberhealthy/serviceaccounts/kuberhealthy");
          if (!sa.ok() || sa.value().status != 200) return false;
          const auto secret = At(sa.value().Json(), {"secrets"});
          if (!secret.is_array() || secret.as_array().empty()) return false;
          const std::string name(At(secret.as_array()[0], {"name"}).as_string());
          auto s = cluster().AdminRequest("GET", "/api/v1/namespaces/kuberhealthy/secrets/" + name);
          if (!s.ok() || s.value().status != 200) return false;
          token = Base64Decode(std::string(At(s.value().Json(), {"data", "token"}).as_string()));
          return !token.empty();
        },
        seconds(30));
    return token;
  }

  static std::string Kubeconfig(const TempDir& dir, const std::string& token) {
    dir.Write("kubeconfig", R"(apiVersion: v1
kind: Config
current-context: sa
clusters: [{name: test, cluster: {server: ")" +
                                cluster().server() + R"(", certificate-authority: ")" +
                                cluster().ca_file() + R"("}}]
users: [{name: kuberhealthy, user: {token: ")" +
                                token + R"("}}]
contexts: [{name: sa, context: {cluster: test, user: kuberhealthy, namespace: kuberhealthy}}]
)");
    return dir.path() + "/kubeconfig";
  }

  // The kubelet stand-in's identity.
  static ClusterConfig Admin() {
    ClusterConfig admin;
    admin.server = cluster().server();
    admin.ca_pem = ReadFile(cluster().ca_file());
    admin.token = cluster().admin_token();
    return admin;
  }

  static json::value Get(const std::string& path) {
    auto r = cluster().AdminRequest("GET", path);
    return r.ok() && r.value().status == 200 ? r.value().Json() : json::value(nullptr);
  }
};

TestCluster& OperatorTestCluster() { return OperatorTest::cluster(); }

std::string AdminKubeconfig(const TempDir& dir) {
  const std::string path = dir.path() + "/admin-kubeconfig";
  const Status written =
      OperatorTestCluster().WriteKubeconfig(path, KubeconfigAuth::Token("admin"));
  EXPECT_TRUE(written.ok()) << written.message();
  return path;
}

// First, on the bare server: without Kuberhealthy's CRDs the operator still starts, leads,
// serves, and its status page says what is missing.
TEST_F(OperatorTest, WithoutTheCrdsItRunsAndSaysWhatIsMissing) {
  TempDir dir;
  DaemonProcess d(dir.path(), {"--kube", "--kubeconfig", AdminKubeconfig(dir), "--identity",
                               "sonde-bare", "--lease-namespace", "default", "--retry-period",
                               "500ms", "--lease-duration", "4s", "--renew-deadline", "3s"});
  json::value page;
  ASSERT_TRUE(Eventually(
      [&] {
        page = ParseOrNull(d.Get("/").body);
        return At(page, {"Errors"}).is_array() && At(page, {"Errors"}).as_array().size() == 4;
      },
      seconds(20)))
      << page << d.log();
  EXPECT_EQ(At(page, {"Errors"}).as_array()[0],
            "khchecks.comcast.github.io/v1 is not served by the API server: apply its CRD from "
            "deploy/kubernetes (docs/kubernetes.md)");
  EXPECT_TRUE(Eventually([&] { return d.Get("/healthz").status == 200; }, seconds(10)));
  EXPECT_EQ(d.Terminate(seconds(10)), 0) << d.log();
}

TEST_F(OperatorTest, TwoReplicasRunV2AndV3ChecksAndHandOverWithoutOverlap) {
  Install();
  if (HasFatalFailure()) return;
  const std::string token = ServiceAccountToken();
  ASSERT_FALSE(token.empty()) << "no token for the kuberhealthy ServiceAccount";
  TempDir dir;
  dir.Write("report-ok.sh", kReportOk, true);
  dir.Write("report-by-ip.sh", kReportByIp, true);
  const std::string script = dir.path() + "/report-ok.sh";
  const std::string kubeconfig = Kubeconfig(dir, token);

  const ClusterConfig admin = Admin();
  testing::KubeletStandin kubelet({.cluster = admin});

  const uint16_t port_a = FreePort(), port_b = FreePort();
  const std::string url_a = "http://127.0.0.1:" + std::to_string(port_a);
  const std::string url_b = "http://127.0.0.1:" + std::to_string(port_b);
  auto replica = [&](const char* identity, uint16_t port) {
    return std::vector<std::string>{"--kube", "--kubeconfig", kubeconfig, "--identity", identity,
                                    "--listen", "127.0.0.1:" + std::to_string(port),
                                    "--advertise-url", "http://127.0.0.1:" + std::to_string(port),
                                    // Checkers report to B: while A leads, B forwards them (as the
                                    // Service would land them on any replica).
                                    "--reporting-url", url_b, "--lease-duration", "8s",
                                    "--renew-deadline", "6s", "--retry-period", "500ms"};
  };
  const auto leads = Leads;
  auto a = std::make_unique<DaemonProcess>(dir.path(), replica("sonde-a", port_a));
  ASSERT_TRUE(Eventually([&] { return leads(*a); }, seconds(20))) << a->log();
  DaemonProcess b(dir.path(), replica("sonde-b", port_b));
  ASSERT_FALSE(leads(b));
  // B knows the leader once it has read the lease: then reports it receives reach A.
  ASSERT_TRUE(Eventually([&] { return b.Post("/check", "{}").status == 400; }, seconds(10)))
      << b.log();
  ASSERT_TRUE(cluster().Apply(SeedCheck(script)).ok());
  ASSERT_TRUE(cluster().Apply(Checks(script, dir.path() + "/report-by-ip.sh")).ok());

  // Every kind ran and reported; the results are on A's status page as in the seed.
  json::value page;
  auto details = [&](const char* section, const char* key) {
    page = ParseOrNull(a->Get("/").body);
    return At(page, {section, key});
  };
  ASSERT_TRUE(Eventually(
      [&] {
        return At(details("CheckDetails", "kuberhealthy/openbayes-gear-check"), {"OK"}) == true;
      },
      seconds(30)))
      << a->Get("/").body << "\n"
      << a->log() << "\n"
      << b.log();
  const json::value seed = details("CheckDetails", "kuberhealthy/openbayes-gear-check");
  EXPECT_EQ(At(seed, {"Namespace"}), "kuberhealthy");
  EXPECT_EQ(At(seed, {"AuthoritativePod"}), "sonde-a");
  EXPECT_EQ(At(page, {"CurrentMaster"}), "sonde-a");
  EXPECT_TRUE(At(seed, {"RunDuration"}).is_string());
  EXPECT_TRUE(At(seed, {"LastRun"}).is_string());
  EXPECT_EQ(At(seed, {"uuid"}).as_string().size(), 36u);
  for (const char* field :
       {"OK", "Errors", "RunDuration", "Namespace", "LastRun", "AuthoritativePod", "uuid"}) {
    EXPECT_TRUE(seed.as_object().contains(field)) << field;
  }
  EXPECT_TRUE(Eventually(
      [&] { return At(details("CheckDetails", "kuberhealthy/by-pod-ip"), {"OK"}) == true; },
      seconds(30)))
      << page;
  EXPECT_TRUE(
      Eventually([&] { return At(details("JobDetails", "kuberhealthy/one-shot"), {"OK"}) == true; },
                 seconds(30)))
      << page;
  EXPECT_TRUE(Eventually(
      [&] {
        const auto errors = At(details("CheckDetails", "kuberhealthy/bad-image"), {"Errors"});
        return errors.is_array() && !errors.as_array().empty() &&
               std::string(errors.as_array()[0].as_string()).find("ErrImagePull") !=
                   std::string::npos;
      },
      seconds(30)))
      << page;
  EXPECT_TRUE(Eventually(
      [&] {
        const auto errors = At(details("CheckDetails", "kuberhealthy/never-runs"), {"Errors"});
        return errors.is_array() && !errors.as_array().empty() &&
               errors.as_array()[0] ==
                   "timed out after 2s waiting for the checker to report: failed to see pod "
                   "running within timeout";
      },
      seconds(30)))
      << page;
  // Failed runs are Events on their check, as `kubectl describe` shows them.
  auto event_of = [&](const char* check) {
    const auto list =
        Get("/api/v1/namespaces/kuberhealthy/events?fieldSelector=involvedObject.name%3D" +
            std::string(check));
    const auto items = At(list, {"items"});
    return items.is_array() && !items.as_array().empty() ? items.as_array().back() : json::value();
  };
  EXPECT_TRUE(Eventually([&] { return !event_of("never-runs").is_null(); }, seconds(10)));
  const auto timed_out = event_of("never-runs");
  EXPECT_EQ(At(timed_out, {"reason"}), "CheckRunTimedOut") << timed_out;
  EXPECT_EQ(At(timed_out, {"type"}), "Warning");
  EXPECT_EQ(At(timed_out, {"involvedObject", "kind"}), "KuberhealthyCheck");
  EXPECT_NE(std::string(At(timed_out, {"message"}).as_string()).find("failed to see pod running"),
            std::string::npos)
      << timed_out;
  const auto bad_image = event_of("bad-image");
  EXPECT_EQ(At(bad_image, {"reason"}), "CheckReported") << bad_image;
  EXPECT_NE(json::serialize(At(bad_image, {"message"})).find("ErrImagePull"), std::string::npos);
  EXPECT_TRUE(event_of("openbayes-gear-check").is_null()) << "an OK check records no event";
  // At the deadline the pod was evicted, as Kuberhealthy's cleanup does, not just deleted.
  EXPECT_TRUE(Eventually(
      [&] {
        auto m = cluster().AdminRequest("GET", "/metrics");
        return m.ok() && ApiRequests(m.value().body, "POST", "pods", "eviction") >= 1;
      },
      seconds(10)));
  EXPECT_TRUE(Eventually(
      [&] {
        const auto v3 = ParseOrNull(a->Get("/json").body);
        return At(v3, {"CheckDetails", "kuberhealthy/hc-check", "ok"}) == true;
      },
      seconds(30)))
      << a->Get("/json").body;

  // The state is in the cluster, as Kuberhealthy keeps it.
  const auto khstate =
      Get("/apis/comcast.github.io/v1/namespaces/kuberhealthy/khstates/"
          "openbayes-gear-check");
  EXPECT_EQ(At(khstate, {"spec", "OK"}), true) << khstate;
  EXPECT_EQ(At(khstate, {"spec", "AuthoritativePod"}), "sonde-a") << khstate;
  const auto hc =
      Get("/apis/kuberhealthy.github.io/v2/namespaces/kuberhealthy/healthchecks/hc-check");
  EXPECT_EQ(At(hc, {"status", "ok"}), true) << hc;
  // The follower shows what the leader wrote, and names it.
  EXPECT_EQ(At(ParseOrNull(b.Get("/").body), {"CurrentMaster"}), "sonde-a");
  EXPECT_TRUE(Eventually(
      [&] {
        return At(ParseOrNull(b.Get("/").body),
                  {"CheckDetails", "kuberhealthy/fast-check", "OK"}) == true;
      },
      seconds(20)))
      << b.Get("/").body;

  // Handover: A stops (releasing the lease); B leads and the fast check keeps running there.
  EXPECT_EQ(a->Terminate(seconds(15)), 0) << a->log();
  a.reset();
  ASSERT_TRUE(Eventually([&] { return leads(b); }, seconds(20))) << b.log();
  EXPECT_TRUE(Eventually(
      [&] {
        const auto s =
            Get("/apis/comcast.github.io/v1/namespaces/kuberhealthy/khstates/fast-check");
        return At(s, {"spec", "AuthoritativePod"}) == "sonde-b" && At(s, {"spec", "OK"}) == true;
      },
      seconds(30)))
      << b.log();
  const auto after = ParseOrNull(b.Get("/").body);
  EXPECT_EQ(At(after, {"CurrentMaster"}), "sonde-b");

  // API writes per run, counted by the API server while B runs the two fast checks: the pod's
  // create, the state at the start and the state with the result (docs/kubernetes.md).
  auto writes = [&] {
    auto m = cluster().AdminRequest("GET", "/metrics");
    const std::string text = m.ok() ? m.value().body : "";
    return std::array<double, 2>{
        ApiRequests(text, "POST", "pods"),
        ApiRequests(text, "POST", "khstates") + ApiRequests(text, "PUT", "khstates") +
            ApiRequests(text, "PATCH", "healthchecks", "status") +
            ApiRequests(text, "DELETE", "pods") + ApiRequests(text, "POST", "pods")};
  };
  const auto before_window = writes();
  std::this_thread::sleep_for(seconds(7));
  const auto after_window = writes();
  const double runs = after_window[0] - before_window[0];
  const double per_run = (after_window[1] - before_window[1]) / std::max(runs, 1.0);
  std::cout << "API writes per run: " << per_run << " (" << runs << " runs)\n";
  RecordProperty("api_writes_per_run", std::to_string(per_run));
  EXPECT_GE(runs, 3);
  EXPECT_LE(per_run, 3.5) << "more writes per run than the pod, its start and its result";
  EXPECT_EQ(At(after, {"JobDetails", "kuberhealthy/one-shot", "OK"}), true) << "the job ran once";
  const auto job = Get("/apis/comcast.github.io/v1/namespaces/kuberhealthy/khjobs/one-shot");
  EXPECT_EQ(At(job, {"spec", "phase"}), "Completed") << job;
  EXPECT_EQ(kubelet.max_concurrent_per_check(), 1u) << "a check ran twice at once";
  EXPECT_GE(kubelet.pods_finished(), 5u);
}

// Through the fault proxy: watches dropped, resumes answered 410, 500s and 429s on the operator's
// writes, the server gone for longer than the renew deadline. Runs go on once the server is
// back, the leader re-acquires its lease, and nothing ran twice at once.
TEST_F(OperatorTest, KeepsRunningThroughAFlakyApiServer) {
  Install();
  if (HasFatalFailure()) return;
  TempDir dir;
  dir.Write("report-ok.sh", kReportOk, true);
  const ClusterConfig admin = Admin();
  testing::KubeletStandin kubelet({.cluster = admin});
  ASSERT_TRUE(cluster().Apply(Checks(dir.path() + "/report-ok.sh", "/bin/false")).ok());
  testing::FaultProxy proxy({.upstream_port = cluster().port(),
                             .ca_file = cluster().ca_file(),
                             .cert_file = cluster().server_cert_file(),
                             .key_file = cluster().server_key_file()});
  const std::string token = ServiceAccountToken();
  dir.Write("proxied", R"(apiVersion: v1
kind: Config
current-context: sa
clusters: [{name: test, cluster: {server: ")" +
                           proxy.url() + R"(", certificate-authority: ")" + cluster().ca_file() +
                           R"("}}]
users: [{name: kuberhealthy, user: {token: ")" +
                           token + R"("}}]
contexts: [{name: sa, context: {cluster: test, user: kuberhealthy, namespace: kuberhealthy}}]
)");
  const uint16_t port = FreePort();
  DaemonProcess d(dir.path(),
                  {"--kube", "--kubeconfig", dir.path() + "/proxied", "--identity", "sonde-f",
                   "--listen", "127.0.0.1:" + std::to_string(port), "--reporting-url",
                   "http://127.0.0.1:" + std::to_string(port), "--lease-name", "flaky-test",
                   "--lease-duration", "4s", "--renew-deadline", "3s", "--retry-period", "500ms"});
  auto leads = [&] { return Leads(d); };
  ASSERT_TRUE(Eventually(leads, seconds(20))) << d.log();
  const std::string state =
      "/apis/comcast.github.io/v1/namespaces/kuberhealthy/khstates/fast-check";
  auto last_run_by_f = [&] {
    const auto s = Get(state);
    return At(s, {"spec", "AuthoritativePod"}) == "sonde-f" && At(s, {"spec", "OK"}) == true
               ? std::string(At(s, {"spec", "LastRun"}).as_string())
               : std::string();
  };
  ASSERT_TRUE(Eventually([&] { return !last_run_by_f().empty(); }, seconds(20))) << d.log();

  for (int i = 0; i < 3; ++i) {  // watches cut mid-stream, then not resumable
    proxy.DropWatches();
    std::this_thread::sleep_for(std::chrono::milliseconds(300));
  }
  proxy.ExpireNextWatchResumes(4);
  proxy.DropWatches();
  proxy.FailNext(3, 500, "/khstates/");
  proxy.FailNext(2, 429, "/pods", "POST", 1);
  proxy.SetDown(true);  // longer than the renew deadline: the leader steps down
  EXPECT_TRUE(Eventually([&] { return !leads(); }, seconds(10))) << "led without its lease";
  std::this_thread::sleep_for(seconds(1));
  proxy.SetDown(false);
  ASSERT_TRUE(Eventually(leads, seconds(20))) << "did not lead again\n" << d.log();
  const std::string before = last_run_by_f();
  EXPECT_TRUE(Eventually(
      [&] {
        const std::string now = last_run_by_f();
        return !now.empty() && now != before;
      },
      seconds(20)))
      << "no run after the faults\n"
      << d.log();
  EXPECT_GT(proxy.faults_injected(), 0u);
  EXPECT_EQ(kubelet.max_concurrent_per_check(), 1u) << "a check ran twice at once";
  EXPECT_EQ(d.Terminate(seconds(10)), 0) << d.log();
}

// A graceful handover in the middle of a run: the new leader follows the run the old one
// started, accepts its report, and neither fails it nor starts it again.
TEST_F(OperatorTest, ARunInFlightAtAHandoverIsFollowedNotFailed) {
  Install();
  if (HasFatalFailure()) return;
  ASSERT_TRUE(
      cluster().Apply("apiVersion: v1\nkind: Namespace\nmetadata: {name: handover}\n").ok());
  TempDir dir;
  dir.Write("slow.sh", R"(#!/bin/bash
sleep 4
curl -sS --fail-with-body -X POST "$KH_REPORTING_URL" -H 'Content-Type: application/json' \
  -d '{"OK": true}'
)",
            true);
  const ClusterConfig admin = Admin();
  testing::KubeletStandin kubelet(
      {.cluster = admin, .label_selector = "kuberhealthy-check-name=slow"});
  const std::string kubeconfig = Kubeconfig(dir, ServiceAccountToken());
  const uint16_t port_a = FreePort(), port_b = FreePort();
  auto replica = [&](const char* identity, uint16_t port) {
    return std::vector<std::string>{"--kube",
                                    "--kubeconfig",
                                    kubeconfig,
                                    "--identity",
                                    identity,
                                    "--namespaces",
                                    "handover",
                                    "--lease-name",
                                    "handover-test",
                                    "--listen",
                                    "127.0.0.1:" + std::to_string(port),
                                    "--reporting-url",
                                    "http://127.0.0.1:" + std::to_string(port_b),
                                    "--lease-duration",
                                    "8s",
                                    "--renew-deadline",
                                    "6s",
                                    "--retry-period",
                                    "300ms"};
  };
  const auto leads = Leads;
  auto a = std::make_unique<DaemonProcess>(dir.path(), replica("sonde-a", port_a));
  ASSERT_TRUE(Eventually([&] { return leads(*a); }, seconds(20))) << a->log();
  DaemonProcess b(dir.path(), replica("sonde-b", port_b));
  ASSERT_TRUE(Eventually([&] { return b.Post("/check", "{}").status == 400; }, seconds(10)));
  ASSERT_TRUE(cluster()
                  .Apply(R"(apiVersion: comcast.github.io/v1
kind: KuberhealthyCheck
metadata: {name: slow, namespace: handover}
spec:
  runInterval: 1h
  timeout: 1m
  podSpec:
    containers: [{name: main, image: checker:1, command: ["/bin/bash", ")" +
                         dir.path() + R"(/slow.sh"]}]
)")
                  .ok());
  ASSERT_TRUE(Eventually([&] { return kubelet.running() == 1; }, seconds(20))) << a->log();
  EXPECT_EQ(a->Terminate(seconds(15)), 0) << a->log();  // mid-run
  a.reset();
  ASSERT_TRUE(Eventually([&] { return leads(b); }, seconds(20))) << b.log();
  const std::string path = "/apis/comcast.github.io/v1/namespaces/handover/khstates/slow";
  json::value state;
  EXPECT_TRUE(Eventually(
      [&] {
        state = Get(path);
        return At(state, {"spec", "OK"}) == true;
      },
      seconds(20)))
      << state << "\n"
      << b.log();
  EXPECT_EQ(At(state, {"spec", "AuthoritativePod"}), "sonde-b") << state;
  EXPECT_EQ(kubelet.pods_started(), 1u) << "the run was started again";
  EXPECT_NE(b.log().find("started under the former leader; following it"), std::string::npos)
      << b.log();
}

// The reaper, on the leader: keeps the newest succeeded pod per check (as configured) once
// pods have ended over 30s ago (Kuberhealthy's settle time; younger ones are never surplus),
// and removes a khstate whose check does not exist.
TEST_F(OperatorTest, TheReaperKeepsTheNewestPodsAndRemovesOrphanedStates) {
  Install();
  if (HasFatalFailure()) return;
  ASSERT_TRUE(cluster().Apply("apiVersion: v1\nkind: Namespace\nmetadata: {name: reap}\n").ok());
  ASSERT_TRUE(cluster()
                  .Apply(R"(apiVersion: comcast.github.io/v1
kind: KuberhealthyState
metadata: {name: ghost, namespace: reap}
spec: {OK: true, Errors: [], RunDuration: 1s, Namespace: reap, AuthoritativePod: x, uuid: u}
)")
                  .ok());
  TempDir dir;
  dir.Write("report-ok.sh", kReportOk, true);
  const ClusterConfig admin = Admin();
  testing::KubeletStandin kubelet(
      {.cluster = admin, .label_selector = "kuberhealthy-check-name=reaped"});
  const uint16_t port = FreePort();
  DaemonProcess d(dir.path(), {"--kube", "--kubeconfig", Kubeconfig(dir, ServiceAccountToken()),
                               "--identity", "sonde-r", "--namespaces", "reap", "--lease-name",
                               "reap-test", "--listen", "127.0.0.1:" + std::to_string(port),
                               "--reporting-url", "http://127.0.0.1:" + std::to_string(port),
                               "--reaper-interval", "500ms", "--max-completed-pod-count", "1"});
  ASSERT_TRUE(cluster()
                  .Apply(R"(apiVersion: comcast.github.io/v1
kind: KuberhealthyCheck
metadata: {name: reaped, namespace: reap}
spec:
  runInterval: 2s
  timeout: 30s
  podSpec:
    containers: [{name: main, image: checker:1, command: ["/bin/bash", ")" +
                         dir.path() + R"(/report-ok.sh"]}]
)")
                  .ok());
  EXPECT_TRUE(Eventually(
      [&] { return Get("/apis/comcast.github.io/v1/namespaces/reap/khstates/ghost").is_null(); },
      seconds(20)))
      << d.log();
  // Succeeded pods that ended over 31s ago (30s to settle, a sweep's 0.5s, a second's rounding).
  size_t settled = 0, succeeded = 0;
  auto count = [&] {
    const auto pods = Get("/api/v1/namespaces/reap/pods?labelSelector=kuberhealthy-check-name");
    const json::value items = At(pods, {"items"});
    settled = succeeded = 0;
    if (!items.is_array()) return;
    const TimePoint limit = SystemClock().Now() - seconds(31);
    for (const auto& p : items.as_array()) {
      if (At(p, {"status", "phase"}) != "Succeeded") continue;
      ++succeeded;
      const json::value statuses = At(p, {"status", "containerStatuses"});
      if (!statuses.is_array() || statuses.as_array().empty()) continue;
      const json::value at = At(statuses.as_array()[0], {"state", "terminated", "finishedAt"});
      if (!at.is_string()) continue;
      auto ended = ParseRfc3339(std::string_view(at.as_string()));
      settled += ended.ok() && ended.value() < limit;
    }
  };
  // Pods have settled, and some were reaped (the stand-in finished more than are left).
  ASSERT_TRUE(Eventually(
      [&] {
        count();
        return kubelet.pods_finished() >= 18 && succeeded < kubelet.pods_finished();
      },
      seconds(70)))
      << kubelet.pods_finished() << " pods finished, " << succeeded << " kept\n"
      << d.log();
  count();
  EXPECT_LE(settled, 1u) << succeeded << " succeeded pods kept\n" << d.log();
  EXPECT_GE(succeeded, 1u) << "the newest succeeded pod was reaped";
  // The deletions are on the leader's /metrics under Kuberhealthy v3's family.
  const std::string metrics = d.Get("/metrics").body;
  const std::string completed = "kuberhealthy_reaper_deleted_pods_total{reason=\"completed\"} ";
  const auto at = metrics.find(completed);
  ASSERT_NE(at, std::string::npos) << metrics;
  EXPECT_GE(std::stod(metrics.substr(at + completed.size())), 1) << metrics;
  EXPECT_NE(metrics.find("\nsonde_kube_informer_lists_total{resource=\"pods\"} "),
            std::string::npos);
  EXPECT_FALSE(Get("/apis/comcast.github.io/v1/namespaces/reap/khstates/reaped").is_null())
      << "a live check's state was reaped";
}

// A Lease as another holder would write it: renewed now, so it is live for its duration.
std::string StolenLease(json::object lease) {
  char now[64];
  const auto t = std::chrono::system_clock::to_time_t(std::chrono::system_clock::now());
  std::strftime(now, sizeof now, "%Y-%m-%dT%H:%M:%S.000000Z", std::gmtime(&t));
  auto& spec = lease["spec"].as_object();
  spec["holderIdentity"] = "thief";
  spec["renewTime"] = now;
  spec["acquireTime"] = now;
  spec["leaseDurationSeconds"] = 4;
  return json::serialize(lease);
}

// Kuberhealthy #1533: a leader that loses its lease stops leading at once, and contends again
// (and wins once the thief stops renewing), instead of never leading again.
TEST_F(OperatorTest, ALeaderWhoseLeaseIsStolenStepsDownAndContendsAgain) {
  Install();
  if (HasFatalFailure()) return;
  TempDir dir;
  const std::string token = ServiceAccountToken();
  DaemonProcess d(dir.path(), {"--kube", "--kubeconfig", Kubeconfig(dir, token), "--identity",
                               "sonde-c", "--lease-name", "steal-test", "--retry-period", "300ms",
                               "--lease-duration", "4s", "--renew-deadline", "3s"});
  auto leads = [&] { return Leads(d); };
  ASSERT_TRUE(Eventually(leads, seconds(20))) << d.log();
  const std::string path = "/apis/coordination.k8s.io/v1/namespaces/kuberhealthy/leases/steal-test";
  // The leader renews every 300 ms: a renewal between our GET and PUT makes the PUT a 409
  // (stale resourceVersion), so the theft is retried with the lease read again.
  auto steal = [&] {
    auto lease = cluster().AdminRequest("GET", path);
    if (!lease.ok() || lease.value().status != 200) return false;
    auto stolen =
        cluster().AdminRequest("PUT", path, StolenLease(lease.value().Json().as_object()));
    return stolen.ok() && stolen.value().status == 200;
  };
  ASSERT_TRUE(Eventually(steal, seconds(10))) << "the lease could not be stolen";
  EXPECT_TRUE(Eventually([&] { return !leads(); }, seconds(5))) << "still leads after the theft";
  EXPECT_TRUE(Eventually(leads, seconds(15))) << "never contended again\n" << d.log();
  const auto after = Get(path);
  EXPECT_EQ(At(after, {"spec", "holderIdentity"}), "sonde-c") << after;
  EXPECT_EQ(At(after, {"spec", "leaseTransitions"}).to_number<int64_t>(), 1)
      << "taken over once: " << after;
}

}  // namespace
}  // namespace sonde::kube
