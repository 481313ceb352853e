#include "ui/badge.hpp"

#include <cmath>
#include <cstdio>

namespace sonde::ui {
namespace {

constexpr const char* kGreen = "#2e7d32";
constexpr const char* kRed = "#c62828";
constexpr const char* kBlue = "#1565c0";
constexpr const char* kGrey = "#616161";
constexpr const char* kOrange = "#b45309";
constexpr const char* kYellowGreen = "#5f7f0e";

// Tenths of a pixel per character of 11px Verdana (ASCII; others count as a wide glyph).
int CharWidthTenths(unsigned char c) {
  if (c >= 0x80) return 75;  // UTF-8 bytes: counted per byte, so multibyte text runs wide
  switch (c) {
    case 'i':
    case 'j':
    case 'l':
    case '.':
    case ',':
    case ':':
    case ';':
    case '\'':
    case '!':
    case '|':
      return 35;
    case 'f':
    case 'r':
    case 't':
    case ' ':
    case '(':
    case ')':
    case '[':
    case ']':
    case '/':
    case '-':
      return 47;
    case 'm':
    case 'w':
    case 'M':
    case 'W':
    case '%':
    case '@':
      return 105;
    default:
      break;
  }
  if (c >= 'A' && c <= 'Z') return 78;
  if (c >= '0' && c <= '9') return 70;
  return 65;
}

void AppendEscaped(std::string& out, std::string_view s) {
  for (char c : s) {
    switch (c) {
      case '&':
        out += "&amp;";
        break;
      case '<':
        out += "&lt;";
        break;
      case '>':
        out += "&gt;";
        break;
      case '"':
        out += "&quot;";
        break;
      case '\'':
        out += "&apos;";
        break;
      default:
        out += c;
    }
  }
}

}  // namespace

int TextWidth(std::string_view text) {
  int tenths = 0;
  for (unsigned char c : text) tenths += CharWidthTenths(c);
  return (tenths + 9) / 10;
}

std::string RenderBadge(const Badge& badge) {
  const int pad = 6;
  const int lw = TextWidth(badge.label) + 2 * pad;
  const int mw = TextWidth(badge.message) + 2 * pad;
  const int w = lw + mw;
  std::string label;
  std::string message;
  AppendEscaped(label, badge.label);
  AppendEscaped(message, badge.message);
  std::string color;
  AppendEscaped(color, badge.color);
  const std::string ws = std::to_string(w);
  const std::string lws = std::to_string(lw);
  const std::string mws = std::to_string(mw);
  // Text is drawn twice (a dark shadow 1px lower, then white) as shields.io does, for contrast.
  std::string s;
  s += "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"" + ws + "\" height=\"20\" role=\"img\"";
  s += " aria-label=\"" + label + ": " + message + "\">";
  s += "<title>" + label + ": " + message + "</title>";
  s += "<linearGradient id=\"s\" x2=\"0\" y2=\"100%\"><stop offset=\"0\" stop-color=\"#bbb\" "
       "stop-opacity=\".1\"/><stop offset=\"1\" stop-opacity=\".1\"/></linearGradient>";
  s += "<clipPath id=\"r\"><rect width=\"" + ws +
       "\" height=\"20\" rx=\"3\" fill=\"#fff\"/></clipPath>";
  s += "<g clip-path=\"url(#r)\"><rect width=\"" + lws + "\" height=\"20\" fill=\"#555\"/>";
  s += "<rect x=\"" + lws + "\" width=\"" + mws + "\" height=\"20\" fill=\"" + color + "\"/>";
  s += "<rect width=\"" + ws + "\" height=\"20\" fill=\"url(#s)\"/></g>";
  s += "<g fill=\"#fff\" text-anchor=\"middle\" font-family=\"Verdana,Geneva,DejaVu "
       "Sans,sans-serif\" "
       "font-size=\"11\">";
  const std::string lx = std::to_string(lw / 2);
  const std::string mx = std::to_string(lw + mw / 2);
  s += "<text x=\"" + lx +
       "\" y=\"15\" fill=\"#010101\" fill-opacity=\".3\" aria-hidden=\"true\">" + label + "</text>";
  s += "<text x=\"" + lx + "\" y=\"14\">" + label + "</text>";
  s += "<text x=\"" + mx +
       "\" y=\"15\" fill=\"#010101\" fill-opacity=\".3\" aria-hidden=\"true\">" + message +
       "</text>";
  s += "<text x=\"" + mx + "\" y=\"14\">" + message + "</text>";
  s += "</g></svg>\n";
  return s;
}

Badge StatusBadge(std::string_view state) {
  const char* color = kGrey;
  if (state == "ok") color = kGreen;
  if (state == "failing") color = kRed;
  if (state == "running") color = kBlue;
  return {"status", std::string(state), color};
}

Badge UptimeBadge(std::string_view window, std::optional<double> uptime) {
  Badge b{"uptime " + std::string(window), "no data", kGrey};
  if (!uptime) return b;
  // Two decimals, never rounded up to 100% unless it is: 99.996% reads 99.99%.
  const double pct = std::floor(*uptime * 10000.0 + 1e-6) / 100.0;
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.2f%%", pct);
  b.message = buf;
  b.color = pct >= 99.9 ? kGreen : pct >= 99 ? kYellowGreen : pct >= 95 ? kOrange : kRed;
  return b;
}

}  // namespace sonde::ui
