// Sonde's Kubernetes client (src/kube) against the real kube-apiserver v1.20.2: requests,
// optimistic concurrency, token rotation, client certificates, and the informer through the
// fault proxy (a watch dropped mid-stream, 410 on resume, 429 and 500 answers, a server gone).
#include "kube/kube_client.hpp"

#include <gtest/gtest.h>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/json.hpp>
#include <fstream>
#include <sstream>

#include "kube/cluster_suite.hpp"
#include "kube/fault_proxy.hpp"
#include "kube/informer.hpp"

namespace sonde::kube {
namespace {

namespace asio = boost::asio;
namespace json = boost::json;
using std::chrono::milliseconds;
using std::chrono::seconds;

std::string ReadAll(const std::string& path) {
  std::ifstream in(path);
  std::ostringstream out;
  out << in.rdbuf();
  return out.str();
}

// A client on its own io_context, driven from the test thread.
class Rig {
 public:
  explicit Rig(ClusterConfig config, ClientOptions options = {})
      : client_(io_.get_executor(), clock_, std::move(config), std::move(options)) {
    const Status init = client_.Init();
    EXPECT_TRUE(init.ok()) << init.message();
  }
  KubeClient& client() { return client_; }
  asio::io_context& io() { return io_; }

  Result<Response> Call(std::string method, std::string path, std::string body = {},
                        std::string type = "application/json") {
    std::optional<Result<Response>> out;
    asio::co_spawn(
        io_,
        [&]() -> asio::awaitable<void> {
          out.emplace(co_await client_.Call(method, path, body, type));
        },
        asio::detached);
    RunUntil([&] { return out.has_value(); }, seconds(60));
    if (!out) return Result<Response>::Error("no answer within 60s");
    return *out;
  }

  // Runs the loop until `pred` holds or `limit` passes.
  template <class Pred>
  bool RunUntil(Pred pred, std::chrono::milliseconds limit = seconds(30)) {
    const auto end = std::chrono::steady_clock::now() + limit;
    while (!pred() && std::chrono::steady_clock::now() < end) {
      io_.restart();
      io_.run_for(milliseconds(20));
    }
    return pred();
  }

 private:
  asio::io_context io_;
  SystemClock clock_;
  KubeClient client_;
};

class KubeClientTest : public ClusterSuite<KubeClientTest> {
 protected:
  static ClusterConfig Admin(const std::string& server = "") {
    ClusterConfig c;
    c.server = server.empty() ? cluster().server() : server;
    c.ca_pem = ReadAll(cluster().ca_file());
    c.token = cluster().admin_token();
    c.source = "test";
    return c;
  }
  static testing::FaultProxyOptions ProxyOptions() {
    return {.upstream_port = cluster().port(),
            .ca_file = cluster().ca_file(),
            .cert_file = cluster().server_cert_file(),
            .key_file = cluster().server_key_file()};
  }
  static void CreateNamespace(const std::string& name) {
    auto r = cluster().AdminRequest("POST", "/api/v1/namespaces",
                                    R"({"metadata":{"name":")" + name + R"("}})");
    ASSERT_TRUE(r.ok()) << r.error();
  }
  static std::string ConfigMap(const std::string& name) {
    return R"({"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":")" + name +
           R"("},"data":{"k":"v"}})";
  }
};

TEST_F(KubeClientTest, AuthenticatesWithTokenOrClientCertificateAndVerifiesTheServer) {
  Rig rig(Admin());
  auto version = rig.Call("GET", "/version");
  ASSERT_TRUE(version.ok()) << version.error();
  EXPECT_EQ(version.value().status, 200);
  EXPECT_NE(version.value().body.find("v1.20.2"), std::string::npos);

  ClusterConfig cert = Admin();
  cert.token.clear();
  cert.client_cert_pem = ReadAll(cluster().client_cert_file());
  cert.client_key_pem = ReadAll(cluster().client_key_file());
  Rig cert_rig(cert);
  auto listed = cert_rig.Call("GET", "/api/v1/namespaces");
  ASSERT_TRUE(listed.ok()) << listed.error();
  EXPECT_EQ(listed.value().status, 200) << listed.value().body;

  ClusterConfig anonymous = Admin();
  anonymous.token.clear();
  Rig anonymous_rig(anonymous);
  auto denied = anonymous_rig.Call("GET", "/api/v1/namespaces");
  ASSERT_TRUE(denied.ok()) << denied.error();
  EXPECT_EQ(denied.value().status, 401);
  EXPECT_EQ(DescribeStatus(denied.value()).rfind("401 Unauthorized", 0), 0u)
      << DescribeStatus(denied.value());

  ClusterConfig system_trust = Admin();
  system_trust.ca_pem.clear();  // the test CA is not in the system's trust store
  Rig untrusting(system_trust);
  auto refused = untrusting.Call("GET", "/version");
  ASSERT_FALSE(refused.ok());
  EXPECT_NE(refused.error().find("GET " + cluster().server() + "/version: "), std::string::npos)
      << refused.error();
  EXPECT_NE(refused.error().find("certificate"), std::string::npos) << refused.error();
}

