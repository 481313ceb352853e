// Daemon logging to stderr, as text (default) or one JSON object per line.
#pragma once

#include <string>

#include "core/result.hpp"

namespace sonde {

// Configures spdlog's default logger. Errors name the bad value: "unknown log level \"x\"".
Status SetUpLogging(const std::string& format, const std::string& level);

}  // namespace sonde
