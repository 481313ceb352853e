// The probe seam: one kind of in-process check (HTTP, TCP, DNS, TLS) run against a target.
// The daemon runs probes on its event loop instead of starting a checker process; the bundled
// checker programs (`sonde check KIND`) run the very same Probe objects on their own loop.
//
// Thread safety: a Probe is immutable once built; Run() may be called concurrently from
// coroutines on one executor (and from several executors if the kind's docs allow).
// Failure: Run() never throws for network failures; they are values in Observation::error.
#pragma once

#include <boost/asio/awaitable.hpp>
#include <memory>
#include <string>
#include <vector>

#include "core/time.hpp"
#include "probe/condition.hpp"
#include "probe/observation.hpp"

namespace sonde {

class Probe {
 public:
  virtual ~Probe() = default;
  Probe() = default;
  Probe(const Probe&) = delete;
  Probe& operator=(const Probe&) = delete;

  // Probes the target once, on the calling coroutine's executor, and finishes within
  // `timeout` (a timeout is an Observation::error naming how long it waited).
  virtual boost::asio::awaitable<Observation> Run(Duration timeout) const = 0;

  // The target as messages name it, e.g. "GET http://127.0.0.1:8080/health".
  virtual std::string Target() const = 0;
};

// A check's probe: what to run and the conditions its observation must meet, parsed once.
// Immutable; shared between the check spec and its runs.
struct ProbeDefinition {
  std::string kind;  // the registry name, e.g. "http"
  std::shared_ptr<const Probe> probe;
  std::vector<Condition> conditions;
};

// The errors of one run of `definition` that observed `observation` at `now` (no errors: OK).
inline std::vector<std::string> Judge(const ProbeDefinition& definition,
                                      const Observation& observation, TimePoint now) {
  return EvaluateConditions(definition.conditions, observation, now);
}

}  // namespace sonde

namespace sonde {
// Runs `probe` once on a private io_context and waits for it: for the bundled checker
// programs and tests, which have no event loop of their own.
Observation RunProbeBlocking(const Probe& probe, Duration timeout);
}  // namespace sonde