TEST_F(KubeClientTest, AStaleUpdateConflictsAndAFreshOneWins) {
  CreateNamespace("conflicts");
  Rig rig(Admin());
  const std::string path = "/api/v1/namespaces/conflicts/configmaps";
  auto created = rig.Call("POST", path, ConfigMap("c"));
  ASSERT_TRUE(created.ok()) << created.error();
  ASSERT_EQ(created.value().status, 201) << created.value().body;
  json::object object = json::parse(created.value().body).as_object();
  object["data"].as_object()["k"] = "first";
  auto first = rig.Call("PUT", path + "/c", json::serialize(object));
  ASSERT_TRUE(first.ok());
  EXPECT_EQ(first.value().status, 200) << first.value().body;
  object["data"].as_object()["k"] = "stale";  // still the resourceVersion of the create
  auto stale = rig.Call("PUT", path + "/c", json::serialize(object));
  ASSERT_TRUE(stale.ok());
  EXPECT_EQ(stale.value().status, 409);
  EXPECT_EQ(DescribeStatus(stale.value()).rfind("409 Conflict: Operation cannot be fulfilled", 0),
            0u)
      << DescribeStatus(stale.value());
  auto patched =
      rig.Call("PATCH", path + "/c", R"({"data":{"k":"merged"}})", "application/merge-patch+json");
  ASSERT_TRUE(patched.ok());
  EXPECT_EQ(patched.value().status, 200) << patched.value().body;
  EXPECT_NE(patched.value().body.find("merged"), std::string::npos);
}

TEST_F(KubeClientTest, RereadsARotatedTokenFileWhenTheServerRefusesTheOldOne) {
  const std::string file = cluster().dir() + "/rotating-token";
  std::ofstream(file) << "expired-token\n";
  ClusterConfig config = Admin();
  config.token = "expired-token";
  config.token_file = file;
  Rig rig(config);
  std::ofstream(file) << cluster().admin_token() << "\n";  // the kubelet rotated it
  auto listed = rig.Call("GET", "/api/v1/namespaces");
  ASSERT_TRUE(listed.ok()) << listed.error();
  EXPECT_EQ(listed.value().status, 200) << listed.value().body;
  EXPECT_EQ(rig.client().requests_sent(), 2u) << "one 401, then one retry with the new token";
}

TEST_F(KubeClientTest, Honours429RetryAfterAndReportsOther5xx) {
  CreateNamespace("throttled");
  testing::FaultProxy proxy(ProxyOptions());
  Rig rig(Admin(proxy.url()));
  proxy.FailNext(1, 429, "/namespaces/throttled/configmaps", "GET", 1);
  auto listed = rig.Call("GET", "/api/v1/namespaces/throttled/configmaps");
  ASSERT_TRUE(listed.ok()) << listed.error();
  EXPECT_EQ(listed.value().status, 200);
  EXPECT_EQ(proxy.faults_injected(), 1u);

  proxy.FailNext(1, 500, "/namespaces/throttled/configmaps");
  auto failed = rig.Call("GET", "/api/v1/namespaces/throttled/configmaps");
  ASSERT_TRUE(failed.ok()) << failed.error();
  EXPECT_EQ(failed.value().status, 500);
  EXPECT_EQ(DescribeStatus(failed.value()),
            "500 Internal Server Error: injected by the test proxy");
}

