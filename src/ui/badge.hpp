// Gatus/shields-style SVG badges for READMEs and wikis: a grey label on the left, a coloured
// message on the right. Text widths are estimated from a per-character table (Verdana 11px),
// so output is deterministic and needs no font. Pure; thread-safe.
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace sonde::ui {

struct Badge {
  std::string label;    // left, e.g. "status"
  std::string message;  // right, e.g. "ok"
  std::string color;    // right background, "#rrggbb"
};

// The SVG document (escaped text, role="img" with the text as its accessible name).
std::string RenderBadge(const Badge& badge);

// Width in pixels of `text` in 11px Verdana, as the badge lays it out.
int TextWidth(std::string_view text);

// The badge of a check's state ("ok", "failing", "running", "pending", ...).
Badge StatusBadge(std::string_view state);
// The badge of an uptime ratio over `window` ("7d"); none observed reads "no data".
Badge UptimeBadge(std::string_view window, std::optional<double> uptime);

}  // namespace sonde::ui
