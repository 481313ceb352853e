// Loading behaviour: kinds, defaults, multi-document files, directories, duplicates and the
// seed check. Per-rule validation messages are in check_validation_test.cpp.
#include "config/check_loader.hpp"

#include <gtest/gtest.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>

namespace sonde {
namespace {

namespace fs = std::filesystem;
using std::chrono::hours;
using std::chrono::minutes;
using std::chrono::seconds;

std::string TestdataDir() { return std::string(SONDE_SOURCE_DIR) + "/src/config/testdata"; }

std::vector<std::string> ErrorStrings(const LoadResult& r) {
  std::vector<std::string> out;
  for (const ConfigError& e : r.errors) out.push_back(e.ToString());
  return out;
}

TEST(ConfigErrorTest, ToStringLeavesOutEmptyParts) {
  EXPECT_EQ((ConfigError{"a.yaml", 3, 5, "spec", "bad"}).ToString(), "a.yaml:3:5: spec: bad");
  EXPECT_EQ((ConfigError{"a.yaml", 3, 0, "", "bad"}).ToString(), "a.yaml:3: bad");
  EXPECT_EQ((ConfigError{"a.yaml", 0, 0, "", "bad"}).ToString(), "a.yaml: bad");
  EXPECT_EQ((ConfigError{"", 0, 0, "spec", "bad"}).ToString(), "spec: bad");
  EXPECT_EQ((ConfigError{"", 2, 1, "", "bad"}).ToString(), "2:1: bad");
}

TEST(CheckLoaderTest, KuberhealthyCheckFieldsAndDefaults) {
  const LoadResult r = ParseChecks(R"(apiVersion: comcast.github.io/v1
kind: KuberhealthyCheck
metadata:
  name: dns
  namespace: kuberhealthy
spec:
  runInterval: 1h30m
  extraLabels: {team: sre}
  extraAnnotations: {note: "x"}
  podSpec:
    securityContext: {runAsUser: 1000, runAsGroup: 100}
    initContainers:
    - {name: setup, command: [sh, -c, "true"]}
    containers:
    - name: main
      image: dns-check:1
      command: [./check]
      args: [--port, 8080]
      workingDir: work
      env:
      - {name: A, value: "1"}
      - {name: EMPTY}
      securityContext: {runAsUser: 0}
      resources: {limits: {cpu: 1}}
)",
                                   "/etc/sonde/checks/dns.yaml");
  ASSERT_EQ(ErrorStrings(r), std::vector<std::string>{});
  ASSERT_EQ(r.checks.size(), 1u);
  const CheckSpec& c = r.checks[0];
  EXPECT_EQ(c.key.str(), "kuberhealthy/dns");
  EXPECT_EQ(c.kind, CheckKind::kKhCheck);
  EXPECT_EQ(c.run_interval, hours(1) + minutes(30));
  EXPECT_EQ(c.timeout, minutes(5));
  EXPECT_FALSE(c.single_run);
  EXPECT_EQ(c.extra_labels, (std::map<std::string, std::string>{{"team", "sre"}}));
  EXPECT_EQ(c.extra_annotations, (std::map<std::string, std::string>{{"note", "x"}}));
  EXPECT_EQ(c.source_file, "/etc/sonde/checks/dns.yaml");
  EXPECT_EQ(c.source_line, 1);
  EXPECT_EQ(c.base_dir, "/etc/sonde/checks");
  ASSERT_EQ(c.pod->init_containers.size(), 1u);
  EXPECT_EQ(c.pod->init_containers[0].command, (std::vector<std::string>{"sh", "-c", "true"}));
  EXPECT_EQ(c.pod->init_containers[0].run_as_user, 1000);
  ASSERT_EQ(c.pod->containers.size(), 1u);
  const Container& m = c.pod->containers[0];
  EXPECT_EQ(m.name, "main");
  EXPECT_EQ(m.image, "dns-check:1");
  EXPECT_EQ(m.command, std::vector<std::string>{"./check"});
  EXPECT_EQ(m.args, (std::vector<std::string>{"--port", "8080"}));
  EXPECT_EQ(m.working_dir, "work");
  EXPECT_EQ(m.env, (std::vector<EnvVar>{{"A", "1"}, {"EMPTY", ""}}));
  EXPECT_EQ(m.run_as_user, 0);     // the container's own value wins
  EXPECT_EQ(m.run_as_group, 100);  // falls back to the pod's
}

TEST(CheckLoaderTest, KuberhealthyJobIsSingleRunWithDefaults) {
  const LoadResult r = ParseChecks(R"(apiVersion: comcast.github.io/v1
kind: KuberhealthyJob
metadata: {name: migrate}
spec:
  phase: ""
  podSpec:
    containers: [{name: main, command: [true]}]
)",
                                   "job.yaml");
  ASSERT_EQ(ErrorStrings(r), std::vector<std::string>{});
  ASSERT_EQ(r.checks.size(), 1u);
  const CheckSpec& c = r.checks[0];
  EXPECT_EQ(c.key.str(), "default/migrate");
  EXPECT_EQ(c.kind, CheckKind::kKhJob);
  EXPECT_TRUE(c.single_run);
  EXPECT_TRUE(c.IsJob());
  EXPECT_EQ(c.timeout, minutes(5));
  EXPECT_EQ(c.base_dir, ".");
}

