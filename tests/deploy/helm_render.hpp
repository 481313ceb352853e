// A renderer for the small subset of Helm's Go templates the chart (deploy/helm/sonde) may use,
// so that the tests can render it without helm, which Debian 12 does not package:
//   {{ .Values.a.b }}   a scalar of values.yaml (strings as written, booleans as true/false)
//   {{ .Release.Namespace }}, {{ .Release.Name }}
//   {{ if .Values.a }} ... {{ end }}   Go's truth: false, 0, "", null and empty are false
//   {{- and -}}         trim the whitespace (newlines included) before or after the action.
// Anything else (pipelines, functions, else, range, a value missing from values.yaml or one
// that is not a scalar) is an error naming file:line, so the chart cannot outgrow this renderer
// unnoticed, and a typo cannot render as helm's silent "<no value>".
//
// Test support. Failure: errors as Result values, never throws. Thread safety: pure.
#pragma once

#include <yaml-cpp/yaml.h>

#include <set>
#include <string>
#include <string_view>

#include "core/result.hpp"

namespace sonde::deploy_test {

struct HelmRelease {
  std::string name = "sonde";
  std::string name_space = "kuberhealthy";
};

// `used`, when given, receives every .Values path the template reads ("image.tag").
Result<std::string> RenderTemplate(std::string_view text, const std::string& file,
                                   const YAML::Node& values, const HelmRelease& release,
                                   std::set<std::string>* used = nullptr);

// Overrides `dotted_path` (an existing scalar of `values`) with `value`, as `--set` would; a
// deep copy, so the caller's values stay as they were.
Result<YAML::Node> WithValue(const YAML::Node& values, const std::string& dotted_path,
                             const std::string& value);

}  // namespace sonde::deploy_test
