#include "ui/dashboard_json.hpp"

#include <algorithm>
#include <cmath>
#include <set>

#include "contract/json_writer.hpp"
#include "probe/probe.hpp"
#include "store/uptime.hpp"

namespace sonde::ui {
namespace {

// What runs the check, for the check page: a process, an in-process probe or nothing.
std::string RunnerOf(const CheckSpec& spec) {
  if (spec.heartbeat) return "heartbeat: nothing is started; the job reports to the check's URL";
  if (!spec.probe) return "local process";
  const ProbeDefinition& p = *spec.probe.definition;
  std::string out = "in-process " + p.kind + " probe: " + p.probe->Target();
  for (size_t i = 0; i < p.conditions.size(); ++i) {
    out += (i == 0 ? "; conditions: " : ", ") + p.conditions[i].text();
  }
  return out;
}

double Seconds(Duration d) { return std::chrono::duration<double>(d).count(); }

// Four significant decimals are all a bar or a sparkline can show; shorter JSON for 2,000 rows.
double Round4(double v) { return std::round(v * 1e4) / 1e4; }

void WriteTime(JsonWriter& w, const char* key, const std::optional<TimePoint>& t) {
  w.Key(key);
  t ? w.String(FormatRfc3339Nano(*t)) : w.Null();
}

// Fields both answers share.
void WriteStateFields(JsonWriter& w, const CheckView& c) {
  const CheckSpec& spec = *c.spec;
  w.Key("namespace");
  w.String(spec.key.ns);
  w.Key("name");
  w.String(spec.key.name);
  w.Key("kind");
  w.String(KindName(spec.kind));
  w.Key("job");
  w.Bool(spec.IsJob());
  w.Key("state");
  w.String(StateName(c));
  WriteTime(w, "lastRun", c.state.last_run);
  WriteTime(w, "nextRun", c.next_run);
  w.Key("durationSeconds");
  w.Double(Round4(Seconds(c.state.run_duration)));
  w.Key("intervalSeconds");
  w.Double(spec.IsJob() ? 0 : Seconds(spec.run_interval));
  w.Key("consecutiveFailures");
  w.Int(c.state.consecutive_failures);
}

std::string Quoted(const std::vector<std::string>& argv) {
  std::string out;
  for (const std::string& a : argv) {
    if (!out.empty()) out += ' ';
    const bool plain = !a.empty() && a.find_first_of(" \t\"'\\$") == std::string::npos;
    out += plain ? a : "'" + a + "'";
  }
  return out;
}

}  // namespace

const BarWindow* FindBarWindow(std::string_view name) {
  for (const BarWindow& w : kBarWindows) {
    if (name == w.name) return &w;
  }
  return nullptr;
}

TimePoint BarStart(const BarWindow& window, TimePoint now) {
  return BucketStart(now, window.segment) + window.segment - window.length;
}

Result<std::vector<UptimeSegment>> BarCache::Get(Store& store, const CheckView& check,
                                                 const BarWindow& window, TimePoint now) {
  const TimePoint start = BarStart(window, now);
  Entry& e = entries_[{check.spec->key, window.name}];
  if (!e.segments.empty() && e.start == start && e.last_run == check.state.last_run &&
      now - e.computed < kBarRefresh) {
    return e.segments;
  }
  const auto count = static_cast<size_t>(window.length / window.segment);
  auto segments = store.UptimeSegments(check.spec->key, start, window.segment, count, now);
  if (!segments.ok()) return segments;
  e = Entry{start, check.state.last_run, now, segments.value()};
  return segments;
}

void BarCache::Retain(const StatusSnapshot& snap) {
  std::set<CheckKey> live;
  for (const CheckView& c : snap.checks) live.insert(c.spec->key);
  std::erase_if(entries_, [&](const auto& kv) { return !live.contains(kv.first.first); });
}

std::string RenderDashboard(const StatusSnapshot& snap, Store& store, BarCache& bars,
                            const BarWindow& window, TimePoint now) {
  std::vector<const CheckView*> checks;
  for (const CheckView& c : snap.checks) checks.push_back(&c);
  std::sort(checks.begin(), checks.end(),
            [](const CheckView* a, const CheckView* b) { return a->spec->key < b->spec->key; });
  bars.Retain(snap);
  JsonWriter w(false);
  w.BeginObject();
  w.Key("instance");
  w.String(snap.instance);
  w.Key("loadErrors");
  w.StringArray(snap.load_errors);
  w.Key("window");
  w.String(window.name);
  w.Key("barStart");
  w.String(FormatRfc3339Nano(BarStart(window, now)));
  w.Key("segmentSeconds");
  w.Double(Seconds(window.segment));
  w.Key("checks");
  w.BeginArray();
  for (const CheckView* c : checks) {
    w.BeginObject();
    WriteStateFields(w, *c);
    w.Key("error");
    c->state.errors.empty() ? w.Null() : w.String(c->state.errors.front().substr(0, 500));
    w.Key("errorCount");
    w.Int(static_cast<int64_t>(c->state.errors.size()));
    auto segments = bars.Get(store, *c, window, now);
    Duration ok{};
    Duration observed{};
    // Per segment: uptime (null: nothing observed), runs, and mean duration (null: no run).
    w.Key("bar");
    w.BeginArray();
    if (segments.ok()) {
      for (const UptimeSegment& s : segments.value()) {
        ok += s.ok;
        observed += s.observed;
        s.observed > Duration::zero() ? w.Double(Round4(Seconds(s.ok) / Seconds(s.observed)))
                                      : w.Null();
      }
    }
    w.EndArray();
    w.Key("runs");
    w.BeginArray();
    if (segments.ok()) {
      for (const UptimeSegment& s : segments.value()) w.Int(s.runs);
    }
    w.EndArray();
    w.Key("durations");
    w.BeginArray();
    if (segments.ok()) {
      for (const UptimeSegment& s : segments.value()) {
        s.runs > 0 ? w.Double(Round4(Seconds(s.duration_sum) / static_cast<double>(s.runs)))
                   : w.Null();
      }
    }
    w.EndArray();
    // Uptime over the bar's segments (the window, rounded out to whole segments).
    w.Key("uptime");
    observed > Duration::zero() ? w.Double(Round4(Seconds(ok) / Seconds(observed))) : w.Null();
    w.EndObject();
  }
  w.EndArray();
  w.EndObject();
  return w.str();
}

std::string RenderCheckDetail(const CheckView& c, Store& store, TimePoint now) {
  const CheckSpec& spec = *c.spec;
  JsonWriter w(false);
  w.BeginObject();
  WriteStateFields(w, c);
  w.Key("errors");
  w.StringArray(c.state.errors);
  w.Key("timeoutSeconds");
  w.Double(Seconds(spec.timeout));
  w.Key("successCount");
  w.Int(c.state.success_count);
  w.Key("failureCount");
  w.Int(c.state.failure_count);
  WriteTime(w, "lastOk", c.state.last_ok);
  WriteTime(w, "lastFailure", c.state.last_failure);
  w.Key("runner");
  w.String(RunnerOf(spec));
  w.Key("heartbeatUrl");
  c.heartbeat_url.empty() ? w.Null() : w.String(c.heartbeat_url);
  w.Key("source");
  w.String(spec.source_file.empty() ? ""
                                    : spec.source_file.str() + ":" + std::to_string(spec.source_line));
  w.Key("containers");
  w.BeginArray();
  for (const bool init : {true, false}) {
    for (const Container& k : init ? spec.pod->init_containers : spec.pod->containers) {
      std::vector<std::string> argv = k.command;
      argv.insert(argv.end(), k.args.begin(), k.args.end());
      w.BeginObject();
      w.Key("name");
      w.String(k.name);
      w.Key("init");
      w.Bool(init);
      w.Key("image");
      w.String(k.image);
      w.Key("command");
      w.String(Quoted(argv));
      w.EndObject();
    }
  }
  w.EndArray();
  w.Key("uptime");
  w.BeginArray();
  for (const UptimeWindow& win : kUptimeWindows) {
    auto u = store.Uptime(spec.key, win.length, now);
    w.BeginObject();
    w.Key("window");
    w.String(win.name);
    w.Key("uptime");
    (u.ok() && u.value().uptime) ? w.Double(*u.value().uptime) : w.Null();
    w.Key("runs");
    w.Int(u.ok() ? u.value().runs : 0);
    w.Key("p95DurationSeconds");
    (u.ok() && u.value().p95_duration) ? w.Double(Round4(Seconds(*u.value().p95_duration)))
                                       : w.Null();
    w.EndObject();
  }
  w.EndArray();
  w.EndObject();
  return w.str();
}

}  // namespace sonde::ui
