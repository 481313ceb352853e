// Which container images stand for a bundled check, so that Kuberhealthy YAML using its
// published check images runs unchanged in local mode.
#include <array>
#include <utility>

#include "config/check_loader.hpp"

namespace sonde {

std::optional<std::string> BundledCheckForImage(std::string_view image) {
  // Repository name (the last path segment, without tag or digest) -> `sonde check` kind.
  static constexpr std::array<std::pair<std::string_view, std::string_view>, 6> kImages{{
      {"http-check", "http"},
      {"http-content-check", "http-content"},
      {"network-connection-check", "network-connection"},
      {"ssl-expiry-check", "ssl-expiry"},
      {"ssl-handshake-check", "ssl-handshake"},
      {"dns-resolution-check", "dns"},
  }};
  if (const size_t at = image.find('@'); at != std::string_view::npos) image = image.substr(0, at);
  const size_t slash = image.rfind('/');
  if (slash == std::string_view::npos) return std::nullopt;
  if (const size_t colon = image.find(':', slash); colon != std::string_view::npos) {
    image = image.substr(0, colon);
  }
  const std::string_view repo = image.substr(slash + 1);
  std::string_view owner = image.substr(0, slash);
  if (const size_t s = owner.rfind('/'); s != std::string_view::npos) owner = owner.substr(s + 1);
  if (owner != "kuberhealthy" && owner != "sonde") return std::nullopt;
  for (auto [name, kind] : kImages) {
    if (repo == name) return std::string(kind);
  }
  return std::nullopt;
}

}  // namespace sonde
