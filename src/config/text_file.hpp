// Internal to the config module: reads a whole file for the YAML parsers.
// Thread safety: safe to call concurrently. Never throws for I/O problems.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "config/config_error.hpp"

namespace sonde::config_internal {

// The contents of `path`, or nullopt after appending one error naming the path and the
// system's reason ("cannot read: No such file or directory", "... Is a directory").
std::optional<std::string> ReadTextFile(const std::string& path, std::vector<ConfigError>& errors);

}  // namespace sonde::config_internal
