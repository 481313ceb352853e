#include "kube/kube_state.hpp"

#include <gtest/gtest.h>

#include "kube/kube_test_support.hpp"

namespace sonde::kube {
namespace {

using std::chrono::nanoseconds;
using testing::ExpectGolden;
using testing::Obj;

const TimePoint kStart = FromUnixSeconds(1704164645) + nanoseconds(250'000'000);

// A failing check with a run in flight: every field set.
CheckState Failing() {
  CheckState s;
  s.ok = false;
  s.errors = {"gear answered 503", "retry budget spent"};
  s.run_duration = nanoseconds(22'512'278'967);
  s.node = "node-3";
  s.authoritative_pod = "sonde-7f9c-abcde";
  s.last_run = kStart + std::chrono::seconds(23);
  s.run_uuid = "4f9c2b7e-1d3a-4e5f-8a6b-9c0d1e2f3a4b";
  s.current_uuid = s.run_uuid;
  s.last_run_start = kStart;
  s.last_ok = kStart - std::chrono::minutes(10);
  s.last_failure = s.last_run;
  s.consecutive_failures = 2;
  s.success_count = 40;
  s.failure_count = 3;
  return s;
}

TEST(KhState, Golden) {
  ExpectGolden("khstate.golden.json", KhStateObject({"kuberhealthy", "bayes-gear"}, Failing()));
}

TEST(KhState, NeverRanGolden) {
  ExpectGolden("khstate.new.golden.json", KhStateObject({"shop", "Migrate Once"}, {}, "9121"));
}

TEST(KhState, RoundTripsWhatV2Keeps) {
  const CheckState in = Failing();
  const auto out = ReadKhState(KhStateObject({"kuberhealthy", "bayes-gear"}, in));
  ASSERT_TRUE(out.ok()) << out.error();
  CheckState want = in;
  want.last_run = std::chrono::floor<std::chrono::seconds>(*in.last_run);  // LastRun is seconds
  EXPECT_EQ(out.value(), want);
}

struct ReadCase {
  std::string name;
  std::string spec;         // the khstate's spec
  std::string annotations;  // metadata.annotations, "" for none
  std::string error;        // empty: reads
  CheckState want;
};

void PrintTo(const ReadCase& c, std::ostream* os) { *os << c.name; }

class ReadKhStateTest : public ::testing::TestWithParam<ReadCase> {};

TEST_P(ReadKhStateTest, ToleratesEveryKuberhealthyVersion) {
  const ReadCase& c = GetParam();
  std::string meta = R"({"name":"gear","namespace":"ns")";
  if (!c.annotations.empty()) meta += R"(,"annotations":)" + c.annotations;
  const auto got = ReadKhState(Obj(R"({"apiVersion":"comcast.github.io/v1",)"
                                   R"("kind":"KuberhealthyState","metadata":)" +
                                   meta + R"(},"spec":)" + c.spec + "}"));
  if (!c.error.empty()) {
    ASSERT_FALSE(got.ok());
    EXPECT_EQ(got.error(), c.error);
    return;
  }
  ASSERT_TRUE(got.ok()) << got.error();
  EXPECT_EQ(got.value(), c.want);
}

CheckState KuberhealthyWritten(bool ok, TimePoint last_run) {
  CheckState s;
  s.ok = ok;
  s.errors = ok ? std::vector<std::string>{} : std::vector<std::string>{"bad"};
  s.node = "n1";
  s.authoritative_pod = "kuberhealthy-0";
  s.run_uuid = "u1";
  s.last_run = last_run;
  (ok ? s.last_ok : s.last_failure) = last_run;
  return s;
}

INSTANTIATE_TEST_SUITE_P(
    Cases, ReadKhStateTest,
    ::testing::Values(
        ReadCase{"V26Seconds",
                 R"({"OK":true,"Errors":[],"RunDuration":"","Namespace":"ns","Node":"n1",)"
                 R"("LastRun":"2024-01-02T03:04:05Z","AuthoritativePod":"kuberhealthy-0",)"
                 R"("uuid":"u1"})",
                 "", "", KuberhealthyWritten(true, FromUnixSeconds(1704164645))},
        ReadCase{"V20Nanoseconds",
                 R"({"OK":false,"Errors":["bad"],"RunDuration":"","Namespace":"ns",)"
                 R"("Node":"n1","LastRun":"2024-01-02T03:04:05.123456789+01:00",)"
                 R"("AuthoritativePod":"kuberhealthy-0","uuid":"u1"})",
                 "", "",
                 KuberhealthyWritten(false,
                                     FromUnixSeconds(1704164645 - 3600) + nanoseconds(123456789))},
        ReadCase{"PreCreatedNoLastRun",
                 R"({"OK":true,"Errors":null,"RunDuration":"","Namespace":"ns","Node":"",)"
                 R"("AuthoritativePod":"","uuid":""})",
                 "", "", CheckState{.ok = true}},
        ReadCase{
            "BadLastRun", R"({"OK":true,"LastRun":"yesterday"})", "",
            "khstates/ns/gear: spec.LastRun: invalid time \"yesterday\": expected RFC 3339, e.g. "
            "2026-01-02T15:04:05Z"},
        ReadCase{"BadRunDuration", R"({"OK":true,"RunDuration":"fast"})", "",
                 "khstates/ns/gear: spec.RunDuration: invalid duration \"fast\": expected a "
                 "number"},
        ReadCase{"BadErrors", R"({"OK":false,"Errors":"bad"})", "",
                 "khstates/ns/gear: spec.Errors: must be a list of strings"},
        ReadCase{"BadAnnotation", R"({"OK":true})", R"({"sonde.dev/state":"{"})",
                 "khstates/ns/gear: metadata.annotations[\"sonde.dev/state\"]: not a JSON "
                 "object"}),
    [](const auto& param_info) { return param_info.param.name; });

TEST(KhStateName, LowerCaseAndDashes) {
  EXPECT_EQ(KhStateName("Migrate Once"), "migrate-once");
  EXPECT_EQ(KhStateName("gear"), "gear");
}

TEST(HealthCheckStatus, PatchGolden) {
  ExpectGolden("healthcheck.status-patch.golden.json",
               HealthCheckStatusPatch({"kuberhealthy", "dns-internal"}, Failing()));
}

TEST(HealthCheckStatus, NeverRanPatchGolden) {
  ExpectGolden("healthcheck.status-patch.new.golden.json",
               HealthCheckStatusPatch({"kuberhealthy", "dns-internal"}, {}));
}

TEST(HealthCheckStatus, RoundTripsWhatV3Keeps) {
  const CheckState in = Failing();
  auto object = HealthCheckStatusPatch({"kuberhealthy", "dns-internal"}, in);
  const auto out = ReadHealthCheckStatus(object);
  ASSERT_TRUE(out.ok()) << out.error();
  auto secs = [](TimePoint t) { return std::chrono::floor<std::chrono::seconds>(t); };
  CheckState want = in;
  want.node.clear();  // v3 has no field for these
  want.authoritative_pod.clear();
  want.last_run_start = secs(*in.last_run_start);
  want.last_ok = secs(*in.last_ok);
  want.last_failure = secs(*in.last_failure);
  want.last_run = want.last_failure;  // the later of the two
  EXPECT_EQ(out.value(), want);
}

TEST(HealthCheckStatus, Reads) {
  const auto none = ReadHealthCheckStatus(Obj(R"({"metadata":{"name":"c"}})"));
  ASSERT_TRUE(none.ok());
  EXPECT_EQ(none.value(), CheckState{});

  // As Kuberhealthy v3 writes it after a report: the run released, consecutiveFailures pruned.
  const auto v3 = ReadHealthCheckStatus(
      Obj(R"({"status":{"ok":true,"errors":[],"namespace":"kh","currentUUID":"",)"
          R"("lastRunUnix":1704164645,"successCount":5,"lastOKUnix":1704164650}})"));
  ASSERT_TRUE(v3.ok()) << v3.error();
  CheckState want;
  want.ok = true;
  want.last_run_start = FromUnixSeconds(1704164645);
  want.success_count = 5;
  want.last_ok = FromUnixSeconds(1704164650);
  want.last_run = want.last_ok;
  EXPECT_EQ(v3.value(), want);

  EXPECT_EQ(ReadHealthCheckStatus(
                Obj(R"({"metadata":{"name":"c","namespace":"n"},"status":{"errors":[1]}})"))
                .error(),
            "healthchecks/n/c: status.errors: must be a list of strings");
}

}  // namespace
}  // namespace sonde::kube