TEST(CheckLoaderTest, HealthCheckUsesPodTemplate) {
  const LoadResult r = ParseChecks(R"(apiVersion: kuberhealthy.github.io/v2
kind: HealthCheck
metadata: {name: web.probe, namespace: ops}
spec:
  singleRunOnly: true
  podSpec:
    metadata:
      labels: {app: probe}
      annotations: {owner: me}
    spec:
      securityContext: {runAsGroup: 7}
      containers:
      - {name: main, command: [curl, example.com]}
)",
                                   "checks/hc.yaml");
  ASSERT_EQ(ErrorStrings(r), std::vector<std::string>{});
  ASSERT_EQ(r.checks.size(), 1u);
  const CheckSpec& c = r.checks[0];
  EXPECT_EQ(c.key.str(), "ops/web.probe");
  EXPECT_EQ(c.kind, CheckKind::kHealthCheck);
  EXPECT_EQ(c.run_interval, minutes(10));
  EXPECT_EQ(c.timeout, seconds(30));
  EXPECT_TRUE(c.single_run);
  EXPECT_EQ(c.pod_labels, (std::map<std::string, std::string>{{"app", "probe"}}));
  EXPECT_EQ(c.pod_annotations, (std::map<std::string, std::string>{{"owner", "me"}}));
  EXPECT_EQ(c.base_dir, "checks");
  ASSERT_EQ(c.pod->containers.size(), 1u);
  EXPECT_EQ(c.pod->containers[0].command, (std::vector<std::string>{"curl", "example.com"}));
  EXPECT_EQ(c.pod->containers[0].run_as_group, 7);
  EXPECT_EQ(c.pod->containers[0].run_as_user, std::nullopt);
}

constexpr char kMinimalA[] = R"(apiVersion: comcast.github.io/v1
kind: KuberhealthyCheck
metadata: {name: a}
spec: {podSpec: {containers: [{name: main, command: [true]}]}}
)";

std::string Check(const std::string& name) {
  return "apiVersion: comcast.github.io/v1\nkind: KuberhealthyCheck\nmetadata: {name: " + name +
         "}\nspec: {podSpec: {containers: [{name: main, command: [true]}]}}\n";
}

TEST(CheckLoaderTest, MultiDocumentSkipsEmptyDocumentsAndKeepsLines) {
  const std::string text = std::string("# leading comment\n---\n") + kMinimalA +
                           "---\n# only a comment\n---\n" +
                           "apiVersion: kuberhealthy.github.io/v2\nkind: HealthCheck\n"
                           "metadata: {name: b}\n"
                           "spec: {podSpec: {spec: {containers: [{name: m, command: [x]}]}}}\n"
                           "...\n";
  const LoadResult r = ParseChecks(text, "multi.yaml");
  ASSERT_EQ(ErrorStrings(r), std::vector<std::string>{});
  ASSERT_EQ(r.checks.size(), 2u);
  EXPECT_EQ(r.checks[0].key.name, "a");
  EXPECT_EQ(r.checks[0].source_line, 3);
  EXPECT_EQ(r.checks[1].key.name, "b");
  EXPECT_EQ(r.checks[1].source_line, 10);
}

