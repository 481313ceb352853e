// A real Prometheus (Debian's `prometheus` package) scrapes a real sonde with the seed's scrape
// config (job_name kuberhealthy, honor_labels, metrics_path /metrics), and the values are read
// back through Prometheus's HTTP query API: check status, the cluster state flipping, and every
// PromQL expression of the shipped dashboard and alert rules. A missing prometheus binary fails
// the tests.
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>
#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <boost/json.hpp>
#include <cctype>
#include <fstream>
#include <map>
#include <regex>
#include <set>
#include <sstream>

#include "probe/test_tls.hpp"
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

// RFC 3986 percent-encoding of everything but unreserved characters: PromQL is full of
// braces, quotes, spaces and `+`.
std::string PercentEncode(std::string_view s) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  for (const unsigned char c : s) {
    if (std::isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~') {
      out += static_cast<char>(c);
    } else {
      out += '%';
      out += kHex[c >> 4];
      out += kHex[c & 15];
    }
  }
  return out;
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

  // The whole answer to an instant query ({"status": "success" or "error", ...}), whatever
  // the HTTP status; null when Prometheus did not answer with a JSON object.
  json::value QueryAnswer(const std::string& promql) const {
    auto r = HttpCall("GET", url_ + "/api/v1/query?query=" + PercentEncode(promql));
    if (!r.ok()) return nullptr;
    boost::system::error_code ec;
    json::value doc = json::parse(r.value().body, ec);
    return !ec && doc.is_object() ? doc : json::value(nullptr);
  }

  // The `data.result` of an instant query, or null on any failure.
  json::value Query(const std::string& promql) const {
    const json::value doc = QueryAnswer(promql);
    boost::system::error_code ec;
    const json::value* result = doc.is_object() ? doc.find_pointer("/data/result", ec) : nullptr;
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

// The value of a query that returns exactly one series, or "" otherwise.
std::string OnlyValue(const PrometheusProcess& prom, const std::string& promql) {
  const json::value r = prom.Query(promql);
  return r.is_array() && r.as_array().size() == 1 ? Value(r.as_array()[0]) : "";
}

// sonde's host:port, as Prometheus names the target in `instance`.
std::string Target(const DaemonProcess& d) { return d.url().substr(std::string("http://").size()); }

std::string ReadFile(const std::string& path) {
  std::ifstream in(path);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// Waits until sonde's /metrics lists every check in `keys` (ns/name).
bool ServesChecks(const DaemonProcess& d, const std::vector<std::string>& keys) {
  return Eventually(
      [&] {
        const ClientResponse r = d.Get("/metrics");
        return r.status == 200 && std::all_of(keys.begin(), keys.end(), [&](const auto& k) {
                 return r.body.find(k) != std::string::npos;
               });
      },
      seconds(30));
}

TEST(PrometheusScrape, SeedScrapeConfigSeesCheckStatus) {
  TempDir checks;
  checks.Write("ok.sh", kReportOkNoHeader, true);
  checks.Write("errors.sh", kReportErrors, true);
  checks.Write("ok.yaml", CheckYaml({.name = "passing", .script = "ok.sh"}));
  checks.Write("bad.yaml", CheckYaml({.name = "failing", .script = "errors.sh"}));
  DaemonProcess d(checks.path());
  ASSERT_TRUE(ServesChecks(d, {"default/passing", "default/failing"}))
      << "sonde does not serve both checks on /metrics: " << d.Get("/metrics").status << "\n"
      << d.log();

  const std::string target = Target(d);
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

// Reports OK while $PASS_FILE exists and a failure otherwise, so a test decides the outcome of
// the next run by creating or removing one file.
const char* const kPassWhileFileExists = R"(set -e
body='{"OK": false, "Errors": ["pass file missing"]}'
if [ -e "$PASS_FILE" ]; then body='{"OK": true}'; fi
curl -sS --fail -X POST "$KH_REPORTING_URL" -H "kh-run-uuid: $KH_RUN_UUID" \
  -H 'Content-Type: application/json' -d "$body"
)";

// POST /api/run for default/<name>; retried while the previous run is still winding down.
bool RunNow(const DaemonProcess& d, const std::string& name) {
  return Eventually(
      [&] { return d.Post("/api/run?namespace=default&healthcheck=" + name, "").status == 202; },
      seconds(10));
}

// Whether Prometheus has scraped default/<name> passing (or failing): one kuberhealthy_check
// series for it with the matching status, and the cluster state that follows from it.
bool PrometheusSeesCheck(const PrometheusProcess& prom, const std::string& name, bool passing) {
  const std::string want = passing ? "1" : "0";
  return Eventually(
      [&] {
        const json::value r = prom.Query("kuberhealthy_check{check=\"default/" + name + "\"}");
        return r.is_array() && r.as_array().size() == 1 &&
               Label(r.as_array()[0], "status") == want && Value(r.as_array()[0]) == want &&
               OnlyValue(prom, "kuberhealthy_cluster_state") == want;
      },
      seconds(60));
}

// The `expr` of every rule in the shipped rules file, keyed by alert (or record) name.
std::map<std::string, std::string> RuleExpressions() {
  const YAML::Node doc =
      YAML::LoadFile(std::string(SONDE_SOURCE_DIR) + "/deploy/prometheus/sonde.rules.yml");
  std::map<std::string, std::string> out;
  for (const auto& group : doc["groups"]) {
    for (const auto& rule : group["rules"]) {
      const std::string name = rule[rule["alert"] ? "alert" : "record"].as<std::string>();
      out[name] = rule["expr"].as<std::string>();
    }
  }
  return out;
}

TEST(PrometheusScrape, ClusterStateFlipsAndFlappingAlertSeesIt) {
  TempDir checks;
  TempDir flag;
  checks.Write("ok.sh", kReportOkNoHeader, true);
  checks.Write("flip.sh", kPassWhileFileExists, true);
  checks.Write("ok.yaml", CheckYaml({.name = "passing", .script = "ok.sh"}));
  checks.Write("flip.yaml", CheckYaml({.name = "flip",
                                       .script = "flip.sh",
                                       .env = {{"PASS_FILE", flag.path() + "/pass"}}}));
  DaemonProcess d(checks.path());
  ASSERT_TRUE(ServesChecks(d, {"default/passing", "default/flip"})) << d.log();
  PrometheusProcess prom(Target(d));
  ASSERT_FALSE(prom.url().empty()) << "prometheus did not start (apt-get install prometheus):\n"
                                   << prom.log();
  ASSERT_TRUE(PrometheusSeesCheck(prom, "flip", false))
      << "cluster_state=" << json::serialize(prom.Query("kuberhealthy_cluster_state"))
      << " checks=" << json::serialize(prom.Query("kuberhealthy_check")) << "\n"
      << prom.log();

  // Three recoveries within the hour is what SondeCheckFlapping calls flapping.
  for (int recovery = 1; recovery <= 3; ++recovery) {
    if (recovery > 1) {
      flag.Remove("pass");
      ASSERT_TRUE(RunNow(d, "flip")) << d.log();
      ASSERT_TRUE(PrometheusSeesCheck(prom, "flip", false)) << "recovery " << recovery;
    }
    flag.Write("pass", "");
    ASSERT_TRUE(RunNow(d, "flip")) << d.log();
    ASSERT_TRUE(PrometheusSeesCheck(prom, "flip", true))
        << "recovery " << recovery
        << ": cluster_state=" << json::serialize(prom.Query("kuberhealthy_cluster_state"))
        << " checks=" << json::serialize(prom.Query("kuberhealthy_check")) << "\n"
        << d.log();
  }

  // The failing series went stale when the check passed: one series per check, right status.
  const auto series = ByCheck(prom.Query("kuberhealthy_check"));
  ASSERT_EQ(series.size(), 2u) << json::serialize(prom.Query("kuberhealthy_check"));
  for (const auto& [check, s] : series) {
    EXPECT_EQ(Label(s, "status"), "1") << check;
    EXPECT_EQ(Label(s, "error"), "") << check;
  }
  for (const auto& [check, s] : ByCheck(prom.Query("count by (check) (kuberhealthy_check)"))) {
    EXPECT_EQ(Value(s), "1") << check << " has more than one current series";
  }
  const auto flapping = ByCheck(prom.Query(RuleExpressions().at("SondeCheckFlapping")));
  ASSERT_EQ(flapping.size(), 1u) << "only flip flaps: "
                                 << json::serialize(
                                        prom.Query(RuleExpressions().at("SondeCheckFlapping")));
  EXPECT_EQ(Value(flapping.begin()->second), "3");
  EXPECT_EQ(flapping.begin()->first, "default/flip");
}

// One PromQL expression from the dashboard or the rules, ready to evaluate.
struct Expression {
  std::string id;      // "rule <alert>", "<panel type> <panel title>/<refId>", "variable <name>"
  std::string promql;  // dashboard variables already substituted
};

// Grafana's own variables, and each dashboard variable at its default (All for the query
// variables, as the dashboard opens).
std::map<std::string, std::string> DashboardVariables(const json::object& dashboard) {
  std::map<std::string, std::string> vars = {
      {"__rate_interval", "1m"}, {"__interval", "15s"}, {"__range", "1h"}};
  const json::value* list = dashboard.at("templating").as_object().if_contains("list");
  for (const json::value& v : list->as_array()) {
    const json::object& o = v.as_object();
    const std::string name(o.at("name").as_string());
    if (o.at("type") == "datasource") {
      vars[name] = "prometheus";
      continue;
    }
    json::value current = o.at("current").as_object().at("value");
    if (current.is_array()) current = current.as_array().at(0);
    std::string value(current.as_string());
    if (value == "$__all") {
      const json::value* all = o.if_contains("allValue");
      value = all != nullptr && all->is_string() ? std::string(all->as_string()) : ".*";
    }
    vars[name] = value;
  }
  return vars;
}

// `expr` with $name and ${name} (and ${name:format}) replaced; unknown names stay.
std::string Substitute(const std::string& expr, const std::map<std::string, std::string>& vars) {
  static const std::regex kVariable(R"(\$\{(\w+)(?::[^}]*)?\}|\$(\w+))");
  std::string out;
  auto last = expr.cbegin();
  for (std::sregex_iterator it(expr.begin(), expr.end(), kVariable), end; it != end; ++it) {
    const std::smatch& m = *it;
    const std::string name = m[1].matched ? m[1].str() : m[2].str();
    out.append(last, m[0].first);
    const auto found = vars.find(name);
    out += found != vars.end() ? found->second : m[0].str();
    last = m[0].second;
  }
  out.append(last, expr.cend());
  return out;
}

// Every panel's targets[].expr, rows' nested panels included.
void PanelExpressions(const json::array& panels, const std::map<std::string, std::string>& vars,
                      std::vector<Expression>& out) {
  for (const json::value& p : panels) {
    const json::object& panel = p.as_object();
    const std::string where = std::string(panel.at("type").as_string()) + " " +
                              std::string(panel.at("title").as_string());
    if (const json::value* targets = panel.if_contains("targets")) {
      for (const json::value& t : targets->as_array()) {
        const json::value* expr = t.as_object().if_contains("expr");
        if (expr == nullptr) continue;
        const json::value* ref = t.as_object().if_contains("refId");
        out.push_back({where + "/" + (ref != nullptr ? std::string(ref->as_string()) : "?"),
                       Substitute(std::string(expr->as_string()), vars)});
      }
    }
    if (const json::value* nested = panel.if_contains("panels")) {
      PanelExpressions(nested->as_array(), vars, out);
    }
  }
}

std::vector<Expression> DashboardExpressions() {
  const std::string path = std::string(SONDE_SOURCE_DIR) + "/deploy/grafana/sonde-dashboard.json";
  const json::object dashboard = json::parse(ReadFile(path)).as_object();
  const auto vars = DashboardVariables(dashboard);
  std::vector<Expression> out;
  PanelExpressions(dashboard.at("panels").as_array(), vars, out);
  // A query variable's label_values(selector, label) runs `selector` as a series query.
  for (const json::value& v : dashboard.at("templating").as_object().at("list").as_array()) {
    const json::object& o = v.as_object();
    if (o.at("type") != "query") continue;
    std::string q(o.at("query").as_string());
    if (q.starts_with("label_values(")) q = q.substr(13, q.rfind(',') - 13);
    out.push_back({"variable " + std::string(o.at("name").as_string()), Substitute(q, vars)});
  }
  return out;
}

std::vector<Expression> AllExpressions() {
  std::vector<Expression> out = DashboardExpressions();
  for (const auto& [name, expr] : RuleExpressions()) out.push_back({"rule " + name, expr});
  return out;
}

// Expressions that rightly return nothing in the scenario below, and why. Everything else must
// return data; these must return none (an alert firing here would be a false alarm).
const std::map<std::string, std::string>& EmptyByDesign() {
  static const std::map<std::string, std::string> kEmpty = {
      {"rule KuberhealthyError", "sonde is running"},
      {"rule SondeDown", "the target is up"},
      {"rule SondeCheckStale", "every check produced a result moments ago"},
      {"rule SondeCheckNoRecentSuccess", "no check passed more than a day ago"},
      // ClusterStateFlipsAndFlappingAlertSeesIt has it fire.
      {"rule SondeCheckFlapping", "no check has recovered"},
      {"rule SondeSchedulerLagging", "no run starts 30s late"},
  };
  return kEmpty;
}

// Whether an answer holds data a panel or an alert would show: a sample that is not NaN
// (histogram_quantile over buckets that did not move is NaN: an empty panel).
bool HasData(const json::value& answer) {
  boost::system::error_code ec;
  const json::value* type = answer.find_pointer("/data/resultType", ec);
  const json::value* result = answer.find_pointer("/data/result", ec);
  if (type == nullptr || result == nullptr || !result->is_array()) return false;
  if (*type == "scalar" || *type == "string") return true;
  for (const json::value& s : result->as_array()) {
    if (Value(s) != "NaN") return true;
  }
  return false;
}

// A passing check that runs every 2s (so every rate() and histogram moves), a failing check
// and a failing job: most expressions have something to show, and the failure alerts fire.
TEST(PrometheusScrape, EveryDashboardAndRuleExpressionEvaluates) {
  const std::vector<Expression> exprs = AllExpressions();
  ASSERT_GE(exprs.size(), 30u) << "the shipped dashboard and rules have more than this";
  std::set<std::string> ids;
  for (const Expression& e : exprs) {
    EXPECT_TRUE(ids.insert(e.id).second) << "two expressions are called " << e.id;
    EXPECT_TRUE(e.promql.find('$') == std::string::npos)
        << e.id << " uses a dashboard variable this test does not know: " << e.promql;
  }
  for (const auto& [id, why] : EmptyByDesign()) {
    EXPECT_EQ(ids.count(id), 1u) << "EmptyByDesign names " << id << ", which no longer exists";
  }

  TempDir checks;
  checks.Write("ok.sh", kReportOkNoHeader, true);
  checks.Write("errors.sh", kReportErrors, true);
  checks.Write("ok.yaml", CheckYaml({.name = "passing", .script = "ok.sh", .interval = "2s"}));
  checks.Write("bad.yaml", CheckYaml({.name = "failing", .script = "errors.sh"}));
  checks.Write("job.yaml",
               CheckYaml({.name = "migrate", .script = "errors.sh", .kind = "KuberhealthyJob"}));
  // A tls probe of a certificate that expires in 3 days: the expiry alert has data.
  TestPki pki;
  TlsTestServer tls(pki.in3days(), false);
  checks.Write("tls.yaml",
               "apiVersion: comcast.github.io/v1\nkind: KuberhealthyCheck\n"
               "metadata: {name: cert}\nspec:\n  runInterval: 2s\n  probe:\n"
               "    tls: {address: \"127.0.0.1:" +
                   std::to_string(tls.port()) + "\", caFile: \"" + pki.ca() + "\"}\n");
  DaemonProcess d(checks.path());
  ASSERT_TRUE(
      ServesChecks(d, {"default/passing", "default/failing", "default/migrate", "default/cert"}))
      << d.log();
  PrometheusProcess prom(Target(d));
  ASSERT_FALSE(prom.url().empty()) << "prometheus did not start (apt-get install prometheus):\n"
                                   << prom.log();

  // Every answer must parse; wait (bounded) until the ones that need data have it.
  std::map<std::string, json::value> answers;
  const auto settled = [&] {
    bool all = true;
    for (const Expression& e : exprs) {
      json::value& a = answers[e.id];
      if (!a.is_object() || HasData(a) == (EmptyByDesign().count(e.id) > 0)) {
        a = prom.QueryAnswer(e.promql);
      }
      all = all && a.is_object() && a.as_object().at("status") == "success" &&
            HasData(a) == (EmptyByDesign().count(e.id) == 0);
    }
    return all;
  };
  Eventually(settled, seconds(60));

  for (const Expression& e : exprs) {
    const json::value& a = answers[e.id];
    ASSERT_TRUE(a.is_object()) << e.id << ": Prometheus did not answer\n" << prom.log();
    if (a.as_object().at("status") != "success") {
      ADD_FAILURE() << e.id << " does not evaluate: " << json::serialize(a) << "\n  " << e.promql;
    } else if (const auto empty = EmptyByDesign().find(e.id); empty != EmptyByDesign().end()) {
      EXPECT_FALSE(HasData(a)) << e.id << " should return nothing (" << empty->second
                               << ") but returned " << json::serialize(a) << "\n  " << e.promql;
    } else {
      EXPECT_TRUE(HasData(a)) << e.id << " returned no data: " << json::serialize(a) << "\n  "
                              << e.promql;
    }
  }
}

}  // namespace
}  // namespace sonde::testing
