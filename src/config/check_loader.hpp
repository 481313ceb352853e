// Loads Kuberhealthy check resources (KuberhealthyCheck, KuberhealthyJob, HealthCheck) from
// YAML into CheckSpecs, validating them the way a user needs: every problem in a document is
// reported at once, each with file:line:column and a field path.
//
// Failure: never throws. Problems come back in LoadResult::errors; a document with any problem
// contributes no check, but never stops the other documents or files from loading.
// Thread safety: the functions are pure apart from reading files; safe to call concurrently.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "config/config_error.hpp"
#include "core/check.hpp"
#include "probe/registry.hpp"

namespace sonde {

struct LoadOptions {
  // Checkers run as local processes, so each container needs a `command` and env values must
  // be literal (no `valueFrom`). Default: true.
  bool local_mode = true;
  // The probe kinds spec.probe may use; null: a check with spec.probe is an error.
  const ProbeRegistry* probes = nullptr;
  // How to run a bundled check, e.g. {"/usr/bin/sonde", "check"}; the kind is appended. A
  // container with no command whose image is a Kuberhealthy bundled check's (see
  // FindBundledCheckForImage) runs it. Empty: such containers need a command, as any other.
  std::vector<std::string> bundled_check_command;
};

struct LoadResult {
  std::vector<CheckSpec> checks;    // only fully valid checks, in file order
  std::vector<ConfigError> errors;  // all problems found, in file order
};

// Parses every YAML document in `text` ("---" separated; empty documents are skipped).
// `file` names the source in errors and sets CheckSpec::source_file/source_line/base_dir
// (base_dir is the directory of `file`, "." when it has none; absolute iff `file` is).
// Duplicate namespace/name within `text` is an error at the second definition.
LoadResult ParseChecks(std::string_view text, const std::string& file,
                       const LoadOptions& opts = {});

// Loads files and directories; directories recursively (*.yaml and *.yml, sorted by path,
// hidden files and directories skipped). A file reached twice is loaded once. A missing or
// unreadable path is an error naming it. Duplicate namespace/name across or within files is
// an error at the second definition: `duplicate check default/foo: already defined at a.yaml:3`.
LoadResult LoadChecks(const std::vector<std::string>& paths, const LoadOptions& opts = {});

}  // namespace sonde
