// Internal to the config module: turns one parsed YAML document into a CheckSpec, applying
// the per-kind rules (accepted apiVersion/kind pairs, allowed spec keys, pod layout, defaults).
// Thread safety: none (writes to the caller's ErrorSink). Never throws.
#pragma once

#include <optional>

#include "config/check_loader.hpp"
#include "config/yaml_reader.hpp"
#include "core/check.hpp"

namespace sonde::config_internal {

struct DocumentCheck {
  CheckSpec spec;        // source_file/source_line/base_dir are left for the caller
  YAML::Mark name_mark;  // where metadata.name is, for duplicate errors
};

// Reads `doc` (a non-null document). Reports every problem to `sink`; returns the check only
// when the document had none.
std::optional<DocumentCheck> ReadCheckDocument(const YAML::Node& doc, const LoadOptions& opts,
                                               ErrorSink& sink);

}  // namespace sonde::config_internal
