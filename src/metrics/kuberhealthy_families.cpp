#include "metrics/kuberhealthy_families.hpp"

#include <algorithm>
#include <charconv>
#include <chrono>
#include <cstdio>
#include <map>

namespace sonde {
namespace {

double Seconds(Duration d) { return std::chrono::duration<double>(d).count(); }

// v2 prints durations with Go's %f (what to_chars writes with fixed precision 6, without
// printf's format parsing).
std::string SixDecimals(double seconds) {
  char buf[400];  // %f of the largest double is 316 characters
  const auto [end, ec] = std::to_chars(buf, buf + sizeof buf, seconds, std::chars_format::fixed, 6);
  return ec == std::errc() ? std::string(buf, end) : "0.000000";
}

std::string LabelNameFor(std::string_view key) {
  std::string out = "label_";
  for (char c : key) {
    const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
    out += ok ? c : '_';
  }
  return out;
}

const std::string* FindLabel(const CheckSpec& spec, const std::string& key) {
  if (auto it = spec.extra_labels->find(key); it != spec.extra_labels->end()) return &it->second;
  if (auto it = spec.pod_labels->find(key); it != spec.pod_labels->end()) return &it->second;
  return nullptr;
}

bool Allowed(const std::string& name, const MetricsOptions& opts) {
  if (opts.label_denylist.count(name) > 0) return false;
  return opts.label_allowlist.empty() || opts.label_allowlist.count(name) > 0;
}

// The per-check label sets every family shares, computed once per check.
struct CheckLabels {
  const CheckView* check;
  Labels base;    // check, namespace
  Labels extras;  // sorted by name
  Labels With(const Labels& middle = {}) const {
    Labels out = base;
    out.insert(out.end(), middle.begin(), middle.end());
    out.insert(out.end(), extras.begin(), extras.end());
    return out;
  }
};

std::vector<CheckLabels> LabelsOfChecks(const std::vector<const CheckView*>& checks,
                                        const MetricsOptions& opts) {
  std::vector<CheckLabels> out;
  out.reserve(checks.size());
  for (const CheckView* c : checks) {
    out.push_back({c,
                   {{"check", c->spec->key.str()}, {"namespace", c->spec->key.ns}},
                   ExtraLabels(*c, opts)});
  }
  return out;
}

Family Gauge1(std::string name, std::string help, Labels labels, double value, bool filled) {
  Family f{std::move(name), MetricType::kGauge, std::move(help), {}};
  if (filled) f.series.push_back(Series{std::move(labels), value, {}, {}});
  return f;
}

// kuberhealthy_check / kuberhealthy_job and their _duration_seconds, as v2 writes them.
void AddStatusFamilies(std::vector<Family>& out, const std::vector<CheckLabels>& checks,
                       const MetricsOptions& opts, bool jobs) {
  const char* kind = jobs ? "job" : "check";
  Family status{std::string("kuberhealthy_") + kind,
                MetricType::kGauge,
                std::string("Shows the status of a Kuberhealthy ") + kind,
                {}};
  Family duration{std::string("kuberhealthy_") + kind + "_duration_seconds",
                  MetricType::kGauge,
                  std::string("Shows the ") + kind + " run duration of a Kuberhealthy " + kind,
                  {}};
  status.owner = duration.owner = SeriesOwner::kCheck;
  status.series.reserve(checks.size());
  duration.series.reserve(checks.size());
  for (const CheckLabels& cl : checks) {
    if (cl.check->spec->IsJob() != jobs) continue;
    const CheckState& s = cl.check->state;
    Labels middle = {{"status", s.ok ? "1" : "0"}};
    if (!opts.suppress_error_label) middle.push_back({"error", ErrorLabelValue(s.errors, opts)});
    status.series.push_back({cl.With(middle), s.ok ? 1.0 : 0.0, {}, {}});
    duration.series.push_back({cl.With(), 0, SixDecimals(Seconds(s.run_duration)), {}});
  }
  out.push_back(std::move(status));
  out.push_back(std::move(duration));
}

// v3's per-check counters and gauges; jobs are included, as v3 lists singleRunOnly checks.
void AddV3CheckFamilies(std::vector<Family>& out, const std::vector<CheckLabels>& checks,
                        TimePoint now) {
  Family consecutive{"kuberhealthy_check_consecutive_failures",
                     MetricType::kGauge,
                     "Shows the number of consecutive failures for a Kuberhealthy check",
                     {}};
  Family successes{"kuberhealthy_check_success_total",
                   MetricType::kCounter,
                   "Shows the total number of successful runs for a check",
                   {}};
  Family failures{"kuberhealthy_check_failure_total",
                  MetricType::kCounter,
                  "Shows the total number of failed runs for a check",
                  {}};
  Family since{"kuberhealthy_check_seconds_since_success",
               MetricType::kGauge,
               "Shows time since the last OK report for a check",
               {}};
  for (Family* f : {&consecutive, &successes, &failures, &since}) {
    f->series.reserve(checks.size());
    f->owner = SeriesOwner::kCheck;
  }
  since.owner = SeriesOwner::kCheckLastOkAge;
  for (const CheckLabels& cl : checks) {
    const CheckState& s = cl.check->state;
    Labels labels = cl.With();
    consecutive.series.push_back({labels, static_cast<double>(s.consecutive_failures), {}, {}});
    successes.series.push_back({labels, static_cast<double>(s.success_count), {}, {}});
    failures.series.push_back({labels, static_cast<double>(s.failure_count), {}, {}});
    since.series.push_back({std::move(labels), SecondsSinceLastOk(s, now), {}, {}});
  }
  for (Family* f : {&consecutive, &successes, &failures, &since}) out.push_back(std::move(*f));
}

// v3's histogram is recomputed at every scrape over each check's last duration, unlabelled.
Family RunDurationHistogram(const std::vector<const CheckView*>& checks, bool filled) {
  Family f{"kuberhealthy_check_run_duration_seconds",
           MetricType::kHistogram,
           "Bucketed distribution of check run durations",
           {}};
  if (!filled) return f;
  HistogramValue h;
  h.bounds.assign(std::begin(kKuberhealthyRunBounds), std::end(kKuberhealthyRunBounds));
  h.counts.assign(h.bounds.size(), 0);
  for (const CheckView* c : checks) {
    const double d = Seconds(c->state.run_duration);
    for (size_t i = 0; i < h.bounds.size(); ++i) {
      if (d <= h.bounds[i]) ++h.counts[i];
    }
    h.sum += d;
    ++h.count;
  }
  f.series.push_back(Series{{}, 0, {}, std::move(h)});
  return f;
}

}  // namespace

std::string ErrorLabelValue(const std::vector<std::string>& errors, const MetricsOptions& opts) {
  std::string joined;
  for (size_t i = 0; i < errors.size(); ++i) {
    if (i > 0) joined += '|';
    joined += errors[i];
  }
  std::replace(joined.begin(), joined.end(), '"', '\'');
  std::string valid = ToValidUtf8(joined);
  if (opts.error_label_max_length > 0) {
    valid = std::string(TruncateUtf8(valid, opts.error_label_max_length));
  }
  return valid;
}

std::string SanitizeExtraLabelValue(std::string_view value, size_t max_bytes) {
  std::string s = ToValidUtf8(value);
  for (char& c : s) {
    if (c == '"') c = '\'';
    if (c == '\r' || c == '\n') c = ' ';
  }
  if (max_bytes > 0) s = std::string(TruncateUtf8(s, max_bytes));
  return s;
}

Labels ExtraLabels(const CheckView& check, const MetricsOptions& opts) {
  static const std::map<std::string, std::string> kNamed = {
      {"kuberhealthy.io/severity", "severity"}, {"kuberhealthy.io/category", "category"}};
  std::map<std::string, std::string> candidates;  // label name -> raw value
  for (const auto& [key, name] : kNamed) {
    if (const std::string* v = FindLabel(*check.spec, key)) candidates.emplace(name, *v);
  }
  candidates.emplace("run_uuid", check.state.current_uuid);
  // extraLabels first: on a sanitised-name clash the first value wins.
  for (const auto* labels : {&*check.spec->extra_labels, &*check.spec->pod_labels}) {
    for (const auto& [key, value] : *labels) {
      if (kNamed.count(key) == 0) candidates.emplace(LabelNameFor(key), value);
    }
  }
  Labels out;
  for (const auto& [name, value] : candidates) {
    if (!Allowed(name, opts)) continue;
    out.push_back({name, SanitizeExtraLabelValue(value, opts.label_value_max_length)});
  }
  return out;
}

double SecondsSinceLastOk(std::optional<TimePoint> last_ok, TimePoint now) {
  return last_ok ? std::max(0.0, Seconds(now - *last_ok)) : -1.0;
}

std::vector<Family> KuberhealthyFamilies(const StatusSnapshot& snap,
                                         const std::vector<const CheckView*>& checks,
                                         const SondeMetrics& own, const MetricsOptions& opts,
                                         TimePoint now, FamilyParts parts) {
  const bool shared = parts != FamilyParts::kChecks;
  const bool cluster_ok =
      shared && snap.load_errors.empty() &&
      std::all_of(checks.begin(), checks.end(), [](const CheckView* c) { return c->state.ok; });
  const std::vector<CheckLabels> labelled =
      parts == FamilyParts::kShared ? std::vector<CheckLabels>{} : LabelsOfChecks(checks, opts);
  std::vector<Family> out;
  out.push_back(Gauge1("kuberhealthy_running", "Shows if kuberhealthy is running error free",
                       {{"current_master", snap.instance}}, 1, shared));
  out.push_back(Gauge1("kuberhealthy_cluster_state", "Shows the status of the cluster", {},
                       cluster_ok ? 1 : 0, shared));
  AddStatusFamilies(out, labelled, opts, /*jobs=*/false);
  AddStatusFamilies(out, labelled, opts, /*jobs=*/true);
  // A standalone daemon is always its own leader.
  out.push_back(Gauge1("kuberhealthy_controller_leader",
                       "Shows whether this controller instance is the elected leader", {},
                       snap.leader ? 1 : 0, shared));
  out.push_back(Gauge1("kuberhealthy_scheduler_loop_duration_seconds",
                       "Shows the duration of the last scheduling loop", {},
                       Seconds(own.last_loop_duration()), shared));
  out.push_back(Gauge1("kuberhealthy_scheduler_due_checks",
                       "Shows the number of checks that were due in the last scheduling loop", {},
                       static_cast<double>(own.last_due_checks()), shared));
  AddV3CheckFamilies(out, labelled, now);
  out.push_back(RunDurationHistogram(checks, shared));
  return out;
}

}  // namespace sonde
