// The dashboard's built files (web/, bundled by esbuild), compiled into the binary by
// cmake/embed_assets.cmake so the daemon serves its UI with no file or network access.
// Immutable data; thread-safe.
#pragma once

#include <span>
#include <string_view>

namespace sonde::ui {

struct EmbeddedAsset {
  std::string_view path;          // "/index.html", "/app.js", ...
  std::string_view content_type;  // with charset for text
  std::string_view etag;          // strong ETag, quoted: a hash of the bytes
  std::string_view body;
};

// Every embedded file, sorted by path. Defined in the generated ui_assets.cpp.
std::span<const EmbeddedAsset> EmbeddedAssets();

}  // namespace sonde::ui
