// The example C++ checker (examples/cpp-checker, on clients/cpp/kh_client.hpp) run by the real
// daemon as a checker process: it reports success, and a failure that says what it saw.
#include <gtest/gtest.h>

#include <boost/json.hpp>

#include "support/checks.hpp"

namespace sonde::testing {
namespace {

namespace json = boost::json;

std::string CppCheck(const std::string& name, const std::string& target,
                     const std::string& expect) {
  return "---\napiVersion: comcast.github.io/v1\nkind: KuberhealthyCheck\nmetadata:\n  name: " +
         name +
         "\nspec:\n  runInterval: 1h\n  timeout: 20s\n  podSpec:\n    containers:\n"
         "      - name: main\n        command: [\"" SONDE_BINARY_DIR
         "/examples/cpp-checker\"]\n"
         "        env:\n          - {name: TARGET, value: \"" +
         target +
         "\"}\n"
         "          - {name: SEND, value: 'GET /healthz HTTP/1.0\\r\\n\\r\\n'}\n"
         "          - {name: EXPECT, value: \"" +
         expect + "\"}\n";
}

TEST(CppChecker, ReportsThroughTheClient) {
  TempDir checks;
  DaemonProcess d(checks.path());
  const std::string self = d.url().substr(std::string("http://").size());
  checks.Write("cpp.yaml", CppCheck("healthz", self, " 200 ") + CppCheck("wrong", self, " 404 "));
  json::value ok, wrong;
  ASSERT_TRUE(Eventually(
      [&] {
        ok = CheckDetail(d, "default/healthz");
        wrong = CheckDetail(d, "default/wrong");
        return ok.is_object() && ok.as_object().contains("lastRunUnix") &&
               !ok.at("currentUUID").as_string().size() && wrong.is_object() &&
               wrong.as_object().contains("lastRunUnix") &&
               !wrong.at("currentUUID").as_string().size();
      },
      std::chrono::seconds(30)))
      << d.log();
  EXPECT_TRUE(ok.at("ok").as_bool()) << json::serialize(ok);
  EXPECT_FALSE(wrong.at("ok").as_bool());
  EXPECT_EQ(json::serialize(wrong.at("errors")),
            "[\"" + self + " answered \\\"HTTP/1.0 200 OK\\\", without \\\" 404 \\\"\"]");
}

}  // namespace
}  // namespace sonde::testing
