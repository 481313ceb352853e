#include "metrics/registry.hpp"

#include <algorithm>
#include <chrono>

namespace sonde {
namespace {

double Seconds(Duration d) { return std::chrono::duration<double>(d).count(); }

// Spawning is fork+exec plus the runner's bookkeeping: milliseconds, or worse under load.
const std::vector<double> kSpawnBounds = {0.001, 0.0025, 0.005, 0.01, 0.025, 0.05,
                                          0.1,   0.25,   0.5,   1,    2.5};
// The scheduler's timer resolution is milliseconds; minutes late means a stall.
const std::vector<double> kLatenessBounds = {0.001, 0.005, 0.01, 0.05, 0.1, 0.5,
                                             1,     5,     10,   30,   60,  300};
// Checks take from milliseconds (a curl) to the 5m default timeout and beyond.
const std::vector<double> kRunBounds = {0.1, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600};

std::string_view ReasonForStatus(int http_status) {
  switch (http_status) {
    case 200:
      return "ok";
    case 400:
      return "malformed";
    case 405:
      return "wrong_method";
    case 410:
      return "gone";
    case 413:
      return "too_large";
    case 415:
      return "content_type";
    case 431:
      return "headers_too_large";
    default:
      return "other";
  }
}

}  // namespace

template <class V>
void Instrument<V>::EraseWhere(std::string_view label_name, std::string_view value) {
  const auto it = std::find(label_names_.begin(), label_names_.end(), label_name);
  if (it == label_names_.end()) return;
  const size_t index = static_cast<size_t>(it - label_names_.begin());
  std::erase_if(series_, [&](const auto& entry) { return entry.first[index] == value; });
}

template <class V>
auto Instrument<V>::RangeOf(std::string_view first) const
    -> std::pair<typename SeriesMap::const_iterator, typename SeriesMap::const_iterator> {
  if (label_names_.empty()) return {series_.end(), series_.end()};
  auto begin = series_.lower_bound(LabelValues{std::string(first)});
  auto end = begin;
  while (end != series_.end() && end->first.front() == first) ++end;
  return {begin, end};
}

template <class V>
V& Instrument<V>::At(LabelValues values) {
  values.resize(label_names_.size());
  return series_[std::move(values)];
}

template <class V>
Labels Instrument<V>::LabelsOf(const LabelValues& values) const {
  Labels labels;
  labels.reserve(label_names_.size());
  for (size_t i = 0; i < label_names_.size(); ++i) labels.push_back({label_names_[i], values[i]});
  return labels;
}

template class Instrument<double>;
template class Instrument<HistogramCell>;

void Counter::Inc(LabelValues values, double by) {
  if (!(by >= 0)) return;
  At(std::move(values)) += by;
}

double Counter::Get(const LabelValues& values) const {
  const auto it = series_.find(values);
  return it == series_.end() ? 0 : it->second;
}

void Gauge::Set(LabelValues values, double v) { At(std::move(values)) = v; }

template <MetricType Type>
Family Scalar<Type>::Collect(const SeriesFilter& keep) const {
  Family f = Start(Type);
  for (const auto& [values, v] : series_) {
    Series s{LabelsOf(values), v, {}, {}};
    if (!keep || keep(s.labels)) f.series.push_back(std::move(s));
  }
  return f;
}

template <MetricType Type>
Family Scalar<Type>::CollectWhereFirst(std::string_view first) const {
  Family f = Start(Type);
  const auto [begin, end] = RangeOf(first);
  for (auto it = begin; it != end; ++it)
    f.series.push_back({LabelsOf(it->first), it->second, {}, {}});
  return f;
}

template class Scalar<MetricType::kCounter>;
template class Scalar<MetricType::kGauge>;

void Histogram::Ensure(LabelValues values) {
  HistogramCell& h = At(std::move(values));
  if (h.counts.empty()) h.counts.assign(bounds_.size(), 0);
}

void Histogram::Observe(LabelValues values, double v) {
  HistogramCell& h = At(std::move(values));
  if (h.counts.empty()) h.counts.assign(bounds_.size(), 0);
  for (size_t i = 0; i < bounds_.size(); ++i) {
    if (v <= bounds_[i]) ++h.counts[i];
  }
  h.sum += v;
  ++h.count;
}

const HistogramCell* Histogram::Find(const LabelValues& values) const {
  const auto it = series_.find(values);
  return it == series_.end() ? nullptr : &it->second;
}

HistogramValue Histogram::ValueOf(const HistogramCell& cell) const {
  return HistogramValue{bounds_, cell.counts, cell.sum, cell.count};
}

Family Histogram::Collect(const SeriesFilter& keep) const {
  Family f = Start(MetricType::kHistogram);
  for (const auto& [values, h] : series_) {
    Series s{LabelsOf(values), 0, {}, {}};
    if (keep && !keep(s.labels)) continue;
    s.histogram = ValueOf(h);
    f.series.push_back(std::move(s));
  }
  return f;
}

Family Histogram::CollectWhereFirst(std::string_view first) const {
  Family f = Start(MetricType::kHistogram);
  const auto [begin, end] = RangeOf(first);
  for (auto it = begin; it != end; ++it)
    f.series.push_back({LabelsOf(it->first), 0, {}, ValueOf(it->second)});
  return f;
}

const char* RunOutcomeName(RunOutcome outcome) {
  switch (outcome) {
    case RunOutcome::kOk:
      return "ok";
    case RunOutcome::kFailed:
      return "failed";
    case RunOutcome::kTimeout:
      return "timeout";
    case RunOutcome::kExit:
      return "exit";
    case RunOutcome::kSuperseded:
      return "superseded";
    case RunOutcome::kInterrupted:
      return "interrupted";
    case RunOutcome::kRemoved:
      return "removed";
  }
  return "unknown";
}

const std::vector<std::string>& SondeMetrics::ReportReasons() {
  static const std::vector<std::string> kReasons = {"malformed", "missing_run_id",   "unknown_run",
                                                    "gone",      "wrong_method",     "content_type",
                                                    "too_large", "headers_too_large"};
  return kReasons;
}

SondeMetrics::SondeMetrics(std::string version)
    : version_(std::move(version)),
      reports_("sonde_reports_total", "Check reports answered, by result and reason",
               {"result", "reason"}),
      runs_started_("sonde_runs_started_total", "Check runs started", {}),
      runs_finished_("sonde_runs_finished_total", "Check runs finished, by how they ended",
                     {"outcome"}),
      run_duration_("sonde_run_duration_seconds",
                    "Check run durations from start to result, per check", {"check", "namespace"},
                    kRunBounds),
      certificate_expiry_("sonde_certificate_expiry_timestamp_seconds",
                          "When the certificate an in-process probe last saw expires (Unix time)",
                          {"check", "namespace"}),
      spawn_latency_("sonde_checker_spawn_seconds",
                     "Time from deciding to start a run to its checker process running", {},
                     kSpawnBounds),
      scheduler_lateness_("sonde_scheduler_lateness_seconds",
                          "How late check runs started against their due time", {},
                          kLatenessBounds),
      http_requests_("sonde_http_requests_total", "HTTP requests answered, by route and code",
                     {"route", "code"}),
      heartbeat_reports_("sonde_heartbeat_reports_total",
                         "Reports to heartbeat checks' URLs, per check, by what became of them",
                         {"check", "namespace", "result"}) {
  // Zero-valued series from the start, so rate() and increase() see the first event.
  reports_.Inc({"accepted", "ok"}, 0);
  for (const std::string& r : ReportReasons()) reports_.Inc({"rejected", r}, 0);
  runs_started_.Inc({}, 0);
  spawn_latency_.Ensure({});
  scheduler_lateness_.Ensure({});
  for (RunOutcome o :
       {RunOutcome::kOk, RunOutcome::kFailed, RunOutcome::kTimeout, RunOutcome::kExit,
        RunOutcome::kSuperseded, RunOutcome::kInterrupted, RunOutcome::kRemoved}) {
    runs_finished_.Inc({RunOutcomeName(o)}, 0);
  }
}

void SondeMetrics::ReportAnswered(int http_status, std::string_view reason) {
  if (http_status == 200) {
    reports_.Inc({"accepted", "ok"});
    return;
  }
  std::string r(reason.empty() ? ReasonForStatus(http_status) : reason);
  const auto& known = ReportReasons();
  if (std::find(known.begin(), known.end(), r) == known.end()) r = "other";
  reports_.Inc({"rejected", std::move(r)});
}

void SondeMetrics::RunStarted() { runs_started_.Inc({}); }

void SondeMetrics::RunFinished(const CheckKey& key, RunOutcome outcome, Duration run_duration) {
  runs_finished_.Inc({RunOutcomeName(outcome)});
  if (outcome == RunOutcome::kRemoved || outcome == RunOutcome::kInterrupted) return;
  run_duration_.Observe({key.str(), key.ns}, std::max(0.0, Seconds(run_duration)));
  Touch(key.str());
}

void SondeMetrics::SpawnLatency(Duration d) {
  spawn_latency_.Observe({}, std::max(0.0, Seconds(d)));
}

void SondeMetrics::SchedulerLateness(Duration d) {
  scheduler_lateness_.Observe({}, std::max(0.0, Seconds(d)));
}

void SondeMetrics::SchedulerLoop(Duration took, size_t due) {
  last_loop_duration_ = took;
  last_due_checks_ = due;
}

void SondeMetrics::HttpAnswered(std::string_view route, int code) {
  LabelValues values{std::string(route), std::to_string(code)};
  // A wiring mistake that passes raw paths must not grow the scrape without bound.
  if (http_requests_.size() >= kMaxHttpSeries && http_requests_.Get(values) == 0) {
    values[0] = "other";
  }
  http_requests_.Inc(std::move(values));
}

void SondeMetrics::CertificateExpiry(const CheckKey& key, std::optional<TimePoint> not_after) {
  // Called for every probe run; with no certificate seen by any check there is nothing to
  // erase, and the run's own RunFinished marks the check changed.
  if (!not_after && certificate_expiry_.size() == 0) return;
  Touch(key.str());
  if (!not_after) return certificate_expiry_.EraseWhere("check", key.str());
  certificate_expiry_.Set({key.str(), key.ns}, static_cast<double>(UnixSeconds(*not_after)));
}

void SondeMetrics::HeartbeatReport(const CheckKey& key, std::string_view result) {
  heartbeat_reports_.Inc({key.str(), key.ns, std::string(result)});
  Touch(key.str());
}

void SondeMetrics::ForgetCheck(const CheckKey& key) {
  run_duration_.EraseWhere("check", key.str());
  certificate_expiry_.EraseWhere("check", key.str());
  heartbeat_reports_.EraseWhere("check", key.str());
  check_versions_.erase(key.str());  // a check added again later gets a newer version
}

uint64_t SondeMetrics::CheckVersion(const std::string& check) const {
  const auto it = check_versions_.find(check);
  return it == check_versions_.end() ? 0 : it->second;
}

std::vector<Family> SondeMetrics::Collect(const std::set<std::string>& live_checks) const {
  return CollectImpl(Which::kAll, &live_checks, {});
}

std::vector<Family> SondeMetrics::CollectShared() const {
  return CollectImpl(Which::kShared, nullptr, {});
}

std::vector<Family> SondeMetrics::CollectCheck(std::string_view check) const {
  return CollectImpl(Which::kOneCheck, nullptr, check);
}

std::vector<Family> SondeMetrics::CollectImpl(Which which, const std::set<std::string>* live,
                                              std::string_view check) const {
  const bool shared = which != Which::kOneCheck;
  auto empty = [](const auto& instrument) {
    return Family{instrument.name(), instrument.kType, instrument.help(), {}};
  };
  auto shared_family = [&](const auto& instrument) {
    return shared ? instrument.Collect() : empty(instrument);
  };
  auto per_check = [&](const auto& instrument) {
    Family f = which == Which::kShared     ? empty(instrument)
               : which == Which::kOneCheck ? instrument.CollectWhereFirst(check)
                                           : instrument.Collect([&](const Labels& labels) {
                                               return live->count(labels.front().value) > 0;
                                             });
    f.owner = SeriesOwner::kCheck;
    return f;
  };
  std::vector<Family> out;
  out.push_back(Family{"sonde_build_info", MetricType::kGauge, "Sonde's version; always 1", {}});
  if (shared) out.back().series.push_back(Series{{{"version", version_}}, 1, {}, {}});
  out.push_back(shared_family(reports_));
  out.push_back(shared_family(runs_started_));
  out.push_back(shared_family(runs_finished_));
  out.push_back(per_check(run_duration_));
  out.push_back(per_check(certificate_expiry_));
  out.push_back(shared_family(spawn_latency_));
  out.push_back(shared_family(scheduler_lateness_));
  out.push_back(shared_family(http_requests_));
  out.push_back(per_check(heartbeat_reports_));
  return out;
}

}  // namespace sonde
