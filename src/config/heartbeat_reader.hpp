// Internal to the config module: reads `spec.heartbeat`, Sonde's extension that turns any check
// kind into a heartbeat check (nothing is started; the job reports to the check's own URL).
// Thread safety: none (shares the caller's ErrorSink). Never throws for bad input.
#pragma once

#include "config/yaml_reader.hpp"
#include "core/check.hpp"

namespace sonde::config_internal {

// Fills out.heartbeat from the mapping `node` (spec.heartbeat of `spec`), and checks how it goes
// with the rest of the spec: no podSpec, not a job, runInterval or schedule but not both.
// `out.kind`, `out.single_run` and `out.run_interval` must already be read.
void ReadHeartbeat(const MapView& spec, const YAML::Node& node, CheckSpec& out);

}  // namespace sonde::config_internal
