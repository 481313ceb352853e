// In-process probes in the real daemon: checks with spec.probe run inside its event loop
// against servers this test starts on loopback, and end up on the status page like any check.
#include <gtest/gtest.h>

#include <algorithm>
#include <boost/asio/ip/tcp.hpp>
#include <boost/json.hpp>

#include "core/clock.hpp"
#include "server/test_server.hpp"
#include "support/checks.hpp"

namespace sonde::testing {
namespace {

namespace json = boost::json;
namespace asio = boost::asio;

boost::asio::awaitable<HttpResponse> Target(HttpRequest r) {
  HttpResponse out;
  if (r.path == "/health") {
    out.body = R"({"status":"UP","version":"1.2.3"})";
  } else {
    out.status = 503;
    out.body = R"({"status":"DOWN"})";
  }
  co_return out;
}

TEST(DaemonProbe, ProbesRunInProcessAndReportWhatTheySaw) {
  TestServer target(Target);
  const std::string base = "http://127.0.0.1:" + std::to_string(target.port());
  const uint16_t closed = ClosedPort();
  TempDir checks;
  checks.Write(
      "probes.yaml",
      ProbeCheck("up", "1s",
                 "    http:\n      url: " + base +
                     "/health\n    conditions:\n      - \"[STATUS] == 200\"\n"
                     "      - \"[BODY].status == UP\"\n      - \"[RESPONSE_TIME] < 2s\"\n") +
          ProbeCheck("down", "1s",
                     "    http:\n      url: " + base +
                         "/down\n    conditions:\n      - \"[STATUS] == 2xx\"\n"
                         "      - \"[BODY].status == UP\"\n") +
          ProbeCheck("closed", "1s",
                     "    tcp:\n      address: 127.0.0.1:" + std::to_string(closed) + "\n"));
  DaemonProcess d(checks.path());
  json::value up, down, closed_detail;
  ASSERT_TRUE(Eventually([&] {
    up = CheckDetail(d, "probes/up");
    down = CheckDetail(d, "probes/down");
    closed_detail = CheckDetail(d, "probes/closed");
    // A result, not just a start (lastRunUnix is set when a run starts).
    return up.is_object() && up.as_object().contains("lastOKUnix") && down.is_object() &&
           down.as_object().contains("lastFailureUnix") && closed_detail.is_object() &&
           closed_detail.as_object().contains("lastFailureUnix");
  })) << d.log();
  EXPECT_TRUE(up.at("ok").as_bool()) << json::serialize(up);
  EXPECT_FALSE(down.at("ok").as_bool());
  EXPECT_EQ(DetailErrors(down), (std::vector<std::string>{"[STATUS] == 2xx: got 503",
                                                          "[BODY].status == UP: got DOWN"}));
  const std::string where = "127.0.0.1:" + std::to_string(closed);
  EXPECT_EQ(DetailErrors(closed_detail), std::vector<std::string>{"tcp://" + where + ": connect " +
                                                                  where + ": Connection refused"});
  // A probe's run takes no report.
  const ClientResponse history = d.Get("/api/history?namespace=probes&healthcheck=up&limit=1");
  ASSERT_EQ(history.status, 200) << history.body;
  const std::string uuid(json::parse(history.body).at("runs").at(0).at("runUuid").as_string());
  const ClientResponse report =
      d.Post("/externalCheckStatus?kh-run-uuid=" + uuid, R"({"OK":false,"Errors":["x"]})");
  EXPECT_EQ(report.status, 410) << report.body;
  EXPECT_NE(report.body.find("is an in-process probe's run, which takes no reports"),
            std::string::npos)
      << report.body;
  // Probes run again every second.
  ASSERT_TRUE(Eventually([&] {
    const json::value again = CheckDetail(d, "probes/up");
    return again.is_object() && again.at("successCount").as_int64() >= 3;
  }));
}

TEST(DaemonProbe, InvalidProbeIsRejectedWithItsPosition) {
  TempDir checks;
  checks.Write("bad.yaml", ProbeCheck("bad", "1s",
                                      "    http:\n      url: http://127.0.0.1:1/\n"
                                      "    conditions:\n      - \"[DNS_RCODE] == NOERROR\"\n"));
  DaemonProcess d(checks.path());
  const json::value doc = GetJson(d, "/");
  const auto& errors = doc.at("Errors").as_array();
  ASSERT_EQ(errors.size(), 1u) << json::serialize(doc);
  EXPECT_EQ(std::string(errors[0].as_string()),
            checks.path() +
                "/bad.yaml:14:9: spec.probe.conditions[0]: [DNS_RCODE] is not available to http "
                "probes; they offer [STATUS], [BODY], [RESPONSE_TIME], [CONNECTED], [IP] and "
                "[CERTIFICATE_EXPIRATION]");
}
}  // namespace
}  // namespace sonde::testing
