#include "kube/kube_config.hpp"

#include <gtest/gtest.h>
#include <stdlib.h>

#include <filesystem>
#include <fstream>
#include <map>

namespace sonde::kube {
namespace {

namespace fs = std::filesystem;

class KubeConfigTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/sonde-kubeconfig-XXXXXX";
    dir_ = mkdtemp(tmpl);
  }
  void TearDown() override { fs::remove_all(dir_); }
  std::string Write(const std::string& name, const std::string& text) {
    const std::string path = dir_ + "/" + name;
    std::ofstream(path) << text;
    return path;
  }
  std::string dir_;
};

constexpr const char* kHeader = R"(apiVersion: v1
kind: Config
current-context: main
clusters:
- name: c1
  cluster:
    server: https://127.0.0.1:6443/
    certificate-authority: ca.crt
contexts:
- name: main
  context: {cluster: c1, user: u1, namespace: checks}
- name: other
  context: {cluster: c1, user: u2}
)";

TEST_F(KubeConfigTest, ReadsTokenUserAndRelativeCaFile) {
  Write("ca.crt", "CA PEM");
  const auto path = Write("config", std::string(kHeader) + R"(users:
- name: u1
  user: {token: abc}
)");
  auto config = LoadKubeconfig(path);
  ASSERT_TRUE(config.ok()) << config.error();
  EXPECT_EQ(config.value().server, "https://127.0.0.1:6443");
  EXPECT_EQ(config.value().ca_pem, "CA PEM");
  EXPECT_EQ(config.value().token, "abc");
  EXPECT_EQ(config.value().ns, "checks");
  EXPECT_EQ(config.value().source, "kubeconfig " + path + " (context main)");
}

TEST_F(KubeConfigTest, ReadsClientCertificateDataAndTokenFileOfAnotherContext) {
  Write("ca.crt", "CA PEM");
  Write("token", "rotating-token\n");
  // "Y2VydA==" is "cert", "a2V5" is "key".
  const auto path = Write("config", std::string(kHeader) + R"(users:
- name: u2
  user:
    tokenFile: token
    client-certificate-data: Y2VydA==
    client-key-data: a2V5
)");
  auto config = LoadKubeconfig(path, "other");
  ASSERT_TRUE(config.ok()) << config.error();
  EXPECT_EQ(config.value().token, "rotating-token");
  EXPECT_EQ(config.value().token_file, dir_ + "/token");
  EXPECT_EQ(config.value().client_cert_pem, "cert");
  EXPECT_EQ(config.value().client_key_pem, "key");
  EXPECT_EQ(config.value().ns, "");
}

TEST_F(KubeConfigTest, ErrorsNameTheFileAndField) {
  Write("ca.crt", "CA PEM");
  struct Case {
    std::string users;
    std::string context;
    std::string error;
  } cases[] = {
      {"users:\n- name: u1\n  user: {token: a}\n", "nope", "contexts: no context named \"nope\""},
      {"users: []\n", "", "users: no user named \"u1\""},
      {"users:\n- name: u1\n  user: {client-certificate-data: Y2VydA==}\n", "",
       "users[0].user: client-certificate and client-key must be given together"},
      {"users:\n- name: u1\n  user: {client-key-data: '!!'}\n", "",
       "users[0].user.client-key-data: not valid base64"},
      {"users:\n- name: u1\n  user: {tokenFile: missing}\n", "",
       "users[0].user.tokenFile: cannot read " + dir_ + "/missing"},
      {"users:\n- name: u1\n  user: {exec: {command: x}}\n", "",
       "exec and auth-provider credentials are not supported"},
  };
  for (const auto& c : cases) {
    const auto path = Write("config", std::string(kHeader) + c.users);
    auto config = LoadKubeconfig(path, c.context);
    ASSERT_FALSE(config.ok()) << c.users;
    EXPECT_NE(config.error().find(path + ": "), std::string::npos) << config.error();
    EXPECT_NE(config.error().find(c.error), std::string::npos) << config.error();
  }
}

TEST_F(KubeConfigTest, RejectsPlainHttpAndBadYaml) {
  auto path = Write("config", R"(current-context: a
contexts: [{name: a, context: {cluster: c}}]
clusters: [{name: c, cluster: {server: "http://127.0.0.1:8080"}}]
)");
  auto config = LoadKubeconfig(path);
  ASSERT_FALSE(config.ok());
  EXPECT_NE(config.error().find("clusters[0].cluster.server: \"http://127.0.0.1:8080\" is not an "
                                "https:// URL"),
            std::string::npos)
      << config.error();
  path = Write("config", "clusters: [\n");
  config = LoadKubeconfig(path);
  ASSERT_FALSE(config.ok());
  EXPECT_NE(config.error().find(path + ":"), std::string::npos) << config.error();
}

TEST_F(KubeConfigTest, InClusterReadsTheServiceAccountAndEnvironment) {
  Write("token", "sa-token\n");
  Write("ca.crt", "SA CA");
  Write("namespace", "kuberhealthy");
  std::map<std::string, std::string> env = {{"KUBERNETES_SERVICE_HOST", "10.0.0.1"},
                                            {"KUBERNETES_SERVICE_PORT", "443"}};
  const EnvLookup lookup = [&](const std::string& name) -> std::optional<std::string> {
    const auto it = env.find(name);
    if (it == env.end()) return std::nullopt;
    return it->second;
  };
  auto config = LoadInCluster(lookup, dir_);
  ASSERT_TRUE(config.ok()) << config.error();
  EXPECT_EQ(config.value().server, "https://10.0.0.1:443");
  EXPECT_EQ(config.value().token, "sa-token");
  EXPECT_EQ(config.value().token_file, dir_ + "/token");
  EXPECT_EQ(config.value().ca_pem, "SA CA");
  EXPECT_EQ(config.value().ns, "kuberhealthy");

  env["KUBERNETES_SERVICE_HOST"] = "fd00::1";
  config = LoadInCluster(lookup, dir_);
  ASSERT_TRUE(config.ok()) << config.error();
  EXPECT_EQ(config.value().server, "https://[fd00::1]:443");

  env.clear();
  config = LoadInCluster(lookup, dir_);
  ASSERT_FALSE(config.ok());
  EXPECT_NE(config.error().find("KUBERNETES_SERVICE_HOST"), std::string::npos);
}

TEST_F(KubeConfigTest, ResolveFollowsKubectlsOrder) {
  Write("ca.crt", "CA PEM");
  const auto path =
      Write("config", std::string(kHeader) + "users: [{name: u1, user: {token: t}}]\n");
  std::map<std::string, std::string> env = {{"KUBECONFIG", "/nonexistent:" + path},
                                            {"KUBERNETES_SERVICE_HOST", "10.0.0.1"}};
  const EnvLookup lookup = [&](const std::string& name) -> std::optional<std::string> {
    const auto it = env.find(name);
    if (it == env.end()) return std::nullopt;
    return it->second;
  };
  auto config = ResolveClusterConfig("", "", lookup);
  ASSERT_TRUE(config.ok()) << config.error();
  EXPECT_EQ(config.value().token, "t");  // $KUBECONFIG before in-cluster

  env = {{"HOME", dir_}};
  config = ResolveClusterConfig("", "", lookup);
  ASSERT_FALSE(config.ok());
  EXPECT_NE(config.error().find("no Kubernetes configuration"), std::string::npos);

  config = ResolveClusterConfig(dir_ + "/absent", "", lookup);
  ASSERT_FALSE(config.ok());
  EXPECT_NE(config.error().find("cannot read " + dir_ + "/absent"), std::string::npos);
}

}  // namespace
}  // namespace sonde::kube
