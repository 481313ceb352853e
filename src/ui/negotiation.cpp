#include "ui/negotiation.hpp"

#include <algorithm>
#include <cctype>
#include <charconv>
#include <string>

namespace sonde::ui {
namespace {

std::string_view Trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

std::string Lower(std::string_view s) {
  std::string out(s);
  std::transform(out.begin(), out.end(), out.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return out;
}

// The q parameter of one media range's parameters ("level=1;q=0.5"); 1 when absent, 0 when
// malformed (a client that cannot write q gets no preference).
double QualityOf(std::string_view params) {
  while (!params.empty()) {
    const size_t semi = params.find(';');
    std::string_view p = Trim(params.substr(0, semi));
    params = semi == std::string_view::npos ? std::string_view() : params.substr(semi + 1);
    if (p.size() >= 2 && (p[0] == 'q' || p[0] == 'Q') && p[1] == '=') {
      // from_chars for double is in libstdc++ 11+; RFC 9110 allows at most 3 decimals.
      std::string_view v = Trim(p.substr(2));
      double q = 0;
      const auto [end, ec] = std::from_chars(v.data(), v.data() + v.size(), q);
      if (ec != std::errc() || end != v.data() + v.size() || q < 0 || q > 1) return 0;
      return q;
    }
  }
  return 1;
}

}  // namespace

bool PrefersHtml(std::string_view accept) {
  double html = -1;  // -1: not named
  double json = -1;
  while (!accept.empty()) {
    const size_t comma = accept.find(',');
    std::string_view range = accept.substr(0, comma);
    accept = comma == std::string_view::npos ? std::string_view() : accept.substr(comma + 1);
    const size_t semi = range.find(';');
    const std::string type = Lower(Trim(range.substr(0, semi)));
    const double q =
        QualityOf(semi == std::string_view::npos ? std::string_view() : range.substr(semi + 1));
    if (type == "text/html" || type == "application/xhtml+xml") {
      html = std::max(html, q);
    } else if (type == "application/json") {
      json = std::max(json, q);
    }
  }
  return html > 0 && html > json;
}

}  // namespace sonde::ui
