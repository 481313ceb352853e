// The C++ checker client against the project's HTTP server on loopback: what it sends, and
// Kuberhealthy's retry rule (retry on anything but 200 and 400, within the budget).
#include "kh_client.hpp"

#include <gtest/gtest.h>
#include <stdlib.h>

#include <boost/json.hpp>
#include <mutex>

#include "server/test_server.hpp"

namespace {

using namespace std::chrono_literals;

// Answers the programmed statuses in turn (the last one repeats) and records the requests.
class ReportSink {
 public:
  explicit ReportSink(std::vector<int> statuses)
      : statuses_(std::move(statuses)),
        server_([this](sonde::HttpRequest r) -> boost::asio::awaitable<sonde::HttpResponse> {
          std::lock_guard lock(mu_);
          const int status = statuses_[std::min(requests_.size(), statuses_.size() - 1)];
          requests_.push_back(std::move(r));
          co_return sonde::HttpResponse::Text(status, "answer " + std::to_string(status));
        }) {}

  std::string url(const std::string& target = "/check") const {
    return "http://127.0.0.1:" + std::to_string(server_.port()) + target;
  }
  std::vector<sonde::HttpRequest> requests() {
    std::lock_guard lock(mu_);
    return requests_;
  }

 private:
  std::mutex mu_;
  std::vector<int> statuses_;
  std::vector<sonde::HttpRequest> requests_;
  sonde::testing::TestServer server_;
};

kh::ClientOptions Fast(std::string url) {
  return {.reporting_url = std::move(url),
          .run_uuid = "6f1c7f0e-0000-4000-8000-000000000001",
          .max_elapsed = 3000ms,
          .initial_interval = 20ms,
          .request_timeout = 1000ms};
}

TEST(KhClient, SendsTheReportWithHeaderAndQuery) {
  ReportSink sink({200});
  const kh::Status sent = kh::ReportFailure(Fast(sink.url("/check?cluster=a&x=1")),
                                            {"db \"main\" down", "line\nbreak"});
  ASSERT_TRUE(sent.ok()) << sent.message();
  const auto requests = sink.requests();
  ASSERT_EQ(requests.size(), 1u);
  const sonde::HttpRequest& r = requests[0];
  EXPECT_EQ(r.method, "POST");
  EXPECT_EQ(r.path, "/check");
  EXPECT_EQ(r.Query("cluster"), "a");
  EXPECT_EQ(r.Query("x"), "1");
  EXPECT_EQ(r.Header("kh-run-uuid"), "6f1c7f0e-0000-4000-8000-000000000001");
  EXPECT_EQ(r.Header("content-type"), "application/json");
  const boost::json::value body = boost::json::parse(r.body);
  EXPECT_EQ(body.at("OK"), false);
  EXPECT_EQ(body.at("Errors"), (boost::json::array{"db \"main\" down", "line\nbreak"}));
}

TEST(KhClient, SuccessBody) {
  ReportSink sink({200});
  ASSERT_TRUE(kh::ReportSuccess(Fast(sink.url())).ok());
  EXPECT_EQ(sink.requests().at(0).body, R"({"OK":true,"Errors":[]})");
}

TEST(KhClient, RetryRule) {
  struct Case {
    std::string name;
    std::vector<int> statuses;
    bool ok;
    size_t attempts;  // exact, or at least this many when `at_least`
    bool at_least = false;
    std::string error_part;
  };
  const Case cases[] = {
      {"500 then 200 is retried", {500, 200}, true, 2},
      {"503, 410, then 200", {503, 410, 200}, true, 3},
      {"400 is final", {400}, false, 1, false, "rejected with 400 \"answer 400\" (not retried)"},
      {"500 forever gives up within the budget",
       {500},
       false,
       3,
       true,
       "500 \"answer 500\" (gave up after"},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.name);
    ReportSink sink(c.statuses);
    const auto start = std::chrono::steady_clock::now();
    const kh::Status sent = kh::ReportSuccess(Fast(sink.url()));
    const auto took = std::chrono::steady_clock::now() - start;
    EXPECT_EQ(sent.ok(), c.ok) << sent.message();
    if (c.at_least) {
      EXPECT_GE(sink.requests().size(), c.attempts);
    } else {
      EXPECT_EQ(sink.requests().size(), c.attempts);
    }
    EXPECT_NE(sent.message().find(c.error_part), std::string::npos) << sent.message();
    EXPECT_LT(took, 3500ms);  // the budget, plus at most one attempt
  }
}

TEST(KhClient, UnreachableServerIsRetriedThenNamed) {
  uint16_t port;
  {
    sonde::testing::TestServer closed(
        [](sonde::HttpRequest) -> boost::asio::awaitable<sonde::HttpResponse> {
          co_return sonde::HttpResponse::Text(200, "");
        });
    port = closed.port();
  }
  kh::ClientOptions o = Fast("http://127.0.0.1:" + std::to_string(port) + "/check");
  o.max_elapsed = 300ms;
  const kh::Status sent = kh::ReportSuccess(o);
  ASSERT_FALSE(sent.ok());
  EXPECT_NE(
      sent.message().find("connect 127.0.0.1:" + std::to_string(port) + ": Connection refused"),
      std::string::npos)
      << sent.message();
}

TEST(KhClient, Validation) {
  EXPECT_EQ(kh::ReportFailure(Fast("http://127.0.0.1:1/"), {}).message(),
            "ReportFailure needs at least one error message");
  EXPECT_EQ(kh::ReportFailure(Fast("http://127.0.0.1:1/"), {""}).message(),
            "ReportFailure: error messages must not be empty");
  EXPECT_EQ(
      kh::ReportSuccess(Fast("https://kh/check")).message(),
      "KH_REPORTING_URL \"https://kh/check\" must start with http:// (https is not supported)");
}

TEST(KhClient, Environment) {
  ::unsetenv("KH_REPORTING_URL");
  EXPECT_EQ(kh::ReportSuccess().message(), "KH_REPORTING_URL is not set");
  ::unsetenv("KH_CHECK_RUN_DEADLINE");
  EXPECT_EQ(kh::Deadline().error(), "KH_CHECK_RUN_DEADLINE is not set");
  ::setenv("KH_CHECK_RUN_DEADLINE", "soon", 1);
  EXPECT_EQ(kh::Deadline().error(), "KH_CHECK_RUN_DEADLINE \"soon\" is not Unix seconds");
  ::setenv("KH_CHECK_RUN_DEADLINE", "1800000000", 1);
  ASSERT_TRUE(kh::Deadline().ok());
  EXPECT_EQ(kh::Deadline().value().time_since_epoch(), std::chrono::seconds(1800000000));

  ReportSink sink({200});
  ::setenv("KH_REPORTING_URL", sink.url().c_str(), 1);
  ::setenv("KH_RUN_UUID", "abc", 1);
  EXPECT_TRUE(kh::ReportSuccess().ok());
  EXPECT_EQ(sink.requests().at(0).Header("kh-run-uuid"), "abc");
  ::unsetenv("KH_REPORTING_URL");
  ::unsetenv("KH_RUN_UUID");
  ::unsetenv("KH_CHECK_RUN_DEADLINE");
}

}  // namespace
