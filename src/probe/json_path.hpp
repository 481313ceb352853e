// The JSON paths of [BODY] conditions: ".a.b[0].c" (object keys after dots, array indexes in
// brackets), as Gatus writes them. Pure functions; thread-safe.
#pragma once

#include <boost/json/value.hpp>
#include <string_view>

#include "core/result.hpp"

namespace sonde {

// OK when `path` is well formed; otherwise what is wrong with it.
Status ValidateJsonPath(std::string_view path);

// The value at `path` in `doc`, or nullptr when some step is missing.
// REQUIRES: ValidateJsonPath(path).ok().
const boost::json::value* FindJsonPath(const boost::json::value& doc, std::string_view path);

}  // namespace sonde
