// Sonde's own instruments: minimal counters, gauges and fixed-bucket histograms with label
// values, and `SondeMetrics`, the one set of named instruments the daemon owns and the engine and
// HTTP layer feed through plain methods.
//
// Thread-safety: none, on purpose. The daemon runs one io_context on one thread (see
// docs/architecture.md); every update and the /metrics render happen there, so a lock would only
// hide a wiring mistake. Call from that thread only. There is no global state: each
// SondeMetrics is independent (tests make their own).
// Failure: none. Label values are bounded by construction (enums, fixed sets, a series cap), so a
// caller cannot blow up cardinality by passing request data.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "core/check.hpp"
#include "core/time.hpp"
#include "metrics/family.hpp"

namespace sonde {

using LabelValues = std::vector<std::string>;
// Decides from a series' labels whether it is exposed; an empty function keeps everything.
using SeriesFilter = std::function<bool(const Labels&)>;

// Series sharing a name and label names, keyed by label values (in label-name order).
template <class V>
class Instrument {
 public:
  Instrument(std::string name, std::string help, std::vector<std::string> label_names)
      : name_(std::move(name)), help_(std::move(help)), label_names_(std::move(label_names)) {}

  const std::string& name() const { return name_; }
  const std::string& help() const { return help_; }
  size_t size() const { return series_.size(); }
  // Drops every series whose label `label_name` has `value`.
  void EraseWhere(std::string_view label_name, std::string_view value);

 protected:
  using SeriesMap = std::map<LabelValues, V>;
  // The series whose first label value is `first`, in order.
  std::pair<typename SeriesMap::const_iterator, typename SeriesMap::const_iterator> RangeOf(
      std::string_view first) const;
  // The series for `values`, created with V{} when new. Values are padded or cut to the label
  // count, so a caller's mistake yields an odd series, never an invalid exposition.
  V& At(LabelValues values);
  Labels LabelsOf(const LabelValues& values) const;
  Family Start(MetricType type) const { return Family{name_, type, help_, {}}; }

  std::string name_;
  std::string help_;
  std::vector<std::string> label_names_;
  SeriesMap series_;
};

// A series per label set holding one number; Counter and Gauge differ only in how it changes.
template <MetricType Type>
class Scalar : public Instrument<double> {
 public:
  static constexpr MetricType kType = Type;
  using Instrument::Instrument;
  Family Collect(const SeriesFilter& keep = {}) const;
  // Only the series whose first label value is `first`.
  Family CollectWhereFirst(std::string_view first) const;
};

class Counter : public Scalar<MetricType::kCounter> {
 public:
  using Scalar::Scalar;
  // REQUIRES: by >= 0 (counters only go up; a negative `by` is ignored).
  void Inc(LabelValues values, double by = 1);
  double Get(const LabelValues& values) const;  // 0 when the series does not exist
};

class Gauge : public Scalar<MetricType::kGauge> {
 public:
  using Scalar::Scalar;
  void Set(LabelValues values, double v);
};

// A histogram series as an instrument keeps it: the bounds are the instrument's, so each series
// holds only its counts (a copy of the bounds per check cost 96 bytes at 100 000 checks).
struct HistogramCell {
  std::vector<uint64_t> counts;  // one per bound, cumulative
  double sum = 0;
  uint64_t count = 0;
};

class Histogram : public Instrument<HistogramCell> {
 public:
  static constexpr MetricType kType = MetricType::kHistogram;
  // `bounds`: ascending finite upper bounds; +Inf is implicit.
  Histogram(std::string name, std::string help, std::vector<std::string> label_names,
            std::vector<double> bounds)
      : Instrument(std::move(name), std::move(help), std::move(label_names)),
        bounds_(std::move(bounds)) {}
  void Observe(LabelValues values, double v);
  // Creates the series with zero counts, so it is exposed before the first observation.
  void Ensure(LabelValues values);
  const HistogramCell* Find(const LabelValues& values) const;  // null when never observed
  Family Collect(const SeriesFilter& keep = {}) const;
  Family CollectWhereFirst(std::string_view first) const;

 private:
  HistogramValue ValueOf(const HistogramCell& cell) const;
  std::vector<double> bounds_;
};

// How a run ended, as sonde_runs_finished_total{outcome} names it.
enum class RunOutcome {
  kOk,           // accepted report with OK=true
  kFailed,       // accepted report with OK=false
  kTimeout,      // deadline passed without a report
  kExit,         // checker exited without reporting
  kSuperseded,   // a newer run of the check replaced it
  kInterrupted,  // the daemon stopped while it ran
  kRemoved,      // its check was removed
};
const char* RunOutcomeName(RunOutcome outcome);

// The daemon's own metrics. See docs/metrics.md for every family and the call sites.
class SondeMetrics {
 public:
  // `version` becomes sonde_build_info{version}.
  explicit SondeMetrics(std::string version);

