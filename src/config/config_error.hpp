// ConfigError: one problem found in a configuration file, located precisely enough that a user
// can jump to it. Shared by the check loader and the daemon config parser.
// Thread safety: a plain value; safe to copy between threads.
#pragma once

#include <string>

namespace sonde {

struct ConfigError {
  std::string file;     // as the caller named it; empty when the text came from elsewhere
  int line = 0;         // 1-based; 0 = unknown (the whole file)
  int column = 0;       // 1-based; 0 = unknown
  std::string field;    // path like "spec.podSpec.containers[0].command"; empty = file-level
  std::string message;  // words a user can act on

  // "file:line:column: field: message", leaving out empty or zero parts (no stray colons).
  std::string ToString() const;
  bool operator==(const ConfigError&) const = default;
};

}  // namespace sonde
