#include "config/heartbeat_reader.hpp"

#include "scheduler/cron.hpp"

namespace sonde::config_internal {
namespace {

constexpr std::string_view kHeartbeatKeys[] = {"grace", "schedule", "timezone", "reportsPerMinute",
                                               "minRecordInterval"};

}  // namespace

void ReadHeartbeat(const MapView& spec, const YAML::Node& node, CheckSpec& out) {
  ErrorSink& sink = spec.sink();
  if (!node.IsMap()) {
    sink.Add(node, "spec.heartbeat",
             "must be a mapping such as {grace: 5m}, found " + Describe(node));
    return;
  }
  HeartbeatSpec hb;
  hb.grace = std::chrono::minutes(5);
  hb.min_record_interval = std::chrono::seconds(1);
  MapView m(node, "spec.heartbeat", sink);
  m.RejectUnknown(kHeartbeatKeys);
  if (out.IsJob()) {
    sink.Add(node, "spec.heartbeat",
             std::string("is not allowed in a ") +
                 (out.kind == CheckKind::kKhJob ? "KuberhealthyJob" : "check with singleRunOnly") +
                 ": a heartbeat is expected again and again (use a KuberhealthyCheck or a "
                 "HealthCheck)");
  }
  if (const YAML::Node* pod = spec.Get("podSpec")) {
    sink.Add(*pod, "spec.podSpec",
             "is not allowed in a heartbeat check: Sonde starts nothing, the job reports to the "
             "check's heartbeat URL");
  }
  if (const YAML::Node* v = m.Get("grace")) {
    hb.grace = ReadPositiveDuration(*v, m.Path("grace"), sink).value_or(hb.grace);
  }
  if (const YAML::Node* v = m.Get("reportsPerMinute")) {
    hb.reports_per_minute = ReadInt(*v, m.Path("reportsPerMinute"), 1, sink).value_or(1);
  }
  if (const YAML::Node* v = m.Get("minRecordInterval")) {
    // 0s stores every report (benchmarks measure the full path with it); else positive.
    const bool zero = v->IsScalar() && ParseGoDuration(v->Scalar()).ok() &&
                      ParseGoDuration(v->Scalar()).value() == Duration{0};
    hb.min_record_interval = zero ? Duration{0}
                                  : ReadPositiveDuration(*v, m.Path("minRecordInterval"), sink)
                                        .value_or(hb.min_record_interval);
  }
  const YAML::Node* schedule = m.Get("schedule");
  if (schedule != nullptr) {
    hb.schedule = ReadString(*schedule, m.Path("schedule"), sink).value_or("");
    if (auto cron = CronSchedule::Parse(hb.schedule); !cron.ok()) {
      sink.Add(*schedule, m.Path("schedule"),
               "invalid cron expression " + Quote(hb.schedule) + ": " + cron.error());
    }
    out.run_interval = Duration{0};  // the schedule decides; no interval to show
    if (const YAML::Node* interval = spec.Get("runInterval")) {
      sink.Add(*interval, "spec.runInterval",
               "cannot be combined with spec.heartbeat.schedule: a scheduled heartbeat is due "
               "at the schedule's instants; remove one of them");
    }
  }
  if (const YAML::Node* v = m.Get("timezone")) {
    hb.timezone = ReadString(*v, m.Path("timezone"), sink).value_or("");
    if (schedule == nullptr) {
      sink.Add(*v, m.Path("timezone"), "needs spec.heartbeat.schedule (it is the schedule's zone)");
    } else if (auto zone = TimeZone::Load(hb.timezone); !zone.ok()) {
      sink.Add(*v, m.Path("timezone"), zone.error());
    }
  }
  out.heartbeat = hb;
}

}  // namespace sonde::config_internal
