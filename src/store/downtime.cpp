#include "store/downtime.hpp"

#include <algorithm>

namespace sonde {

TimePoint TimelinePoint(std::optional<TimePoint> previous, TimePoint finished) {
  return previous ? std::max(*previous, finished) : finished;
}

std::string EventMessage(const RunRecord& run) {
  return run.errors.empty() ? std::string() : run.errors.front();
}

EventChange ApplyRunToEvent(const std::optional<DowntimeEvent>& open, const RunRecord& run,
                            TimePoint at) {
  if (run.ok) {
    if (!open) return {};
    EventChange change{EventChangeKind::kClose, *open};
    change.event.end = at;
    return change;
  }
  if (open) {
    EventChange change{EventChangeKind::kExtend, *open};
    change.event.last_error = EventMessage(run);
    ++change.event.failed_runs;
    return change;
  }
  DowntimeEvent event;
  event.key = run.key;
  event.start = at;
  event.first_error = EventMessage(run);
  event.last_error = event.first_error;
  event.failed_runs = 1;
  return {EventChangeKind::kOpen, std::move(event)};
}

}  // namespace sonde
