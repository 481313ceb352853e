#include "metrics/exposition.hpp"

#include <algorithm>
#include <cctype>
#include <chrono>
#include <cstdlib>

#include "metrics/body_families.hpp"

namespace sonde {
namespace {

std::string_view Trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

std::string Lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

// One media range of an Accept header: "type/subtype; q=0.5; version=1.0.0".
struct MediaRange {
  std::string type;
  std::string version;
  double q = 1;
};

MediaRange ParseMediaRange(std::string_view item) {
  MediaRange r;
  size_t semi = item.find(';');
  r.type = Lower(Trim(item.substr(0, semi)));
  while (semi != std::string_view::npos) {
    item.remove_prefix(semi + 1);
    semi = item.find(';');
    const std::string_view param = Trim(item.substr(0, semi));
    const size_t eq = param.find('=');
    if (eq == std::string_view::npos) continue;
    const std::string key = Lower(Trim(param.substr(0, eq)));
    std::string value(Trim(param.substr(eq + 1)));
    if (key == "q") {
      char* end = nullptr;
      const double q = std::strtod(value.c_str(), &end);
      r.q = (end != value.c_str() && q >= 0 && q <= 1) ? q : 0;
    } else if (key == "version") {
      r.version = std::move(value);
    }
  }
  return r;
}

// Sonde's per-check families fed by the store; only checks still in the snapshot. `checks`
// are in exposition order (see RenderMetrics).
void AddUptimeFamilies(std::vector<Family>& out, const std::vector<const CheckView*>& checks,
                       const UptimeByCheck& uptime) {
  Family ratio{"sonde_check_uptime_ratio",
               MetricType::kGauge,
               "Fraction of observed time the check was passing, per window",
               {}};
  Family open{"sonde_check_open_downtime_events",
              MetricType::kGauge,
              "Open downtime events of the check: 1 while it is failing, else 0",
              {}};
  ratio.owner = open.owner = SeriesOwner::kCheck;
  for (const CheckView* c : checks) {
    const CheckKey& key = c->spec->key;
    const auto found = uptime.find(key);
    if (found == uptime.end()) continue;
    const CheckUptime& u = found->second;
    const Labels base = {{"check", key.str()}, {"namespace", key.ns}};
    for (const auto& [window, value] : u.ratio_by_window) {
      Labels labels = base;
      labels.push_back({"window", window});
      ratio.series.push_back({std::move(labels), value, {}, {}});
    }
    open.series.push_back({base, u.open_downtime ? 1.0 : 0.0, {}, {}});
  }
  out.push_back(std::move(ratio));
  out.push_back(std::move(open));
}

double Seconds(Duration d) { return std::chrono::duration<double>(d).count(); }

// What a "stopped producing results" alert needs: when the last result came and how often one
// is expected. `checks` are sorted by key.
void AddScheduleFamilies(std::vector<Family>& out, const std::vector<const CheckView*>& checks) {
  Family last{"sonde_check_last_result_timestamp_seconds",
              MetricType::kGauge,
              "Unix time of the check's last result",
              {}};
  Family interval{"sonde_check_run_interval_seconds",
                  MetricType::kGauge,
                  "The check's run interval (jobs have none)",
                  {}};
  Family timeout{"sonde_check_timeout_seconds",
                 MetricType::kGauge,
                 "How long a run of the check may take before it times out",
                 {}};
  for (Family* f : {&last, &interval, &timeout}) {
    f->series.reserve(checks.size());
    f->owner = SeriesOwner::kCheck;
  }
  for (const CheckView* c : checks) {
    const CheckKey& key = c->spec->key;
    const Labels labels = {{"check", key.str()}, {"namespace", key.ns}};
    if (c->state.last_run) {
      const double at = Seconds(c->state.last_run->time_since_epoch());
      last.series.push_back({labels, at, {}, {}});
    }
    // Heartbeat checks run when their job does: SondeCheckStale (interval-based) is not for them.
    if (!c->spec->IsJob() && !c->spec->IsHeartbeat()) {
      interval.series.push_back({labels, Seconds(c->spec->run_interval), {}, {}});
    }
    timeout.series.push_back({labels, Seconds(c->spec->timeout), {}, {}});
  }
  out.push_back(std::move(last));
  out.push_back(std::move(interval));
  out.push_back(std::move(timeout));
}

}  // namespace

ExpositionFormat ChooseFormat(std::string_view accept_header) {
  double openmetrics_q = 0;
  double text_q = 0;
  while (!accept_header.empty()) {
    const size_t comma = accept_header.find(',');
    const MediaRange r = ParseMediaRange(accept_header.substr(0, comma));
    if (r.type == "application/openmetrics-text") {
      if (r.version.empty() || r.version == "1.0.0" || r.version == "0.0.1") {
        openmetrics_q = std::max(openmetrics_q, r.q);
      }
    } else if (r.type == "text/plain" || r.type == "text/*" || r.type == "*/*") {
      text_q = std::max(text_q, r.q);
    }
    if (comma == std::string_view::npos) break;
    accept_header.remove_prefix(comma + 1);
  }
  return openmetrics_q > 0 && openmetrics_q >= text_q ? ExpositionFormat::kOpenMetrics100
                                                      : ExpositionFormat::kText004;
}

std::vector<Family> BodyFamilies(const BodyInputs& in, FamilyParts parts,
                                 std::vector<Family> extra) {
  const std::vector<const CheckView*> none;
  const bool shared = parts == FamilyParts::kShared;
  const auto& checks = shared ? none : in.checks;
  std::vector<Family> families =
      KuberhealthyFamilies(in.snap, in.with_result, in.own, in.opts, in.now, parts);
  std::vector<Family> own = parts == FamilyParts::kAll ? in.own.Collect(in.live_names)
                            : shared                   ? in.own.CollectShared()
                                     : in.own.CollectCheck(in.checks.at(0)->spec->key.str());
  for (Family& f : own) families.push_back(std::move(f));
  AddScheduleFamilies(families, checks);
  AddUptimeFamilies(families, checks, in.uptime);
  if (parts != FamilyParts::kChecks) {
    for (Family& f : extra) families.push_back(std::move(f));
  }
  return families;
}

std::string RenderMetrics(const StatusSnapshot& snap, const SondeMetrics& own,
                          const MetricsOptions& opts, ExpositionFormat format, TimePoint now,
                          const UptimeByCheck& uptime, std::vector<Family> extra) {
  // In the order of their `check` label ("ns/name", which is not CheckKey's order): every
  // per-check family is then built sorted, and WriteFamily need not sort it.
  std::vector<std::pair<std::string, const CheckView*>> named;
  named.reserve(snap.checks.size());
  for (const CheckView& c : snap.checks) named.emplace_back(c.spec->key.str(), &c);
  std::sort(named.begin(), named.end());
  std::vector<const CheckView*> all;
  std::vector<const CheckView*> with_result;
  std::set<std::string> live_names;
  all.reserve(named.size());
  for (auto& [name, c] : named) {
    all.push_back(c);
    if (c->state.HasResult()) with_result.push_back(c);
    live_names.insert(live_names.end(), std::move(name));
  }

  const BodyInputs in{snap, all, with_result, own, opts, now, uptime, live_names};
  const std::vector<Family> families = BodyFamilies(in, FamilyParts::kAll, std::move(extra));

  // About 120 bytes a sample: growing the string by doubling would copy it several times.
  size_t samples = 0;
  for (const Family& f : families) {
    for (const Series& s : f.series) samples += 1 + s.histogram.bounds.size() + 2;
  }
  std::string out;
  out.reserve(samples * 128);
  for (const Family& f : families) WriteFamily(f, format, out);
  WriteEnd(format, out);
  return out;
}

}  // namespace sonde
