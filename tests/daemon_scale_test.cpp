// Many checks at once under the concurrency cap.
#include <gtest/gtest.h>

#include <boost/json.hpp>
#include <filesystem>

#include "support/checks.hpp"

namespace sonde::testing {
namespace {

namespace json = boost::json;

// Each run notes how many runs were alive when it started (a file per live run), then reports.
const char* const kCountingChecker = R"(set -e
touch "$OUT/live/$KH_RUN_UUID"
ls "$OUT/live" | wc -l > "$OUT/seen/$KH_RUN_UUID"
sleep 0.05
rm -f "$OUT/live/$KH_RUN_UUID"
curl -sS --fail -X POST "$KH_REPORTING_URL" -H 'Content-Type: application/json' -d '{"OK":true}'
)";

TEST(DaemonScale, TwoHundredChecksStartTogetherUnderTheCap) {
  constexpr int kChecks = 200;
  constexpr int kCap = 8;
  TempDir checks, out;
  std::filesystem::create_directories(out.path() + "/live");
  std::filesystem::create_directories(out.path() + "/seen");
  checks.Write("count.sh", kCountingChecker, true);
  std::string all;
  for (int i = 0; i < kChecks; ++i) {
    all += "---\n" + CheckYaml({.name = "c" + std::to_string(i), .script = "count.sh",
                                .interval = "1h", .env = {{"OUT", out.path()}}});
  }
  checks.Write("many.yaml", all);
  DaemonProcess d(checks.path(), {"--max-concurrent-runs", std::to_string(kCap)});
  int ok = 0;
  ASSERT_TRUE(Eventually(
      [&] {
        ok = 0;
        const json::value doc = GetJson(d);
        for (const auto& kv : doc.as_object().at("CheckDetails").as_object()) {
          if (kv.value().as_object().contains("successCount")) ++ok;
        }
        return ok == kChecks;
      },
      std::chrono::seconds(90)))
      << ok << " of " << kChecks << " passed; log:\n" << d.log();
  int max_seen = 0, runs = 0;
  for (const auto& e : std::filesystem::directory_iterator(out.path() + "/seen")) {
    ++runs;
    max_seen = std::max(max_seen, std::stoi(out.Read("seen/" + e.path().filename().string())));
  }
  EXPECT_EQ(runs, kChecks);
  EXPECT_LE(max_seen, kCap);
  EXPECT_GE(max_seen, 2) << "runs never overlapped: the cap was not exercised";
}

}  // namespace
}  // namespace sonde::testing
