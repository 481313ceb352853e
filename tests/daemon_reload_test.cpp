// Check files changing under a running daemon, and bad files next to good ones.
#include <gtest/gtest.h>
#include <sys/wait.h>

#include <boost/json.hpp>

#include "core/uuid.hpp"
#include "support/checks.hpp"

namespace sonde::testing {
namespace {

namespace json = boost::json;

bool HasCheck(const DaemonProcess& d, const std::string& key) {
  return GetJson(d).as_object().at("CheckDetails").as_object().contains(key);
}

// A counter of a /json check entry; 0 when absent (v3 omits zeros) or the check is unknown.
int64_t Count(const json::value& v, const char* key) {
  if (!v.is_object() || !v.as_object().contains(key)) return 0;
  return v.as_object().at(key).as_int64();
}

TEST(DaemonReload, BadFileIsReportedAndGoodChecksRun) {
  TempDir checks;
  checks.Write("ok.sh", kReportOkNoHeader, true);
  checks.Write("good.yaml", CheckYaml({.name = "good", .script = "ok.sh"}));
  checks.Write("bad.yaml", "apiVersion: comcast.github.io/v1\nkind: KuberhealthyCheck\n"
                           "metadata:\n  name: bad\nspec:\n  runInterval: 6x\n  podSpec:\n"
                           "    containers:\n      - name: main\n        image: x\n");
  DaemonProcess d(checks.path());
  ASSERT_TRUE(Eventually([&] { return Count(CheckDetail(d, "default/good"), "successCount") > 0; }))
      << d.log();
  const json::value top = GetJson(d, "/");
  EXPECT_FALSE(top.as_object().at("OK").as_bool());
  const std::string errors = json::serialize(top.as_object().at("Errors"));
  EXPECT_NE(errors.find("bad.yaml:6:16: spec.runInterval: invalid duration"), std::string::npos)
      << errors;
  EXPECT_NE(errors.find("spec.podSpec.containers[0].command"), std::string::npos) << errors;
  EXPECT_FALSE(HasCheck(d, "default/bad"));

  const std::string validate = SondeBinary() + " validate " + checks.path() + " 2>&1 >/dev/null";
  EXPECT_NE(WEXITSTATUS(std::system(validate.c_str())), 0);
  EXPECT_EQ(WEXITSTATUS(std::system((SondeBinary() + " validate " + checks.path() +
                                     "/good.yaml >/dev/null").c_str())),
            0);
}

TEST(DaemonReload, AddedChangedAndRemovedChecksTakeEffectWithoutRestart) {
  TempDir checks, out;
  const std::string mark = NewUuidV4();
  checks.Write("ok.sh", kReportOkNoHeader, true);
  checks.Write("record.sh", kRecordAndWait, true);
  checks.Write("steady.yaml", CheckYaml({.name = "steady", .script = "ok.sh", .interval = "1h"}));
  DaemonProcess d(checks.path());
  ASSERT_TRUE(Eventually([&] { return Count(CheckDetail(d, "default/steady"), "successCount") == 1; }));

  // Added: it runs.
  checks.Write("new.yaml", CheckYaml({.name = "new", .script = "ok.sh", .interval = "1h"}));
  ASSERT_TRUE(Eventually([&] { return Count(CheckDetail(d, "default/new"), "successCount") == 1; }))
      << d.log();
  // Changed: the next run uses the new definition (now a long-running recorder).
  checks.Write("new.yaml", CheckYaml({.name = "new", .script = "record.sh", .interval = "2h",
                                      .env = {{"OUT", out.path()}, {"SONDE_TEST_MARK", mark}}}));
  ASSERT_TRUE(Eventually([&] {
    return Count(CheckDetail(d, "default/new"), "runIntervalSeconds") == 7200;
  }));
  ASSERT_TRUE(Eventually([&] {
    return d.Post("/api/run?namespace=default&healthcheck=new", "").status == 202;
  }));
  ASSERT_TRUE(Eventually([&] { return !ProcessesWithEnv("SONDE_TEST_MARK=" + mark).empty(); }))
      << d.log();
  // Removed: it disappears and its running checker is killed.
  checks.Remove("new.yaml");
  ASSERT_TRUE(Eventually([&] { return !HasCheck(d, "default/new"); }));
  EXPECT_TRUE(Eventually([&] { return ProcessesWithEnv("SONDE_TEST_MARK=" + mark).empty(); }));
  // The other check was never disturbed: still its one run.
  EXPECT_EQ(Count(CheckDetail(d, "default/steady"), "successCount"), 1);
}

}  // namespace
}  // namespace sonde::testing
