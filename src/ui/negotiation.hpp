// Content negotiation for "/": browsers get the dashboard, every other client the Kuberhealthy
// v2 JSON it has always had. Pure; thread-safe.
#pragma once

#include <string_view>

namespace sonde::ui {

// True when an Accept header asks for HTML more than for JSON: text/html (or
// application/xhtml+xml) is named explicitly with q > 0 and a q above that of application/json.
// A wildcard alone (curl's "*/*"), no header, or a tie keeps the JSON: existing Kuberhealthy
// clients must see no change.
bool PrefersHtml(std::string_view accept);

}  // namespace sonde::ui
