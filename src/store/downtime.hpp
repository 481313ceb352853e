// Downtime events from runs: the one rule every store applies, so backends cannot drift.
// Pure functions; thread-safe.
#pragma once

#include <optional>

#include "store/store.hpp"

namespace sonde {

enum class EventChangeKind {
  kNone,    // an OK run with no open event: nothing changes
  kOpen,    // a failed run with no open event: `event` is new (its id is still 0)
  kExtend,  // a failed run while an event is open: `event` is the open one, updated
  kClose,   // an OK run while an event is open: `event` is the open one, now ended
};

struct EventChange {
  EventChangeKind kind = EventChangeKind::kNone;
  DowntimeEvent event;  // the event after the change; unset for kNone
};

// The point on a check's timeline at which a run takes effect: its `finished`, or the check's
// previous point if that is later (a wall clock stepped back must not rewrite the past).
TimePoint TimelinePoint(std::optional<TimePoint> previous, TimePoint finished);

// The run's error message for an event: its first error, or "" when it gave none.
std::string EventMessage(const RunRecord& run);

// What `run`, taking effect at `at` (see TimelinePoint), does to the check's open event.
// REQUIRES: `open`, if set, belongs to run.key and has no end.
EventChange ApplyRunToEvent(const std::optional<DowntimeEvent>& open, const RunRecord& run,
                            TimePoint at);

}  // namespace sonde