  // A report request was answered. `http_status` 200 counts as accepted, anything else as
  // rejected. `reason` is one of kReportReasons ("malformed", "unknown_run", ...); when empty it
  // is derived from the status; anything else is counted as "other".
  void ReportAnswered(int http_status, std::string_view reason = {});
  void RunStarted();
  // A run's result is final. `run_duration` is start to result (ignored for kRemoved and
  // kInterrupted, which are not checker behaviour).
  void RunFinished(const CheckKey& key, RunOutcome outcome, Duration run_duration);
  // From the decision to start a run to its checker process running.
  void SpawnLatency(Duration d);
  // How late a run started against its due time (negative values count as 0).
  void SchedulerLateness(Duration d);
  // One scheduling pass: how long it took and how many checks were due.
  void SchedulerLoop(Duration took, size_t due);
  // Any HTTP answer. `route` must be the matched endpoint ("/", "/json", "/metrics",
  // "/externalCheckStatus", ... or "other"), never the raw request path.
  void HttpAnswered(std::string_view route, int code);
  // What an in-process probe's TLS handshake showed: the leaf certificate's notAfter, or
  // nothing (no TLS, or the handshake failed), which drops the series.
  void CertificateExpiry(const CheckKey& key, std::optional<TimePoint> not_after);
  // A report to a heartbeat check's URL was answered. `result`: "stored" (a history row),
  // "coalesced" (counted, not stored: within the check's minRecordInterval), "rate_limited"
  // (429) or "rejected" (400, 413). Unknown tokens are not per check: see HttpAnswered.
  void HeartbeatReport(const CheckKey& key, std::string_view result);
  // Frees the per-check series of a removed check (rendering hides them anyway).
  void ForgetCheck(const CheckKey& key);

  // Sonde's families in their fixed order, leaving out per-check series whose check is not in
  // `live_checks` ("ns/name").
  std::vector<Family> Collect(const std::set<std::string>& live_checks) const;
  // The same families, with the per-check ones (SeriesOwner::kCheck) left without series.
  std::vector<Family> CollectShared() const;
  // The same families, with only the series of `check` ("ns/name"): the shared ones are empty.
  std::vector<Family> CollectCheck(std::string_view check) const;
  // Changes whenever a per-check series of `check` does (0: it has none); never reused.
  uint64_t CheckVersion(const std::string& check) const;
  // Every check's version that is not 0, by check ("ns/name"), for walking in name order.
  const std::map<std::string, uint64_t, std::less<>>& check_versions() const {
    return check_versions_;
  }

  Duration last_loop_duration() const { return last_loop_duration_; }
  size_t last_due_checks() const { return last_due_checks_; }

  // Read access for tests and the engine's own reporting.
  const Counter& reports() const { return reports_; }
  const Counter& runs_started() const { return runs_started_; }
  const Counter& runs_finished() const { return runs_finished_; }
  const Histogram& run_duration() const { return run_duration_; }
  const Gauge& certificate_expiry() const { return certificate_expiry_; }
  const Histogram& spawn_latency() const { return spawn_latency_; }
  const Histogram& scheduler_lateness() const { return scheduler_lateness_; }
  const Counter& http_requests() const { return http_requests_; }
  const Counter& heartbeat_reports() const { return heartbeat_reports_; }

  // The reasons ReportAnswered knows besides "ok" and "other".
  static const std::vector<std::string>& ReportReasons();
  // Distinct (route, code) series kept before new ones are counted under route="other".
  static constexpr size_t kMaxHttpSeries = 128;

 private:
  std::string version_;
  Counter reports_;
  Counter runs_started_;
  Counter runs_finished_;
  Histogram run_duration_;
  Gauge certificate_expiry_;
  Histogram spawn_latency_;
  Histogram scheduler_lateness_;
  Counter http_requests_;
  Counter heartbeat_reports_;
  Duration last_loop_duration_{};
  size_t last_due_checks_ = 0;
  // For CheckVersion: what MetricsCache compares instead of every per-check series.
  std::map<std::string, uint64_t, std::less<>> check_versions_;
  uint64_t last_version_ = 0;
  void Touch(const std::string& check) { check_versions_[check] = ++last_version_; }
  enum class Which { kAll, kShared, kOneCheck };
  std::vector<Family> CollectImpl(Which which, const std::set<std::string>* live,
                                  std::string_view check) const;
};

}  // namespace sonde
