// What the API server checks of a CRD's openAPIV3Schema and of the objects stored under it,
// re-implemented for the deployment tests (the real server applies them later, in the operator's
// integration tests): structural-schema rules, and the validation and pruning of a document.
//
// Test support. Failure: problems are returned as messages with their path; never throws.
// Thread safety: pure.
#pragma once

#include <yaml-cpp/yaml.h>

#include <string>
#include <string_view>
#include <vector>

namespace sonde::deploy_test {

// Why `schema` is not structural (apiextensions.k8s.io/v1 refuses it), one message per problem
// with its path under `path`: a node without a type (unless x-kubernetes-preserve-unknown-fields
// or x-kubernetes-int-or-string), an array without items, properties beside
// additionalProperties, types or defaults inside allOf/anyOf/oneOf/not, unknown or forbidden
// keywords ($ref, patternProperties, ...), metadata constrained beyond name and generateName.
std::vector<std::string> StructuralProblems(const YAML::Node& schema, const std::string& path);

// What the API server would say of `value` (an object's whole document when `path` is "") under
// `schema`: wrong types, null where not nullable, missing required fields, a failed oneOf,
// minItems, date-time format; and every field it would prune silently because the schema does
// not declare it (no x-kubernetes-preserve-unknown-fields on the way).
std::vector<std::string> ValidationProblems(const YAML::Node& schema, const YAML::Node& value,
                                            const std::string& path);

// Whether a printer column's JSONPath (.spec.OK, .status.errors[0]) names a declared field.
bool DeclaresPath(const YAML::Node& schema, std::string_view json_path);

}  // namespace sonde::deploy_test