TEST_F(KubeClientTest, InformerFollowsTheServer) {
  CreateNamespace("direct");
  Rig rig(Admin());
  Informer informer(rig.client(), {.path = "/api/v1/namespaces/direct/configmaps"}, {});
  informer.Start(rig.io().get_executor());
  ASSERT_TRUE(rig.RunUntil([&] { return informer.synced(); }));
  auto r = cluster().AdminRequest("POST", "/api/v1/namespaces/direct/configmaps", ConfigMap("x"));
  ASSERT_TRUE(r.ok()) << r.error();
  EXPECT_TRUE(rig.RunUntil([&] { return informer.Find("direct/x") != nullptr; }, seconds(10)))
      << "watches " << informer.stats().watches << ", errors " << informer.stats().errors << ": "
      << informer.last_error();
  EXPECT_EQ(informer.stats().lists, 1u);
}

// The informer's cache follows the server through every fault, relisting only on 410.
TEST_F(KubeClientTest, InformerResumesDroppedWatchesAndRelistsOnlyWhenGone) {
  CreateNamespace("informed");
  testing::FaultProxy proxy(ProxyOptions());
  Rig rig(Admin(proxy.url()));
  std::vector<std::string> removed;
  int synced = 0;
  Informer informer(rig.client(),
                    {.path = "/api/v1/namespaces/informed/configmaps",
                     .min_backoff = milliseconds(100),
                     .max_backoff = milliseconds(500)},
                    {.upsert = [](const json::object&) {},
                     .remove = [&](const json::object& o) { removed.push_back(ObjectKey(o)); },
                     .synced = [&] { ++synced; }});
  informer.Start(rig.io().get_executor());
  ASSERT_TRUE(rig.RunUntil([&] { return informer.synced(); }));
  auto create = [&](const std::string& name) {
    auto r =
        cluster().AdminRequest("POST", "/api/v1/namespaces/informed/configmaps", ConfigMap(name));
    ASSERT_TRUE(r.ok()) << r.error();
    ASSERT_EQ(r.value().status, 201) << r.value().body;
  };
  auto sees = [&](const std::string& name) -> ::testing::AssertionResult {
    if (rig.RunUntil([&] { return informer.Find("informed/" + name) != nullptr; })) {
      return ::testing::AssertionSuccess();
    }
    return ::testing::AssertionFailure()
           << name << " not seen; lists " << informer.stats().lists << ", watches "
           << informer.stats().watches << ", errors " << informer.stats().errors << ", last error "
           << informer.last_error();
  };

  create("a");
  EXPECT_TRUE(sees("a"));
  proxy.DropWatches();  // mid-stream: resume from the last resourceVersion, no relist
  create("b");
  EXPECT_TRUE(sees("b"));
  EXPECT_EQ(informer.stats().lists, 1u);
  EXPECT_GE(informer.stats().watches, 2u);

  proxy.ExpireNextWatchResumes(1);  // the server no longer has our version: relist
  proxy.DropWatches();
  create("c");
  EXPECT_TRUE(sees("c"));
  EXPECT_TRUE(rig.RunUntil([&] { return informer.stats().lists == 2; }));
  EXPECT_EQ(informer.stats().gone, 1u);
  EXPECT_EQ(synced, 2);

  proxy.ExpireNextWatchResumes(1);  // ...and the relist fails twice first: back off, retry
  proxy.FailNext(2, 500, "/namespaces/informed/configmaps?limit");
  proxy.DropWatches();
  create("d");
  EXPECT_TRUE(sees("d"));
  EXPECT_GE(informer.stats().errors, 2u);
  EXPECT_TRUE(informer.last_error().empty()) << informer.last_error();

  proxy.SetDown(true);  // the server gone for a while
  create("e");
  rig.RunUntil([] { return false; }, milliseconds(1500));
  EXPECT_EQ(informer.Find("informed/e"), nullptr);
  proxy.SetDown(false);
  EXPECT_TRUE(sees("e"));

  auto deleted = cluster().AdminRequest("DELETE", "/api/v1/namespaces/informed/configmaps/a");
  ASSERT_TRUE(deleted.ok());
  EXPECT_TRUE(rig.RunUntil([&] { return informer.Find("informed/a") == nullptr; }));
  EXPECT_EQ(removed, std::vector<std::string>{"informed/a"});
  for (const char* name : {"informed/b", "informed/c", "informed/d", "informed/e"}) {
    EXPECT_NE(informer.Find(name), nullptr) << name;
  }
  informer.Stop();
}

}  // namespace
}  // namespace sonde::kube
