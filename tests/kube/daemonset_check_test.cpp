// `sonde check daemonset` against the real kube-apiserver v1.20.2 and kube-controller-manager
// (whose DaemonSet controller makes the pods), with RBAC: the check runs as a subprocess under a
// user bound only to the ClusterRole docs/probes-and-checks.md gives for it and reports to a
// loopback server. NodeStandin registers the nodes (tainted, cordoned, labelled) and binds the
// DaemonSet's pods as a scheduler would; KubeletStandin runs the bound pods (the pause image as
// `sleep 3600`) and reports them Ready, or, for an image containing "invalid", ErrImagePull.
// After every run neither the DaemonSet nor any of its pods may be left.
#include <gtest/gtest.h>

#include <boost/json.hpp>
#include <ctime>
#include <fstream>
#include <mutex>
#include <regex>
#include <sstream>

#include "kube/cluster_suite.hpp"
#include "kube/helpers.hpp"
#include "kube/kubelet_standin.hpp"
#include "kube/node_standin.hpp"
#include "server/test_server.hpp"
#include "support/daemon_process.hpp"

namespace sonde::kube {
namespace {

namespace json = boost::json;
namespace asio = boost::asio;
using sonde::testing::Eventually;
using sonde::testing::NodeStandin;
using sonde::testing::NodeTaint;
using sonde::testing::ReadFile;
using sonde::testing::StandinNode;
using sonde::testing::TempDir;

constexpr const char* kNs = "kuberhealthy";
constexpr const char* kPause = "gcr.io/google-containers/pause:3.1";
const NodeTaint kGpu{"dedicated", "gpu", "NoSchedule"};
const NodeTaint kFargate{"eks.amazonaws.com/compute-type", "fargate", "NoSchedule"};

std::string DocumentedRoles() { return testing::DocumentedRoles(SONDE_SOURCE_DIR); }

struct Report {
  int exit_code = -1;
  bool ok = false;
  std::vector<std::string> errors;
  std::string stderr_text;
};

class DaemonsetCheck : public ClusterSuite<DaemonsetCheck> {
 public:
  static ClusterOptions Options() {
    ClusterOptions o;
    o.authorization = Authorization::kRbac;
    o.users = {"daemonset"};
    return o;
  }

 protected:
  void SetUp() override {
    ClusterSuite::SetUp();
    if (HasFatalFailure()) return;
    static bool prepared = false;
    if (prepared) return;
    const std::string roles = DocumentedRoles();
    ASSERT_NE(roles.find("sonde-daemonset-check"), std::string::npos)
        << "no sonde-daemonset-check ClusterRole in docs/probes-and-checks.md";
    Status s = cluster().Apply(roles);
    ASSERT_TRUE(s.ok()) << s.message();
    s = cluster().Apply(testing::ClusterRoleBindingYaml("sonde-daemonset-check", "daemonset") +
                        "---\napiVersion: v1\nkind: Namespace\nmetadata: {name: kuberhealthy}\n");
    ASSERT_TRUE(s.ok()) << s.message();
    ASSERT_TRUE(Eventually([] { return testing::DefaultServiceAccountHasToken(cluster(), kNs); }));
    prepared = true;
  }

  static ClusterConfig Admin() {
    ClusterConfig admin;
    admin.server = cluster().server();
    admin.ca_pem = ReadFile(cluster().ca_file());
    admin.token = cluster().admin_token();
    return admin;
  }

  std::unique_ptr<testing::KubeletStandin> Kubelet() {
    return std::make_unique<testing::KubeletStandin>(
        testing::KubeletOptions{.cluster = Admin(),
                                .label_selector = "khcheck=daemonset",
                                .image_commands = {{kPause, {"sleep", "3600"}}},
                                .bound_only = true});
  }

  std::unique_ptr<NodeStandin> Nodes(std::vector<StandinNode> nodes) {
    auto started = NodeStandin::Start(
        {.cluster = Admin(), .nodes = std::move(nodes), .pod_selector = "khcheck=daemonset"});
    EXPECT_TRUE(started.ok()) << started.error();
    return started.ok() ? std::move(started).value() : nullptr;
  }

