#include "core/check.hpp"

namespace sonde {

const char* KindName(CheckKind kind) {
  switch (kind) {
    case CheckKind::kKhCheck:
      return "KuberhealthyCheck";
    case CheckKind::kKhJob:
      return "KuberhealthyJob";
    case CheckKind::kHealthCheck:
      return "HealthCheck";
  }
  return "unknown";
}

}  // namespace sonde
