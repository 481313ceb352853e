// Change detection for check files, by polling: cheap (stat only) and it works on every
// filesystem, including bind mounts and network filesystems where inotify is silent.
#pragma once

#include <string>
#include <vector>

#include "config/check_loader.hpp"
#include "probe/registry.hpp"

namespace sonde {

// A string that changes whenever a YAML file under `paths` is added, removed or modified
// (path, size, mtime and inode of each). Unreadable paths contribute their error text.
std::string CheckFilesFingerprint(const std::vector<std::string>& paths);

// How this machine loads check files: local mode, the probe kinds of `probes` (borrowed; it
// must outlive the options), and bundled checks run by this very binary (`sonde check KIND`).
LoadOptions LocalLoadOptions(const ProbeRegistry& probes);

}  // namespace sonde
