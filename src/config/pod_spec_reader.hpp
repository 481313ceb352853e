// Internal to the config module: reads the part of a Kubernetes core/v1 PodSpec that Sonde
// uses (containers, initContainers, command, args, env, workingDir, runAsUser/Group).
// Other PodSpec and container fields (resources, volumes, ports, nodeSelector, ...) are
// ignored on purpose: they only matter when a pod runs in Kubernetes.
// Thread safety: none (shares the caller's ErrorSink). Never throws for bad input.
#pragma once

#include "config/check_loader.hpp"
#include "config/yaml_reader.hpp"
#include "core/check.hpp"

namespace sonde::config_internal {

// Fills `pod` from the PodSpec mapping `pod_spec`; every problem goes to pod_spec.sink().
// opts.local_mode adds the rules for running containers as local processes: `command` is
// required (unless the image is a bundled check's and opts.bundled_check_command is set) and
// env `valueFrom` is rejected.
void ReadPodSpec(const MapView& pod_spec, const LoadOptions& opts, PodSpec& pod);

}  // namespace sonde::config_internal
