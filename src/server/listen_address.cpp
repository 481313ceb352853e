#include <charconv>
#include <string>

#include "server/http_server.hpp"

namespace sonde {
namespace {

using ListenAddress = std::pair<std::string, uint16_t>;

Result<ListenAddress> Fail(std::string_view text, const std::string& why) {
  return Result<ListenAddress>::Error("listen address \"" + std::string(text) + "\": " + why);
}

}  // namespace

Result<ListenAddress> ParseListenAddress(std::string_view text) {
  if (text.empty()) return Fail(text, "empty (want HOST:PORT, [IPv6]:PORT or :PORT)");
  std::string_view host;
  std::string_view rest;
  if (text.front() == '[') {
    size_t close = text.find(']');
    if (close == std::string_view::npos) return Fail(text, "missing ']' after the IPv6 address");
    host = text.substr(1, close - 1);
    if (host.empty()) return Fail(text, "empty IPv6 address in brackets");
    rest = text.substr(close + 1);
    if (rest.empty() || rest.front() != ':') return Fail(text, "missing port (want [IPv6]:PORT)");
  } else {
    size_t colon = text.rfind(':');
    if (colon == std::string_view::npos)
      return Fail(text, "missing port (want HOST:PORT or :PORT)");
    host = text.substr(0, colon);
    if (host.find(':') != std::string_view::npos) {
      return Fail(text, "too many colons; write IPv6 addresses in brackets, like [::1]:8080");
    }
    rest = text.substr(colon);
  }
  std::string_view port_text = rest.substr(1);
  unsigned port = 0;
  auto [end, ec] = std::from_chars(port_text.data(), port_text.data() + port_text.size(), port);
  if (port_text.empty() || ec != std::errc() || end != port_text.data() + port_text.size() ||
      port > 65535) {
    return Fail(text, "invalid port \"" + std::string(port_text) + "\" (want 0-65535)");
  }
  return ListenAddress(host.empty() ? "0.0.0.0" : std::string(host), static_cast<uint16_t>(port));
}

}  // namespace sonde
