#include "checks/quantity.hpp"

#include <cctype>
#include <charconv>
#include <cmath>
#include <utility>

namespace sonde::checks_internal {

std::optional<double> ParseQuantity(std::string_view text) {
  // The number: an optional sign, digits with at most one point (resource.Quantity's grammar).
  size_t i = 0;
  if (i < text.size() && (text[i] == '+' || text[i] == '-')) ++i;
  size_t digits = 0;
  bool point = false;
  for (; i < text.size(); ++i) {
    if (std::isdigit(static_cast<unsigned char>(text[i]))) {
      ++digits;
    } else if (text[i] == '.' && !point) {
      point = true;
    } else {
      break;
    }
  }
  if (digits == 0) return std::nullopt;
  double number = 0;
  const std::string_view num = text.substr(0, i);
  // from_chars rejects a leading '+'.
  const std::string_view parse = num.front() == '+' ? num.substr(1) : num;
  if (std::from_chars(parse.data(), parse.data() + parse.size(), number).ec != std::errc()) {
    return std::nullopt;
  }
  const std::string_view suffix = text.substr(i);
  static constexpr std::pair<std::string_view, double> kSuffixes[] = {
      {"", 1},        {"n", 1e-9},    {"u", 1e-6},    {"m", 1e-3},   {"k", 1e3},     {"M", 1e6},
      {"G", 1e9},     {"T", 1e12},    {"P", 1e15},    {"E", 1e18},   {"Ki", 0x1p10}, {"Mi", 0x1p20},
      {"Gi", 0x1p30}, {"Ti", 0x1p40}, {"Pi", 0x1p50}, {"Ei", 0x1p60}};
  for (const auto& [s, factor] : kSuffixes) {
    if (suffix == s) return number * factor;
  }
  if (suffix.size() >= 2 && (suffix[0] == 'e' || suffix[0] == 'E')) {
    int exponent = 0;
    std::string_view e = suffix.substr(1);
    if (e.front() == '+') e.remove_prefix(1);
    auto [end, ec] = std::from_chars(e.data(), e.data() + e.size(), exponent);
    if (ec == std::errc() && end == e.data() + e.size()) return number * std::pow(10.0, exponent);
  }
  return std::nullopt;
}

}  // namespace sonde::checks_internal