TEST(CheckLoaderTest, SyntaxErrorSparesOtherDocuments) {
  const std::string text = std::string("a: [1, 2\nb: 3\n---\n") + kMinimalA;
  const LoadResult r = ParseChecks(text, "s.yaml");
  EXPECT_EQ(ErrorStrings(r),
            std::vector<std::string>{"s.yaml:2:2: invalid YAML: end of sequence flow not found"});
  ASSERT_EQ(r.checks.size(), 1u);
  EXPECT_EQ(r.checks[0].source_line, 4);
}

// yaml-cpp 0.7 stops a document early at a stray token and LoadAll then loops forever
// (jbeder/yaml-cpp#1040); both must come out as one syntax error.
TEST(CheckLoaderTest, StrayTokenIsASyntaxErrorNotAHang) {
  const std::string text =
      std::string(",a: b\n---\n- m: x\n  c:\n    (a in (\n\"b\",\n    )\n---\n") + kMinimalA;
  const LoadResult r = ParseChecks(text, "s.yaml");
  EXPECT_EQ(ErrorStrings(r),
            (std::vector<std::string>{"s.yaml:1:1: invalid YAML: unexpected ','",
                                      "s.yaml:6:1: invalid YAML: unexpected '\"'"}));
  EXPECT_EQ(r.checks.size(), 1u);
}

TEST(CheckLoaderTest, DocumentEndMarkerStartsANewDocument) {
  const std::string text = std::string(kMinimalA) + "...\n" + Check("b");
  const LoadResult r = ParseChecks(text, "e.yaml");
  ASSERT_EQ(ErrorStrings(r), std::vector<std::string>{});
  ASSERT_EQ(r.checks.size(), 2u);
  EXPECT_EQ(r.checks[1].source_line, 6);
}

TEST(CheckLoaderTest, DuplicateWithinText) {
  const std::string text = std::string(kMinimalA) + "---\n" + kMinimalA;
  const LoadResult r = ParseChecks(text, "d.yaml");
  EXPECT_EQ(ErrorStrings(r), std::vector<std::string>{
                                 "d.yaml:8:18: metadata.name: duplicate check default/a: already "
                                 "defined at d.yaml:3"});
  EXPECT_EQ(r.checks.size(), 1u);
}

TEST(CheckLoaderTest, SeedCheckNeedsACommandInLocalMode) {
  const std::string file = TestdataDir() + "/seed-check.yaml";
  const LoadResult local = LoadChecks({file});
  EXPECT_EQ(
      ErrorStrings(local),
      std::vector<std::string>{
          file + ":10:7: spec.podSpec.containers[0].command: is required in local mode: Sonde "
                 "runs the container's command as a local process and cannot use the entrypoint "
                 "of image \"xxxx\"; set command (and args) to a program on this machine, e.g. "
                 "command: [\"bash\", \"run.sh\"]"});
  EXPECT_TRUE(local.checks.empty());

  const LoadResult k8s = LoadChecks({file}, LoadOptions{.local_mode = false});
  ASSERT_EQ(ErrorStrings(k8s), std::vector<std::string>{});
  ASSERT_EQ(k8s.checks.size(), 1u);
  const CheckSpec& c = k8s.checks[0];
  EXPECT_EQ(c.key.str(), "default/openbayes-gear-check");
  EXPECT_EQ(c.run_interval, hours(6));
  EXPECT_EQ(c.timeout, minutes(5));
  ASSERT_EQ(c.pod->containers.size(), 1u);
  EXPECT_EQ(c.pod->containers[0].image, "xxxx");
  EXPECT_EQ(c.pod->containers[0].env, (std::vector<EnvVar>{{"OPENBAYES_TOKEN", "<THE TOKEN>"},
                                                          {"ENTRYPOINT", "<THE ENTRYPOINT>"},
                                                          {"RUNTIME", "pytorch-1.7.0"},
                                                          {"RESOURCE", "titan_rtx"}}));
  EXPECT_EQ(c.base_dir, TestdataDir());
}

