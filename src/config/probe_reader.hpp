// Internal to the config module: reads spec.probe, a Sonde extension of the check spec that
// replaces the checker pod with an in-process probe. The probe kinds, their options and the
// placeholders their conditions may use come from the ProbeRegistry, not from a list here.
// Thread safety: none (shares the caller's ErrorSink). Never throws.
#pragma once

#include "config/check_loader.hpp"
#include "config/yaml_reader.hpp"
#include "core/check.hpp"

namespace sonde::config_internal {

// Reads spec.probe (REQUIRES: present) into out.probe; problems go to spec.sink().
void ReadProbe(const MapView& spec, const LoadOptions& opts, CheckSpec& out);

}  // namespace sonde::config_internal
