#include "metrics/metrics_test_support.hpp"

#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>

namespace sonde::metrics_test {
namespace {

using std::chrono::microseconds;
using std::chrono::milliseconds;
using std::chrono::minutes;
using std::chrono::nanoseconds;
using std::chrono::seconds;

std::shared_ptr<CheckSpec> Spec(std::string ns, std::string name, CheckKind kind) {
  auto s = std::make_shared<CheckSpec>();
  s->key = {std::move(ns), std::move(name)};
  s->kind = kind;
  s->run_interval = minutes(10);
  s->timeout = minutes(5);
  return s;
}

std::string ShellQuote(const std::string& s) {
  std::string out = "'";
  for (char c : s) {
    if (c == '\'') {
      out += "'\\''";
    } else {
      out += c;
    }
  }
  return out + "'";
}

}  // namespace

TimePoint SampleNow() { return FromUnixSeconds(1614578889) + seconds(90); }

StatusSnapshot SampleSnapshot() {
  const TimePoint t = FromUnixSeconds(1614578889) + nanoseconds(357930490);
  StatusSnapshot snap;
  snap.instance = "sonde-host";

  auto ok_spec = Spec("kuberhealthy", "dns-status-internal", CheckKind::kKhCheck);
  ok_spec->extra_labels = {{"kuberhealthy.io/severity", "critical"}, {"team", "sre"}};
  ok_spec->pod_labels = KeyValues{{"kuberhealthy.io/category", "dns\"core\nnet"}};
  CheckView ok{ok_spec, {}, {}};
  ok.state.ok = true;
  ok.state.run_duration = nanoseconds(3359431829);
  ok.state.last_run = t;
  ok.state.last_ok = t;
  ok.state.success_count = 4;

  CheckView bad{Spec("default", "db-replica", CheckKind::kHealthCheck), {}, {}};
  bad.state.errors = {"lookup \"db\": no such host", "C:\\path\nsecond line"};
  bad.state.run_duration = milliseconds(45250);
  bad.state.last_run = t;
  bad.state.current_uuid = "49f7bef3-f5d4-4e25-bf06-acd260d52e27";
  bad.state.last_ok = t - minutes(30);
  bad.state.consecutive_failures = 2;
  bad.state.success_count = 7;
  bad.state.failure_count = 2;

  CheckView job{Spec("default", "migrate-once", CheckKind::kKhJob), {}, {}};
  job.state.ok = true;
  job.state.run_duration = nanoseconds(68486351014);
  job.state.last_run = t;
  job.state.last_ok = t;
  job.state.success_count = 1;

  CheckView never{Spec("default", "new-check", CheckKind::kKhCheck), {}, {}};
  never.next_run = t;

  snap.checks = {ok, bad, job, never};
  return snap;
}

SondeMetrics SampleOwnMetrics() {
  SondeMetrics m("0.1.0-test");
  m.ReportAnswered(200);
  m.ReportAnswered(200);
  m.ReportAnswered(400, "unknown_run");
  m.ReportAnswered(410);
  m.ReportAnswered(400, "not-a-reason");
  for (int i = 0; i < 3; ++i) m.RunStarted();
  m.RunFinished({"kuberhealthy", "dns-status-internal"}, RunOutcome::kOk, milliseconds(3359));
  m.RunFinished({"default", "db-replica"}, RunOutcome::kTimeout, seconds(45));
  m.RunFinished({"default", "deleted-check"}, RunOutcome::kFailed, seconds(2));
  m.CertificateExpiry({"default", "db-replica"}, FromUnixSeconds(1'800'000'000));
  m.SpawnLatency(milliseconds(3));
  m.SchedulerLateness(milliseconds(20));
  m.SchedulerLateness(seconds(2));
  m.SchedulerLoop(microseconds(1500), 2);
  m.HttpAnswered("/metrics", 200);
  m.HttpAnswered("/externalCheckStatus", 410);
  return m;
}

UptimeByCheck SampleUptime() {
  UptimeByCheck u;
  u[{"kuberhealthy", "dns-status-internal"}] = {{{"1h", 1.0}, {"24h", 0.9986}}, false};
  u[{"default", "db-replica"}] = {{{"1h", 0.5}}, true};
  u[{"default", "deleted-check"}] = {{{"1h", 0.25}}, true};
  return u;
}

std::string RenderSample(ExpositionFormat format) {
  return RenderMetrics(SampleSnapshot(), SampleOwnMetrics(), MetricsOptions{}, format, SampleNow(),
                       SampleUptime());
}

void ExpectGolden(const std::string& name, const std::string& got) {
  const std::string path = std::string(SONDE_SOURCE_DIR) + "/src/metrics/testdata/" + name;
  if (std::getenv("UPDATE_GOLDEN") != nullptr) std::ofstream(path) << got;
  std::ifstream in(path);
  ASSERT_TRUE(in) << "missing golden file " << path << " (run with UPDATE_GOLDEN=1)";
  std::stringstream want;
  want << in.rdbuf();
  EXPECT_EQ(got, want.str()) << "golden " << name << " differs (UPDATE_GOLDEN=1 rewrites)";
}

CommandResult RunCommand(const std::vector<std::string>& argv, const std::string& input) {
  namespace fs = std::filesystem;
  std::string tmpl = (fs::temp_directory_path() / "sonde-metrics-XXXXXX").string();
  const int fd = mkstemp(tmpl.data());
  if (fd < 0) return {};
  close(fd);
  std::ofstream(tmpl, std::ios::binary) << input;
  std::string cmd;
  for (const std::string& a : argv) cmd += ShellQuote(a) + " ";
  cmd += "< " + ShellQuote(tmpl) + " 2>&1";
  CommandResult r;
  if (FILE* p = popen(cmd.c_str(), "r")) {
    char buf[4096];
    size_t n = 0;
    while ((n = fread(buf, 1, sizeof buf, p)) > 0) r.output.append(buf, n);
    const int status = pclose(p);
    r.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  }
  fs::remove(tmpl);
  return r;
}

std::string Promtool() { return SONDE_PROMTOOL; }

std::vector<std::string> SampleNames(const std::string& exposition) {
  std::set<std::string> names;
  std::istringstream in(exposition);
  std::string line;
  while (std::getline(in, line)) {
    if (line.empty() || line[0] == '#') continue;
    names.insert(line.substr(0, line.find_first_of("{ ")));
  }
  return {names.begin(), names.end()};
}

}  // namespace sonde::metrics_test
