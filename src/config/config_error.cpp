#include "config/config_error.hpp"

namespace sonde {
namespace {

void AppendPart(std::string& out, const std::string& part) {
  if (part.empty()) return;
  if (!out.empty()) out += ": ";
  out += part;
}

}  // namespace

std::string ConfigError::ToString() const {
  std::string location = file;
  if (line > 0) {
    if (!location.empty()) location += ':';
    location += std::to_string(line);
    if (column > 0) location += ':' + std::to_string(column);
  }
  std::string out;
  AppendPart(out, location);
  AppendPart(out, field);
  AppendPart(out, message);
  return out;
}

}  // namespace sonde
