// A real Prometheus (Debian's `prometheus` package) scrapes a real sonde with the seed's scrape
// config (job_name kuberhealthy, honor_labels, metrics_path /metrics), and the values are read
// back through Prometheus's HTTP query API. A missing prometheus binary fails the test.
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <boost/json.hpp>
#include <map>

#include "support/checks.hpp"

namespace sonde::testing {
namespace {

namespace json = boost::json;
using std::chrono::seconds;

// A free loopback port: bound, read back and released (Prometheus binds it right after).
int FreePort() {
  const int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof addr;
  if (fd < 0 || bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 ||
      getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) != 0) {
    if (fd >= 0) close(fd);
    return -1;
  }
  close(fd);
  return ntohs(addr.sin_port);
}

// `prometheus` on a free loopback port with its own config and TSDB in a temporary directory;
// stopped (SIGTERM, then SIGKILL) on destruction.
class PrometheusProcess {
 public:
  explicit PrometheusProcess(const std::string& target) {
    dir_.Write("prometheus.yml",
               "global:\n  scrape_interval: 1s\n  evaluation_interval: 1s\n"
               "scrape_configs:\n"
               "- job_name: kuberhealthy\n"
               "  scrape_interval: 1s\n"
               "  honor_labels: true\n"
               "  metrics_path: /metrics\n"
               "  static_configs:\n"
               "  - targets:\n"
               "    - " +
                   target + "\n");
    // The port may be taken between FreePort and the bind: try a few.
    for (int attempt = 0; attempt < 3 && url_.empty(); ++attempt) Start();
  }
  ~PrometheusProcess() { Stop(); }
  PrometheusProcess(const PrometheusProcess&) = delete;
  PrometheusProcess& operator=(const PrometheusProcess&) = delete;

  const std::string& url() const { return url_; }  // empty when it never became ready
  std::string log() const { return dir_.Read("prometheus.log"); }

  // The `data.result` array of an instant query, or null on any failure.
  json::value Query(const std::string& promql) const {
    auto r = HttpCall("GET", url_ + "/api/v1/query?query=" + promql);
    if (!r.ok() || r.value().status != 200) return nullptr;
    boost::system::error_code ec;
    json::value doc = json::parse(r.value().body, ec);
    if (ec || !doc.is_object()) return nullptr;
    const json::value* result = doc.find_pointer("/data/result", ec);
    return result != nullptr ? *result : json::value(nullptr);
  }

 private:
  void Start() {
    const int port = FreePort();
    const std::string candidate = "http://127.0.0.1:" + std::to_string(port);
    std::vector<std::string> args = {
        "prometheus", "--config.file=" + dir_.path() + "/prometheus.yml",
        "--storage.tsdb.path=" + dir_.path() + "/tsdb",
        "--web.listen-address=127.0.0.1:" + std::to_string(port), "--log.level=warn"};
    const std::string log_path = dir_.path() + "/prometheus.log";
    pid_ = fork();
    if (pid_ == 0) {
      FILE* f = freopen(log_path.c_str(), "a", stderr);
      (void)f;
      std::vector<char*> argv;
      for (auto& a : args) argv.push_back(a.data());
      argv.push_back(nullptr);
      execvp(argv[0], argv.data());
      _exit(127);
    }
    const bool ready = Eventually(
        [&] {
          if (waitpid(pid_, nullptr, WNOHANG) == pid_) return true;  // exited: give up
          auto r = HttpCall("GET", candidate + "/-/ready", {}, {}, seconds(2));
          return r.ok() && r.value().status == 200;
        },
        seconds(30));
    if (ready && kill(pid_, 0) == 0) {
      url_ = candidate;
    } else {
      Stop();
    }
  }

  void Stop() {
    if (pid_ <= 0) return;
    kill(pid_, SIGTERM);
    if (!Eventually([&] { return waitpid(pid_, nullptr, WNOHANG) != 0; }, seconds(10))) {
      kill(pid_, SIGKILL);
      waitpid(pid_, nullptr, 0);
    }
    pid_ = -1;
  }

