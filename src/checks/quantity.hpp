// Internal to the checks module: Kubernetes resource quantities ("500m", "1.5Gi", "2e3") as
// numbers, for ratios such as a quota's used / hard.
// Thread safety: pure function. Failure: nullopt for text that is not a quantity.
#pragma once

#include <optional>
#include <string_view>

namespace sonde::checks_internal {

// The quantity's value in base units (cores, bytes): "500m" -> 0.5, "1Ki" -> 1024.
std::optional<double> ParseQuantity(std::string_view text);

}  // namespace sonde::checks_internal