  // Runs `sonde check daemonset` as the user "daemonset" with `env`, `seconds` before the run's
  // deadline.
  Report RunCheck(const std::vector<std::string>& env, int seconds) {
    std::mutex mu;
    std::vector<std::string> bodies;
    sonde::testing::TestServer sink([&](HttpRequest r) -> asio::awaitable<HttpResponse> {
      std::lock_guard lock(mu);
      bodies.push_back(r.body);
      co_return HttpResponse::Text(200, "ok");
    });
    const std::string kubeconfig = dir_.path() + "/daemonset.kubeconfig";
    Status written = cluster().WriteKubeconfig(kubeconfig, KubeconfigAuth::Token("daemonset"));
    EXPECT_TRUE(written.ok()) << written.message();
    std::vector<std::string> argv = {
        "/usr/bin/env",
        "-i",
        "HOME=" + dir_.path(),
        "KUBECONFIG=" + kubeconfig,
        "KH_REPORTING_URL=http://127.0.0.1:" + std::to_string(sink.port()) + "/check",
        "KH_RUN_UUID=run-daemonset",
        "KH_CHECK_RUN_DEADLINE=" + std::to_string(std::time(nullptr) + seconds)};
    argv.insert(argv.end(), env.begin(), env.end());
    argv.insert(argv.end(), {sonde::testing::SondeBinary(), "check", "daemonset"});
    auto ran = RunCommand(argv, "", std::chrono::seconds(seconds + 30));
    Report report;
    EXPECT_TRUE(ran.ok()) << (ran.ok() ? "" : ran.error());
    if (!ran.ok()) return report;
    report.exit_code = ran.value().exit_code;
    report.stderr_text = ran.value().err;
    std::lock_guard lock(mu);
    EXPECT_EQ(bodies.size(), 1u) << "reports received; stderr: " << ran.value().err;
    if (bodies.empty()) return report;
    const json::value body = json::parse(bodies.back());
    report.ok = body.at("OK").as_bool();
    for (const json::value& e : body.at("Errors").as_array()) {
      report.errors.emplace_back(e.as_string());
    }
    return report;
  }

  static size_t Count(const std::string& path) {
    auto r = cluster().AdminRequest("GET", path);
    EXPECT_TRUE(r.ok() && r.value().status == 200) << path;
    const json::value v = r.ok() ? r.value().Json() : nullptr;
    const json::value* items = v.is_object() ? v.as_object().if_contains("items") : nullptr;
    return items && items->is_array() ? items->as_array().size() : 0;
  }

  // Nothing of the check is left: no DaemonSet of it, no pod of it.
  static void ExpectNothingLeft() {
    const std::string selector = "?labelSelector=khcheck%3Ddaemonset";
    EXPECT_EQ(Count(std::string("/apis/apps/v1/namespaces/") + kNs + "/daemonsets" + selector), 0u);
    EXPECT_EQ(Count(std::string("/api/v1/namespaces/") + kNs + "/pods" + selector), 0u);
  }

  TempDir dir_;
};

TEST_F(DaemonsetCheck, CoversEveryNodeThatShouldRunIt) {
  auto kubelet = Kubelet();
  auto nodes = Nodes({{.name = "ok-web", .labels = {{"role", "web"}}},
                      {.name = "ok-gpu", .taints = {kGpu}},
                      {.name = "ok-cordoned", .cordoned = true},
                      {.name = "ok-fargate", .taints = {kFargate}}});
  ASSERT_NE(nodes, nullptr);
  // A run of this check that was cut short, and a DaemonSet of another check: only the first
  // is cleaned up.
  const std::string leftover = R"({"apiVersion":"apps/v1","kind":"DaemonSet","metadata":
    {"name":"NAME","labels":{"source":"kuberhealthy","khcheck":"daemonset"}},"spec":
    {"selector":{"matchLabels":{"kh-app":"NAME"}},"template":{"metadata":{"labels":
    {"kh-app":"NAME","khcheck":"daemonset"}},"spec":{"nodeSelector":{"role":"none"},
    "containers":[{"name":"sleep","image":"IMG"}]}}}})";
  for (const char* name : {"daemonset-1000", "other-1000"}) {
    const std::string body = std::regex_replace(
        std::regex_replace(leftover, std::regex("NAME"), name), std::regex("IMG"), kPause);
    auto r = cluster().AdminRequest(
        "POST", std::string("/apis/apps/v1/namespaces/") + kNs + "/daemonsets", body);
    ASSERT_TRUE(r.ok() && r.value().status == 201) << (r.ok() ? r.value().body : r.error());
  }

