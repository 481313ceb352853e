// Kubernetes manifests as the deployment tests read them: every YAML document of a file with
// where it came from, and YAML values compared the way the API server reads them (typed
// scalars, so `replicas: 2` and `replicas: "2"` differ while `image: a` and `image: "a"` do not).
//
// Test support. Failure: never throws; unreadable or unparsable files come back as Result
// errors naming the file (and line). Thread safety: pure functions apart from file reads.
#pragma once

#include <yaml-cpp/yaml.h>

#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

#include "core/result.hpp"

namespace sonde::deploy_test {

struct ManifestObject {
  std::string file;  // as given to the loader, for messages
  int document = 0;  // 0-based index among the file's non-empty documents
  YAML::Node node;

  std::string Kind() const;
  std::string Name() const;
  std::string Namespace() const;  // "" when absent
  // "Kind/namespace/name": what identifies an object in a cluster.
  std::string Key() const;
  // "file#document (Kind name)", for failure messages.
  std::string Where() const;
};

// The repository's root (SONDE_SOURCE_DIR) joined with `relative`.
std::filesystem::path SourcePath(std::string_view relative);
Result<std::string> ReadText(const std::filesystem::path& path);

// Every non-empty document of `text`; `file` names it in errors.
Result<std::vector<ManifestObject>> ParseManifests(const std::string& text,
                                                   const std::string& file);
// Every *.yaml file of `dir` except kustomization.yaml, in file-name order.
Result<std::vector<ManifestObject>> LoadManifestDir(const std::filesystem::path& dir);
// The *.yaml file names of `dir`, sorted.
std::vector<std::string> YamlFileNames(const std::filesystem::path& dir);

enum class ScalarType { kNull, kBool, kInt, kFloat, kString };
// How sigs.k8s.io/yaml (YAML 1.1, as kubectl and Helm read manifests) types a scalar: quoted and
// block scalars are strings; plain ones may be null, a bool (true, yes, on, ...), an int or a
// float.
ScalarType TypeOf(const YAML::Node& scalar);
std::string_view TypeName(ScalarType type);
// Whether a kBool scalar is true (true, yes, on, y, in any of YAML 1.1's spellings).
bool BoolValue(const YAML::Node& scalar);

// The first difference between `a` and `b` as "path: what differs", or "" when they are equal
// as the API server would read them. `path` prefixes the field paths.
std::string FirstDifference(const YAML::Node& a, const YAML::Node& b, const std::string& path);

// `node[key]` when `node` is a mapping that has it, else an undefined node (never inserts).
YAML::Node Child(const YAML::Node& node, std::string_view key);
// Follows a dotted path of mapping keys ("spec.template.spec"); undefined when any is missing.
YAML::Node At(const YAML::Node& node, std::string_view dotted_path);
// The scalar's text, or `fallback` when `node` is not a scalar.
std::string Text(const YAML::Node& node, std::string_view fallback = "");

}  // namespace sonde::deploy_test