// A scratch directory under /tmp, removed when the test ends.
class TempDir {
 public:
  TempDir() {
    std::string tmpl = (fs::temp_directory_path() / "sonde-config-test-XXXXXX").string();
    path_ = ::mkdtemp(tmpl.data());
  }
  ~TempDir() { fs::remove_all(path_); }
  std::string Write(const std::string& rel, const std::string& text) const {
    const fs::path p = path_ / rel;
    fs::create_directories(p.parent_path());
    std::ofstream(p) << text;
    return p.string();
  }
  std::string path(const std::string& rel = "") const { return (path_ / rel).string(); }

 private:
  fs::path path_;
};

TEST(CheckLoaderTest, DirectoryIsLoadedRecursivelySortedSkippingHiddenAndOtherFiles) {
  TempDir dir;
  dir.Write("b.yml", Check("b"));
  dir.Write("a.yaml", Check("a"));
  dir.Write("sub/c.yaml", Check("c"));
  dir.Write("notes.txt", "not yaml");
  dir.Write(".hidden.yaml", Check("hidden-file"));
  dir.Write(".git/d.yaml", Check("hidden-dir"));
  // The same file named twice (directly and through its directory) loads once.
  const LoadResult r = LoadChecks({dir.path(), dir.path("a.yaml")});
  ASSERT_EQ(ErrorStrings(r), std::vector<std::string>{});
  std::vector<std::string> names;
  for (const CheckSpec& c : r.checks) names.push_back(c.key.name);
  EXPECT_EQ(names, (std::vector<std::string>{"a", "b", "c"}));
  EXPECT_EQ(r.checks[2].source_file, dir.path("sub/c.yaml"));
  EXPECT_EQ(r.checks[2].base_dir, dir.path("sub"));
}

TEST(CheckLoaderTest, BadFileNextToGoodFileAndMissingPath) {
  TempDir dir;
  dir.Write("a-bad.yaml", "apiVersion: v1\nkind: Pod\n");
  dir.Write("b-good.yaml", Check("good"));
  const LoadResult r = LoadChecks({dir.path("missing.yaml"), dir.path()});
  EXPECT_EQ(ErrorStrings(r),
            (std::vector<std::string>{
                dir.path("missing.yaml") + ": cannot read: No such file or directory",
                dir.path("a-bad.yaml") + ":1:1: metadata.name: is required",
                dir.path("a-bad.yaml") +
                    ":1:13: apiVersion: unsupported apiVersion \"v1\"; accepted: apiVersion "
                    "comcast.github.io/v1 with kind KuberhealthyCheck or KuberhealthyJob, or "
                    "apiVersion kuberhealthy.github.io/v2 with kind HealthCheck"}));
  ASSERT_EQ(r.checks.size(), 1u);
  EXPECT_EQ(r.checks[0].key.name, "good");
}

TEST(CheckLoaderTest, DuplicateAcrossFiles) {
  TempDir dir;
  dir.Write("a.yaml", Check("foo"));
  dir.Write("b.yaml", "# second\n" + Check("foo"));
  const LoadResult r = LoadChecks({dir.path()});
  EXPECT_EQ(ErrorStrings(r),
            std::vector<std::string>{dir.path("b.yaml") +
                                     ":4:18: metadata.name: duplicate check default/foo: already "
                                     "defined at " +
                                     dir.path("a.yaml") + ":3"});
  ASSERT_EQ(r.checks.size(), 1u);
  EXPECT_EQ(r.checks[0].source_file, dir.path("a.yaml"));
}

}  // namespace
}  // namespace sonde