  Report r = RunCheck({"TOLERATIONS=dedicated=gpu:NoSchedule"}, 60);
  EXPECT_TRUE(r.ok) << ::testing::PrintToString(r.errors) << "\n" << r.stderr_text;
  EXPECT_TRUE(r.errors.empty());
  EXPECT_EQ(r.exit_code, 0) << r.stderr_text;
  // The tolerated taint's node ran a pod; the cordoned one and the one whose taint is not
  // tolerated never got one (Kuberhealthy would have tolerated the Fargate taint: #854).
  EXPECT_EQ(nodes->pods_for("ok-web"), 1u);
  EXPECT_EQ(nodes->pods_for("ok-gpu"), 1u);
  EXPECT_EQ(nodes->pods_for("ok-cordoned"), 0u);
  EXPECT_EQ(nodes->pods_for("ok-fargate"), 0u);
  EXPECT_EQ(kubelet->pods_started(), 2u);
  EXPECT_NE(
      r.stderr_text.find("ok-cordoned: cordoned; ok-fargate: taint "
                         "eks.amazonaws.com/compute-type=fargate:NoSchedule is not tolerated"),
      std::string::npos)
      << r.stderr_text;
  EXPECT_NE(r.stderr_text.find("removing kuberhealthy/daemonset-1000"), std::string::npos);
  auto other = cluster().AdminRequest(
      "GET", std::string("/apis/apps/v1/namespaces/") + kNs + "/daemonsets/other-1000");
  EXPECT_TRUE(other.ok() && other.value().status == 200) << "another check's DaemonSet was removed";
  cluster().AdminRequest("DELETE",
                         std::string("/apis/apps/v1/namespaces/") + kNs + "/daemonsets/other-1000");

  ExpectNothingLeft();

  // With NODE_SELECTOR only the labelled node is expected.
  r = RunCheck({"NODE_SELECTOR=role=web"}, 60);
  EXPECT_TRUE(r.ok) << ::testing::PrintToString(r.errors);
  EXPECT_EQ(nodes->pods_for("ok-web"), 2u);
  EXPECT_EQ(nodes->pods_for("ok-gpu"), 1u);
  ExpectNothingLeft();
}

TEST_F(DaemonsetCheck, NamesTheNodeWithoutAReadyPod) {
  auto kubelet = Kubelet();
  auto nodes = Nodes({{.name = "f-a"}, {.name = "f-b", .bind = false}});
  ASSERT_NE(nodes, nullptr);
  const auto start = std::chrono::steady_clock::now();
  Report r = RunCheck({"SHUTDOWN_GRACE_PERIOD=10s"}, 30);
  EXPECT_FALSE(r.ok);
  EXPECT_EQ(r.exit_code, 1) << r.stderr_text;
  ASSERT_EQ(r.errors.size(), 2u) << ::testing::PrintToString(r.errors);
  // The budget is 25s (the deadline less 5s); the wait leaves 10s for the teardown.
  EXPECT_TRUE(std::regex_match(
      r.errors[0],
      std::regex("daemonset kuberhealthy/daemonset-[0-9]+: no ready pod on node\\(s\\) "
                 "f-b after 1[0-6]s")))
      << r.errors[0];
  EXPECT_TRUE(std::regex_match(
      r.errors[1], std::regex("f-b: pod daemonset-[0-9]+-[a-z0-9]+ is Pending, not scheduled")))
      << r.errors[1];
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(30));
  EXPECT_EQ(nodes->pods_for("f-a"), 1u);
  EXPECT_EQ(nodes->pods_for("f-b"), 1u);
  ExpectNothingLeft();
}

TEST_F(DaemonsetCheck, AnImageThatDoesNotPullFailsOnEveryNode) {
  auto kubelet = Kubelet();
  auto nodes = Nodes({{.name = "i-a"}});
  ASSERT_NE(nodes, nullptr);
  Report r = RunCheck(
      {"PAUSE_CONTAINER_IMAGE=registry.example/invalid-pause:1", "SHUTDOWN_GRACE_PERIOD=5s",
       "CHECK_DAEMONSET_NAME=ds-check", "POD_NAMESPACE=kuberhealthy"},
      20);
  EXPECT_FALSE(r.ok);
  ASSERT_EQ(r.errors.size(), 2u) << ::testing::PrintToString(r.errors);
  EXPECT_TRUE(std::regex_match(
      r.errors[0],
      std::regex("daemonset kuberhealthy/ds-check-[0-9]+: no ready pod on node\\(s\\) i-a after "
                 "[0-9]+s")))
      << r.errors[0];
  EXPECT_TRUE(std::regex_match(
      r.errors[1],
      std::regex("i-a: pod ds-check-[0-9]+-[a-z0-9]+ is Pending \\(sleep: ErrImagePull\\)")))
      << r.errors[1];
  ExpectNothingLeft();
}

TEST_F(DaemonsetCheck, NoNodeToCheckIsAFailure) {
  auto nodes = Nodes({{.name = "n-cordoned", .cordoned = true}});
  ASSERT_NE(nodes, nullptr);
  Report r = RunCheck({}, 20);
  EXPECT_EQ(r.errors, std::vector<std::string>{"daemonset check: none of the 1 nodes should run "
                                               "the check's pod (n-cordoned: cordoned)"});
  ExpectNothingLeft();
}

}  // namespace
}  // namespace sonde::kube
