#include "deploy/schema_check.hpp"

#include <regex>
#include <set>

#include "deploy/manifests.hpp"

namespace sonde::deploy_test {
namespace {

const std::set<std::string> kTypes = {"object", "array", "string", "integer", "number", "boolean"};
// The JSONSchemaProps fields apiextensions.k8s.io/v1 knows, less the forbidden ones ($ref,
// definitions, dependencies, patternProperties, additionalItems, id, uniqueItems).
// clang-format off
const std::set<std::string> kKeywords = {
    "type", "format", "title", "description", "default", "example", "externalDocs", "nullable",
    "maximum", "minimum", "exclusiveMaximum", "exclusiveMinimum", "multipleOf",
    "maxLength", "minLength", "pattern", "enum", "required",
    "items", "maxItems", "minItems", "properties", "additionalProperties", "maxProperties",
    "minProperties", "allOf", "oneOf", "anyOf", "not",
    "x-kubernetes-preserve-unknown-fields", "x-kubernetes-int-or-string",
    "x-kubernetes-embedded-resource", "x-kubernetes-list-type", "x-kubernetes-list-map-keys",
    "x-kubernetes-map-type"};
// clang-format on
// Inside allOf/anyOf/oneOf/not a structural schema may only constrain values.
const std::set<std::string> kNotInJunctors = {"type", "default", "description",
                                              "additionalProperties", "nullable"};

bool IsTrue(const YAML::Node& n) { return Text(n) == "true"; }

void CheckJunctors(const YAML::Node& schema, const std::string& path,
                   std::vector<std::string>& out) {
  for (const char* junctor : {"allOf", "anyOf", "oneOf"}) {
    const YAML::Node list = Child(schema, junctor);
    if (!list.IsDefined()) continue;
    if (!list.IsSequence() || list.size() == 0) {
      out.push_back(path + "." + junctor + ": must be a non-empty list");
      continue;
    }
    for (size_t i = 0; i < list.size(); ++i) {
      for (const auto& kv : list[i]) {
        if (kNotInJunctors.count(kv.first.Scalar()) || kv.first.Scalar() == "properties") {
          out.push_back(path + "." + junctor + "[" + std::to_string(i) + "]." + kv.first.Scalar() +
                        ": not allowed inside " + junctor + " in a structural schema");
        }
      }
    }
  }
}

enum class Level { kRoot, kMetadata, kOther };

void CheckNode(const YAML::Node& schema, const std::string& path, Level level,
               std::vector<std::string>& out) {
  if (!schema.IsMap()) {
    out.push_back(path + ": a schema must be a mapping");
    return;
  }
  for (const auto& kv : schema) {
    const std::string& key = kv.first.Scalar();
    if (!kKeywords.count(key)) out.push_back(path + "." + key + ": unknown or forbidden keyword");
  }
  const std::string type = Text(Child(schema, "type"));
  const bool preserve = IsTrue(Child(schema, "x-kubernetes-preserve-unknown-fields"));
  const bool int_or_string = IsTrue(Child(schema, "x-kubernetes-int-or-string"));
  if (const YAML::Node p = Child(schema, "x-kubernetes-preserve-unknown-fields");
      p.IsDefined() && !preserve) {
    out.push_back(path + ".x-kubernetes-preserve-unknown-fields: must be true if set");
  }
  if (type.empty() && !preserve && !int_or_string) {
    out.push_back(path + ": has no type (nor x-kubernetes-preserve-unknown-fields)");
  } else if (!type.empty() && !kTypes.count(type)) {
    out.push_back(path + ".type: unknown type \"" + type + "\"");
  }
  const YAML::Node props = Child(schema, "properties");
  const YAML::Node additional = Child(schema, "additionalProperties");
  const YAML::Node items = Child(schema, "items");
  if (props.IsDefined() && additional.IsDefined()) {
    out.push_back(path + ": properties and additionalProperties are mutually exclusive");
  }
  if ((props.IsDefined() || additional.IsDefined()) && !type.empty() && type != "object") {
    out.push_back(path + ": properties on a node of type " + type);
  }
  if (type == "array" && !items.IsDefined()) out.push_back(path + ": an array needs items");
  if (level == Level::kMetadata && props.IsDefined()) {
    for (const auto& kv : props) {
      const std::string& key = kv.first.Scalar();
      if (key != "name" && key != "generateName") {
        out.push_back(path + ".properties." + key +
                      ": metadata may only constrain name and generateName");
      }
    }
  }
  CheckJunctors(schema, path, out);
  if (props.IsMap()) {
    for (const auto& kv : props) {
      const bool metadata = level == Level::kRoot && kv.first.Scalar() == "metadata";
      CheckNode(kv.second, path + ".properties." + kv.first.Scalar(),
                metadata ? Level::kMetadata : Level::kOther, out);
    }
  }
  if (additional.IsMap()) CheckNode(additional, path + ".additionalProperties", Level::kOther, out);
  if (items.IsDefined()) CheckNode(items, path + ".items", Level::kOther, out);
}

bool IsDateTime(const std::string& s) {
  static const std::regex kRfc3339(
      R"(\d{4}-\d{2}-\d{2}[Tt]\d{2}:\d{2}:\d{2}(\.\d+)?([Zz]|[-+]\d{2}:\d{2}))");
  return std::regex_match(s, kRfc3339);
}

// "" when `value` has the schema's type.
std::string TypeProblem(const YAML::Node& schema, const YAML::Node& value) {
  const std::string type = Text(Child(schema, "type"));
  const ScalarType st = value.IsScalar() ? TypeOf(value) : ScalarType::kNull;
  if (IsTrue(Child(schema, "x-kubernetes-int-or-string"))) {
    return st == ScalarType::kInt || st == ScalarType::kString ? "" : "must be an int or a string";
  }
  bool ok = true;
  if (type == "object") ok = value.IsMap();
  if (type == "array") ok = value.IsSequence();
  if (type == "string") ok = value.IsScalar() && st == ScalarType::kString;
  if (type == "boolean") ok = value.IsScalar() && st == ScalarType::kBool;
  if (type == "integer") ok = value.IsScalar() && st == ScalarType::kInt;
  if (type == "number") ok = st == ScalarType::kInt || st == ScalarType::kFloat;
  return ok ? "" : "must be of type " + type;
}

bool Absent(const YAML::Node& n) { return !n.IsDefined(); }

void Validate(const YAML::Node& schema, const YAML::Node& value, const std::string& path, bool root,
              std::vector<std::string>& out);

void ValidateObject(const YAML::Node& schema, const YAML::Node& value, const std::string& path,
                    bool root, std::vector<std::string>& out) {
  const std::string prefix = path.empty() ? "" : path + ".";
  if (const YAML::Node req = Child(schema, "required"); req.IsSequence()) {
    for (const auto& r : req) {
      if (Absent(Child(value, r.Scalar()))) out.push_back(prefix + r.Scalar() + ": is required");
    }
  }
  if (const YAML::Node one_of = Child(schema, "oneOf"); one_of.IsSequence()) {
    size_t matches = 0;
    for (const auto& alt : one_of) {
      std::vector<std::string> ignored;
      Validate(alt, value, path, false, ignored);
      matches += ignored.empty() ? 1 : 0;
    }
    if (matches != 1) {
      out.push_back((path.empty() ? "(root)" : path) +
                    ": must match exactly one of oneOf, matches " + std::to_string(matches));
    }
  }
  const YAML::Node props = Child(schema, "properties");
  const YAML::Node additional = Child(schema, "additionalProperties");
  const bool preserve = IsTrue(Child(schema, "x-kubernetes-preserve-unknown-fields"));
  // A junctor's alternatives declare no properties; pruning is decided by the schema around it.
  const bool declares = Child(schema, "type").IsDefined() || props.IsDefined();
  for (const auto& kv : value) {
    const std::string& key = kv.first.Scalar();
    if (root && key == "metadata") continue;  // ObjectMeta, validated by the server itself
    if (const YAML::Node sub = Child(props, key); sub.IsDefined()) {
      Validate(sub, kv.second, prefix + key, false, out);
    } else if (additional.IsMap()) {
      Validate(additional, kv.second, prefix + key, false, out);
    } else if (declares && !preserve) {
      out.push_back(prefix + key + ": would be pruned (not declared in the CRD schema)");
    }
  }
}

void Validate(const YAML::Node& schema, const YAML::Node& value, const std::string& path, bool root,
              std::vector<std::string>& out) {
  const std::string shown = path.empty() ? "(root)" : path;
  if (!value.IsDefined() || value.IsNull() ||
      (value.IsScalar() && TypeOf(value) == ScalarType::kNull)) {
    if (Child(schema, "type").IsDefined() && !IsTrue(Child(schema, "nullable"))) {
      out.push_back(shown + ": is null but the schema does not allow null");
    }
    return;
  }
  if (Child(schema, "type").IsDefined() ||
      Child(schema, "x-kubernetes-int-or-string").IsDefined()) {
    if (std::string p = TypeProblem(schema, value); !p.empty()) {
      out.push_back(shown + ": " + p);
      return;
    }
  }
  if (value.IsMap()) ValidateObject(schema, value, path, root, out);
  if (value.IsSequence()) {
    if (const YAML::Node min = Child(schema, "minItems"); min.IsDefined()) {
      if (value.size() < std::stoul(min.Scalar())) {
        out.push_back(shown + ": must have at least " + min.Scalar() + " items");
      }
    }
    const YAML::Node items = Child(schema, "items");
    for (size_t i = 0; i < value.size() && items.IsDefined(); ++i) {
      Validate(items, value[i], path + "[" + std::to_string(i) + "]", false, out);
    }
  }
  if (value.IsScalar() && Text(Child(schema, "format")) == "date-time" &&
      !IsDateTime(value.Scalar())) {
    out.push_back(shown + ": must be an RFC 3339 date-time, found \"" + value.Scalar() + "\"");
  }
}

}  // namespace

std::vector<std::string> StructuralProblems(const YAML::Node& schema, const std::string& path) {
  std::vector<std::string> out;
  if (Text(Child(schema, "type")) != "object") {
    out.push_back(path + ".type: the root must be an object");
  }
  CheckNode(schema, path, Level::kRoot, out);
  return out;
}

std::vector<std::string> ValidationProblems(const YAML::Node& schema, const YAML::Node& value,
                                            const std::string& path) {
  std::vector<std::string> out;
  Validate(schema, value, path, path.empty(), out);
  return out;
}

bool DeclaresPath(const YAML::Node& schema, std::string_view json_path) {
  static const std::regex kStep(R"(\.([A-Za-z_][A-Za-z0-9_]*)(\[[0-9]+\])?)");
  const std::string p(json_path);
  if (p.starts_with(".metadata.")) return true;  // ObjectMeta's fields, not the CRD's schema
  YAML::Node node = schema;
  size_t consumed = 0;
  for (auto it = std::sregex_iterator(p.begin(), p.end(), kStep); it != std::sregex_iterator();
       ++it) {
    if (static_cast<size_t>(it->position()) != consumed) return false;
    consumed += it->length();
    node.reset(Child(Child(node, "properties"), (*it)[1].str()));
    if ((*it)[2].matched) node.reset(Child(node, "items"));
    if (!node.IsDefined()) return false;
  }
  return consumed == p.size() && consumed > 0;
}

}  // namespace sonde::deploy_test
