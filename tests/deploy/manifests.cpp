#include "deploy/manifests.hpp"

#include <algorithm>
#include <fstream>
#include <regex>
#include <set>
#include <sstream>

namespace sonde::deploy_test {
namespace fs = std::filesystem;

std::string ManifestObject::Kind() const { return Text(Child(node, "kind")); }
std::string ManifestObject::Name() const { return Text(At(node, "metadata.name")); }
std::string ManifestObject::Namespace() const { return Text(At(node, "metadata.namespace")); }
std::string ManifestObject::Key() const { return Kind() + "/" + Namespace() + "/" + Name(); }
std::string ManifestObject::Where() const {
  return file + "#" + std::to_string(document) + " (" + Kind() + " " + Name() + ")";
}

fs::path SourcePath(std::string_view relative) { return fs::path(SONDE_SOURCE_DIR) / relative; }

Result<std::string> ReadText(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return Result<std::string>::Error(path.string() + ": cannot open");
  std::ostringstream out;
  out << in.rdbuf();
  return out.str();
}

Result<std::vector<ManifestObject>> ParseManifests(const std::string& text,
                                                   const std::string& file) {
  using R = Result<std::vector<ManifestObject>>;
  std::vector<YAML::Node> docs;
  try {
    docs = YAML::LoadAll(text);
  } catch (const YAML::Exception& e) {
    return R::Error(file + ":" + std::to_string(e.mark.line + 1) + ": invalid YAML: " + e.msg);
  }
  std::vector<ManifestObject> out;
  for (const YAML::Node& doc : docs) {
    if (doc.IsNull()) continue;  // an empty document (a comment only, or a disabled template)
    if (!doc.IsMap()) {
      return R::Error(file + "#" + std::to_string(out.size()) + ": a document must be a mapping");
    }
    out.push_back({file, static_cast<int>(out.size()), doc});
  }
  return out;
}

std::vector<std::string> YamlFileNames(const fs::path& dir) {
  std::vector<std::string> names;
  std::error_code ec;
  for (const auto& entry : fs::directory_iterator(dir, ec)) {
    if (entry.is_regular_file() && entry.path().extension() == ".yaml") {
      names.push_back(entry.path().filename().string());
    }
  }
  std::sort(names.begin(), names.end());
  return names;
}

Result<std::vector<ManifestObject>> LoadManifestDir(const fs::path& dir) {
  using R = Result<std::vector<ManifestObject>>;
  std::vector<ManifestObject> all;
  for (const std::string& name : YamlFileNames(dir)) {
    if (name == "kustomization.yaml") continue;
    const std::string shown = dir.filename().string() + "/" + name;
    auto text = ReadText(dir / name);
    if (!text.ok()) return R::Error(text.error());
    auto objects = ParseManifests(text.value(), shown);
    if (!objects.ok()) return R::Error(objects.error());
    all.insert(all.end(), objects.value().begin(), objects.value().end());
  }
  if (all.empty()) return R::Error(dir.string() + ": no manifests");
  return all;
}

ScalarType TypeOf(const YAML::Node& scalar) {
  if (scalar.IsNull()) return ScalarType::kNull;
  if (scalar.Tag() != "?") return ScalarType::kString;  // quoted or block: "!"
  static const std::set<std::string> kBools = {
      "y",    "Y",    "yes",   "Yes",   "YES",   "n",  "N",  "no", "No",  "NO",  "true",
      "True", "TRUE", "false", "False", "FALSE", "on", "On", "ON", "off", "Off", "OFF"};
  static const std::set<std::string> kNulls = {"~", "null", "Null", "NULL", ""};
  static const std::regex kInt(R"([-+]?(0|[1-9][0-9_]*|0x[0-9a-fA-F_]+|0[0-7_]+|0b[01_]+))");
  // go-yaml v2's yamlStyleFloat, plus the infinities and NaN.
  static const std::regex kFloat(
      R"([-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?|[-+]?\.(inf|Inf|INF)|\.(nan|NaN|NAN))");
  const std::string& s = scalar.Scalar();
  if (kNulls.count(s)) return ScalarType::kNull;
  if (kBools.count(s)) return ScalarType::kBool;
  if (std::regex_match(s, kInt)) return ScalarType::kInt;
  if (std::regex_match(s, kFloat)) return ScalarType::kFloat;
  return ScalarType::kString;
}

bool BoolValue(const YAML::Node& scalar) {
  static const std::set<std::string> kTrue = {"y",    "Y",    "yes", "Yes", "YES", "true",
                                              "True", "TRUE", "on",  "On",  "ON"};
  return kTrue.count(scalar.Scalar()) > 0;
}

std::string_view TypeName(ScalarType type) {
  switch (type) {
    case ScalarType::kNull:
      return "null";
    case ScalarType::kBool:
      return "boolean";
    case ScalarType::kInt:
      return "integer";
    case ScalarType::kFloat:
      return "number";
    case ScalarType::kString:
      return "string";
  }
  return "?";
}

namespace {

std::string Describe(const YAML::Node& n) {
  if (!n.IsDefined()) return "(absent)";
  if (n.IsMap()) return "a mapping";
  if (n.IsSequence()) return "a list";
  if (n.IsScalar()) return std::string(TypeName(TypeOf(n))) + " \"" + n.Scalar() + "\"";
  return "null";
}

std::string ScalarDifference(const YAML::Node& a, const YAML::Node& b, const std::string& path) {
  const ScalarType ta = TypeOf(a), tb = TypeOf(b);
  bool equal = ta == tb;
  if (equal && ta == ScalarType::kBool) equal = BoolValue(a) == BoolValue(b);
  if (equal && ta != ScalarType::kBool && ta != ScalarType::kNull) {
    equal = a.Scalar() == b.Scalar();
  }
  return equal ? "" : path + ": " + Describe(a) + " vs " + Describe(b);
}

}  // namespace

std::string FirstDifference(const YAML::Node& a, const YAML::Node& b, const std::string& path) {
  const bool a_null =
      !a.IsDefined() || a.IsNull() || (a.IsScalar() && TypeOf(a) == ScalarType::kNull);
  const bool b_null =
      !b.IsDefined() || b.IsNull() || (b.IsScalar() && TypeOf(b) == ScalarType::kNull);
  if (a_null || b_null) {
    return a_null && b_null && a.IsDefined() == b.IsDefined()
               ? ""
               : path + ": " + Describe(a) + " vs " + Describe(b);
  }
  if (a.Type() != b.Type()) return path + ": " + Describe(a) + " vs " + Describe(b);
  if (a.IsScalar()) return ScalarDifference(a, b, path);
  if (a.IsSequence()) {
    if (a.size() != b.size()) {
      return path + ": " + std::to_string(a.size()) + " vs " + std::to_string(b.size()) + " items";
    }
    for (size_t i = 0; i < a.size(); ++i) {
      std::string d = FirstDifference(a[i], b[i], path + "[" + std::to_string(i) + "]");
      if (!d.empty()) return d;
    }
    return "";
  }
  std::set<std::string> keys;
  for (const auto& kv : a) keys.insert(kv.first.Scalar());
  for (const auto& kv : b) keys.insert(kv.first.Scalar());
  for (const std::string& k : keys) {
    std::string d = FirstDifference(Child(a, k), Child(b, k), path.empty() ? k : path + "." + k);
    if (!d.empty()) return d;
  }
  return "";
}

YAML::Node Child(const YAML::Node& node, std::string_view key) {
  if (!node.IsMap()) return YAML::Node(YAML::NodeType::Undefined);
  for (const auto& kv : node) {
    if (kv.first.IsScalar() && kv.first.Scalar() == key) return kv.second;
  }
  return YAML::Node(YAML::NodeType::Undefined);
}

YAML::Node At(const YAML::Node& node, std::string_view dotted_path) {
  YAML::Node cur = node;
  size_t start = 0;
  while (start <= dotted_path.size()) {
    const size_t dot = dotted_path.find('.', start);
    const size_t end = dot == std::string_view::npos ? dotted_path.size() : dot;
    cur.reset(Child(cur, dotted_path.substr(start, end - start)));
    if (!cur.IsDefined() || dot == std::string_view::npos) break;
    start = dot + 1;
  }
  return cur;
}

std::string Text(const YAML::Node& node, std::string_view fallback) {
  return node.IsDefined() && node.IsScalar() ? node.Scalar() : std::string(fallback);
}

}  // namespace sonde::deploy_test
