#include "kube/check_resource.hpp"

#include <gtest/gtest.h>

#include <fstream>
#include <sstream>

#include "kube/kube_test_support.hpp"
#include "probe/registry.hpp"

namespace sonde::kube {
namespace {

using std::chrono::minutes;
using std::chrono::seconds;
using testing::Obj;

std::string Fixture(const std::string& name) {
  std::ifstream in(std::string(SONDE_SOURCE_DIR) + "/src/kube/testdata/" + name);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

// A check object around `spec` (a JSON object's text).
std::string V2(std::string_view kind, std::string_view spec) {
  return R"({"apiVersion":"comcast.github.io/v1","kind":")" + std::string(kind) +
         R"(","metadata":{"name":"c","namespace":"ns","uid":"u-1"},"spec":)" + std::string(spec) +
         "}";
}
std::string V3(std::string_view spec) {
  return R"({"apiVersion":"kuberhealthy.github.io/v2","kind":"HealthCheck",)"
         R"("metadata":{"name":"c","namespace":"ns","uid":"u-1"},"spec":)" +
         std::string(spec) + "}";
}
constexpr std::string_view kPod = R"({"containers":[{"name":"m","image":"i"}]})";
std::string V2Spec(std::string_view fields) {
  return "{" + std::string(fields) + R"("podSpec":)" + std::string(kPod) + "}";
}
std::string V3Spec(std::string_view fields) {
  return "{" + std::string(fields) + R"("podSpec":{"spec":)" + std::string(kPod) + "}}";
}

struct Case {
  std::string name;
  std::string object;
  std::string error;  // expected error (exact); empty: success
  Duration run_interval{};
  Duration timeout{};
  std::vector<std::string> warnings;
  bool single_run = false;
  std::string job_phase;
};

void PrintTo(const Case& c, std::ostream* os) { *os << c.name; }

class ReadCheckResourceTest : public ::testing::TestWithParam<Case> {};

TEST_P(ReadCheckResourceTest, ReadsAsKuberhealthyDoes) {
  const Case& c = GetParam();
  const auto got = ReadCheckResource(Obj(c.object));
  if (!c.error.empty()) {
    ASSERT_FALSE(got.ok()) << "expected an error";
    EXPECT_EQ(got.error(), c.error);
    return;
  }
  ASSERT_TRUE(got.ok()) << got.error();
  const CheckResource& r = got.value();
  EXPECT_EQ(r.spec.run_interval, c.run_interval);
  EXPECT_EQ(r.spec.timeout, c.timeout);
  EXPECT_EQ(r.warnings, c.warnings);
  EXPECT_EQ(r.spec.single_run, c.single_run);
  EXPECT_EQ(r.job_phase, c.job_phase);
}

INSTANTIATE_TEST_SUITE_P(
    Cases, ReadCheckResourceTest,
    ::testing::Values(
        Case{"V2Defaults",
             V2("KuberhealthyCheck", V2Spec(R"("runInterval":"","timeout":"",)")),
             "",
             minutes(10),
             minutes(5),
             {"spec.runInterval: is empty; using 10m as Kuberhealthy does"}},
        Case{"V2AbsentRunInterval",
             V2("KuberhealthyCheck", V2Spec("")),
             "",
             minutes(10),
             minutes(5),
             {}},
        Case{"V2BadRunInterval",
             V2("KuberhealthyCheck", V2Spec(R"("runInterval":"5x","timeout":"1m",)")),
             "",
             minutes(10),
             minutes(1),
             {"spec.runInterval: invalid duration \"5x\": unknown unit \"x\" (use ns, us, ms, s, "
              "m or h); using 10m as Kuberhealthy does"}},
        Case{"V2ZeroRunIntervalBadTimeout",
             V2("KuberhealthyCheck", V2Spec(R"("runInterval":"0s","timeout":7,)")),
             "",
             minutes(10),
             minutes(5),
             {"spec.runInterval: must be greater than zero, found \"0s\"; using 10m as "
              "Kuberhealthy does",
              "spec.timeout: must be a duration string such as \"10m\", found 7; using the default "
              "5m"}},
        Case{"V2UnknownFieldIgnored",
             V2("KuberhealthyCheck", V2Spec(R"("runInterval":"1m","podLabels":{"a":"b"},)")),
             "",
             minutes(1),
             minutes(5),
             {"spec.podLabels: ignored: KuberhealthyCheck has no such field"}},
        Case{"JobPhaseAndNoInterval",
             V2("KuberhealthyJob", V2Spec(R"("runInterval":"1m","phase":"Completed",)")),
             "",
             minutes(10),
             minutes(5),
             {"spec.runInterval: ignored: KuberhealthyJob runs once"},
             true,
             "Completed"},
        Case{"V3Defaults", V3(V3Spec("")), "", minutes(10), seconds(30), {}},
        Case{"V3EmptyIntervalIsNoWarning",
             V3(V3Spec(R"("runInterval":"","singleRunOnly":true,)")),
             "",
             minutes(10),
             seconds(30),
             {},
             true},
        Case{"V3BadTimeout",
             V3(V3Spec(R"("timeout":"soon",)")),
             "",
             minutes(10),
             seconds(30),
             {"spec.timeout: invalid duration \"soon\": expected a number; using the default 30s"}},
        Case{"MissingImage",
             V2("KuberhealthyCheck",
                R"({"podSpec":{"containers":[{"name":"a","image":"x"},{"name":"b"}]}})"),
             "khchecks/ns/c: spec.podSpec.containers[1].image: missing"},
        Case{"MissingImagesV3",
             V3(R"({"podSpec":{"spec":{"initContainers":[{"name":"i","image":""}],)"
                R"("containers":[{"name":"b"}]}}})"),
             "healthchecks/ns/c: spec.podSpec.spec.initContainers[0].image: missing; "
             "spec.podSpec.spec.containers[0].image: missing"},
        Case{"NoContainers", V2("KuberhealthyJob", R"({"podSpec":{"containers":[]}})"),
             "khjobs/ns/c: spec.podSpec.containers: must list at least one container"},
        Case{"NoPodSpec", V3(R"({"runInterval":"1m"})"),
             "healthchecks/ns/c: spec.podSpec: is required"},
        Case{"V3LayoutInV2", V2("KuberhealthyCheck", R"({"podSpec":{"spec":{"containers":[]}}})"),
             "khchecks/ns/c: spec.podSpec.spec: is the HealthCheck (kuberhealthy.github.io/v2) "
             "layout; for comcast.github.io/v1 put the pod fields (containers, ...) directly "
             "under spec.podSpec"},
        Case{"UnknownKind",
             R"({"apiVersion":"comcast.github.io/v1","kind":"KuberhealthyState",)"
             R"("metadata":{"name":"c","namespace":"ns"}})",
             "ns/c: unsupported apiVersion \"comcast.github.io/v1\" with kind "
             "\"KuberhealthyState\"; accepted: comcast.github.io/v1 KuberhealthyCheck or "
             "KuberhealthyJob, kuberhealthy.github.io/v2 HealthCheck"},
        Case{"ProbeNeedsRegistry",
             V2("KuberhealthyCheck", R"({"probe":{"tcp":{"address":"127.0.0.1:1"}}})"),
             "khchecks/ns/c: spec.probe: in-process probes are not available here"}),
    [](const auto& param_info) { return param_info.param.name; });

TEST(ReadCheckResource, KhCheckFixture) {
  const auto got = ReadCheckResource(Obj(Fixture("khcheck.json")));
  ASSERT_TRUE(got.ok()) << got.error();
  const CheckSpec& s = got.value().spec;
  EXPECT_EQ(s.key, (CheckKey{"kuberhealthy", "bayes-gear"}));
  EXPECT_EQ(s.kind, CheckKind::kKhCheck);
  EXPECT_EQ(s.run_interval, minutes(5));
  EXPECT_EQ(s.timeout, minutes(2));
  EXPECT_EQ(s.extra_labels, (std::map<std::string, std::string>{{"team", "gears"}, {"tier", "1"}}));
  EXPECT_EQ(s.extra_annotations->at("owner"), "gears@example.com");
  ASSERT_EQ(s.pod->containers.size(), 2u);
  EXPECT_EQ(s.pod->containers[0].image, "registry.example.com/bayes-gear-check:1.4");
  EXPECT_EQ(s.pod->init_containers.size(), 1u);
  EXPECT_EQ(s.source_file, "khchecks/kuberhealthy/bayes-gear");
  ASSERT_TRUE(s.kube.has_value());
  EXPECT_EQ(s.kube->api_version, "comcast.github.io/v1");
  EXPECT_EQ(s.kube->uid, "0b6e7c1a-3a4f-4c3e-9d55-2f1e8f0a6b11");
  // The whole PodSpec is kept, fields Sonde's model has no place for included.
  const auto pod = Obj(s.kube->pod_spec_json);
  EXPECT_EQ(pod.at("serviceAccountName"), "gear-checker");
  EXPECT_TRUE(pod.at("containers").at(0).as_object().contains("resources"));
}

TEST(ReadCheckResource, HealthCheckFixture) {
  const auto got = ReadCheckResource(Obj(Fixture("healthcheck.json")));
  ASSERT_TRUE(got.ok()) << got.error();
  const CheckSpec& s = got.value().spec;
  EXPECT_EQ(s.kind, CheckKind::kHealthCheck);
  EXPECT_EQ(s.run_interval, minutes(2));
  EXPECT_EQ(s.timeout, seconds(30));
  EXPECT_EQ(s.pod_labels->at("app.kubernetes.io/name"), "dns-check");
  EXPECT_EQ(s.pod_annotations->at("sidecar.istio.io/inject"), "false");
  // The pod spec is spec.podSpec.spec, not the template around it.
  EXPECT_TRUE(Obj(s.kube->pod_spec_json).contains("containers"));
}

// Status and resourceVersion change with every state write; the spec must not.
TEST(ReadCheckResource, StatusAndResourceVersionAreNotPartOfTheSpec) {
  auto a = Obj(Fixture("healthcheck.json"));
  auto b = a;
  b["metadata"].as_object()["resourceVersion"] = "77002";
  b["status"].as_object()["currentUUID"] = "run-2";
  const auto ra = ReadCheckResource(a);
  const auto rb = ReadCheckResource(b);
  ASSERT_TRUE(ra.ok() && rb.ok());
  EXPECT_EQ(ra.value().spec, rb.value().spec);
  b["spec"].as_object()["podSpec"].as_object()["spec"].as_object()["priorityClassName"] = "high";
  const auto rc = ReadCheckResource(b);
  ASSERT_TRUE(rc.ok());
  EXPECT_NE(ra.value().spec, rc.value().spec) << "a PodSpec change is a spec change";
}

TEST(ReadCheckResource, SondeExtensions) {
  const ProbeRegistry probes = BuiltinProbes();
  const auto probe = ReadCheckResource(
      Obj(V3(R"({"runInterval":"30s","probe":{"tcp":{"address":"127.0.0.1:9"}}})")), {&probes});
  ASSERT_TRUE(probe.ok()) << probe.error();
  EXPECT_TRUE(probe.value().spec.probe);
  EXPECT_EQ(probe.value().spec.timeout, seconds(10)) << "probes default to 10s";
  EXPECT_TRUE(probe.value().spec.kube->pod_spec_json.empty());

  const auto heartbeat =
      ReadCheckResource(Obj(V2("KuberhealthyCheck", R"({"runInterval":"24h",)"
                                                    R"("heartbeat":{"grace":"1h"}})")));
  ASSERT_TRUE(heartbeat.ok()) << heartbeat.error();
  ASSERT_TRUE(heartbeat.value().spec.heartbeat.has_value());
  EXPECT_EQ(heartbeat.value().spec.heartbeat->grace, std::chrono::hours(1));

  const auto bad = ReadCheckResource(Obj(V2("KuberhealthyJob", R"({"heartbeat":{"grace":"1h"}})")));
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.error().find("khjobs/ns/c: spec.heartbeat: is not allowed in a KuberhealthyJob"),
            std::string::npos)
      << bad.error();
}

}  // namespace
}  // namespace sonde::kube