  TempDir dir_;
  std::string url_;
  pid_t pid_ = -1;
};

std::string Label(const json::value& series, const char* name) {
  const json::object& m = series.as_object().at("metric").as_object();
  const auto it = m.find(name);
  return it == m.end() ? "" : std::string(it->value().as_string());
}

std::string Value(const json::value& series) {
  return std::string(series.as_object().at("value").as_array().at(1).as_string());
}

// The query's series keyed by their `check` label.
std::map<std::string, json::value> ByCheck(const json::value& result) {
  std::map<std::string, json::value> out;
  if (!result.is_array()) return out;
  for (const json::value& s : result.as_array()) out[Label(s, "check")] = s;
  return out;
}

TEST(PrometheusScrape, SeedScrapeConfigSeesCheckStatus) {
  TempDir checks;
  checks.Write("ok.sh", kReportOkNoHeader, true);
  checks.Write("errors.sh", kReportErrors, true);
  checks.Write("ok.yaml", CheckYaml({.name = "passing", .script = "ok.sh"}));
  checks.Write("bad.yaml", CheckYaml({.name = "failing", .script = "errors.sh"}));
  DaemonProcess d(checks.path());
  ASSERT_TRUE(Eventually(
      [&] {
        const ClientResponse r = d.Get("/metrics");
        return r.status == 200 && r.body.find("default/passing") != std::string::npos &&
               r.body.find("default/failing") != std::string::npos;
      },
      seconds(30)))
      << "sonde does not serve both checks on /metrics: " << d.Get("/metrics").status << "\n"
      << d.log();

  const std::string target = d.url().substr(std::string("http://").size());
  PrometheusProcess prom(target);
  ASSERT_FALSE(prom.url().empty()) << "prometheus did not start (apt-get install prometheus):\n"
                                   << prom.log();

  std::map<std::string, json::value> series;
  const bool seen = Eventually(
      [&] {
        series = ByCheck(prom.Query("kuberhealthy_check"));
        return series.count("default/passing") > 0 && series.count("default/failing") > 0;
      },
      seconds(60));
  ASSERT_TRUE(seen) << "Prometheus never stored both kuberhealthy_check series; up="
                    << json::serialize(prom.Query("up")) << "\n"
                    << prom.log();

  const json::value& ok = series.at("default/passing");
  EXPECT_EQ(Value(ok), "1");
  EXPECT_EQ(Label(ok, "status"), "1");
  EXPECT_EQ(Label(ok, "namespace"), "default");
  EXPECT_EQ(Label(ok, "error"), "") << "an empty label is no label in Prometheus";
  EXPECT_EQ(Label(ok, "job"), "kuberhealthy");
  EXPECT_EQ(Label(ok, "instance"), target);
  const json::value& bad = series.at("default/failing");
  EXPECT_EQ(Value(bad), "0");
  EXPECT_EQ(Label(bad, "status"), "0");
  EXPECT_EQ(Label(bad, "error"), "disk /data is full|db replica lag 30s");

  const json::value cluster = prom.Query("kuberhealthy_cluster_state");
  ASSERT_TRUE(cluster.is_array() && !cluster.as_array().empty()) << json::serialize(cluster);
  EXPECT_EQ(Value(cluster.as_array()[0]), "0");
  const json::value running = prom.Query("kuberhealthy_running");
  ASSERT_TRUE(running.is_array() && !running.as_array().empty()) << json::serialize(running);
  EXPECT_EQ(Label(running.as_array()[0], "current_master"), "sonde-test");
  const auto failures = ByCheck(prom.Query("kuberhealthy_check_failure_total"));
  ASSERT_EQ(failures.count("default/failing"), 1u);
  EXPECT_EQ(Value(failures.at("default/failing")), "1");
  // Prometheus 2.x asks for OpenMetrics; its canonical bucket bounds prove it was served.
  const json::value buckets = prom.Query("kuberhealthy_check_run_duration_seconds_bucket");
  ASSERT_TRUE(buckets.is_array()) << json::serialize(buckets);
  bool canonical = false;
  for (const json::value& s : buckets.as_array()) canonical |= Label(s, "le") == "300.0";
  EXPECT_TRUE(canonical) << "not scraped as OpenMetrics: " << json::serialize(buckets);
}

}  // namespace
}  // namespace sonde::testing
