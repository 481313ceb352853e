#include "cli/operator_metrics.hpp"

#include <chrono>

namespace sonde {

namespace {

Family Counter(std::string name, std::string help) {
  return Family{std::move(name), MetricType::kCounter, std::move(help), {}};
}

void Add(Family& f, Labels labels, uint64_t value) {
  f.series.push_back({std::move(labels), static_cast<double>(value), {}, {}});
}

}  // namespace

std::vector<Family> OperatorFamilies(const OperatorCounters& c) {
  std::vector<Family> out;
  Family requests =
      Counter("sonde_kube_api_requests_total", "Requests the operator sent to the API server");
  Add(requests, {}, c.api_requests);
  out.push_back(std::move(requests));

  Family lists = Counter("sonde_kube_informer_lists_total",
                         "Complete lists of a watched resource (the first, and each relist)");
  Family gone = Counter("sonde_kube_informer_expired_total",
                        "410 Gone answers to a watch resume, each forcing a relist");
  Family errors = Counter("sonde_kube_informer_errors_total",
                          "Failed list or watch requests, each followed by a back-off");
  for (const auto& [resource, i] : c.informers) {
    Add(lists, {{"resource", resource}}, i.lists);
    Add(gone, {{"resource", resource}}, i.gone);
    Add(errors, {{"resource", resource}}, i.errors);
  }
  for (Family* f : {&lists, &gone, &errors}) out.push_back(std::move(*f));

  if (c.reaper_last_sweep) {
    out.push_back(
        Family{"kuberhealthy_reaper_last_sweep_duration_seconds",
               MetricType::kGauge,
               "Shows the duration of the last reaper sweep",
               {Series{{}, std::chrono::duration<double>(*c.reaper_last_sweep).count(), {}, {}}}});
    Family deleted = Counter("kuberhealthy_reaper_deleted_pods_total",
                             "Shows the total pods deleted by the reaper");
    // Every reason from the start, so rate() sees the first deletion.
    std::map<std::string, uint64_t> by_reason = {
        {"completed", 0}, {"expired", 0}, {"failed", 0}, {"timeout", 0}};
    for (const auto& [reason, n] : c.reaper_deleted_pods) by_reason[reason] = n;
    for (const auto& [reason, n] : by_reason) Add(deleted, {{"reason", reason}}, n);
    out.push_back(std::move(deleted));
  }

  Family events = Counter("sonde_kube_events_total",
                          "Kubernetes Events about check runs, by whether the server took them");
  Add(events, {{"result", "dropped"}}, c.events_dropped);
  Add(events, {{"result", "recorded"}}, c.events_recorded);
  out.push_back(std::move(events));
  return out;
}

}  // namespace sonde
