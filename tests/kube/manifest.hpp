// Test support: Kubernetes manifests (multi-document YAML) as the API requests that create them.
// Pure: no I/O. YAML scalars become JSON as Kubernetes reads them (plain true/false → bool,
// plain numbers → numbers, plain null/~/empty → null, quoted → string; YAML 1.1's yes/no/on/off
// stay strings). The API path comes from a small table of the kinds Sonde's tests use.
// Thread safety: stateless. Failure: a Status/Result naming the document and the field.
#pragma once

#include <yaml-cpp/yaml.h>

#include <boost/json.hpp>
#include <string>
#include <string_view>
#include <vector>

#include "core/result.hpp"

namespace sonde::kube {

// Where one object is created: POST `collection`; it then lives at collection + "/" + name.
struct ObjectRequest {
  std::string collection;  // e.g. "/apis/apps/v1/namespaces/default/deployments"
  std::string name;        // metadata.name
  std::string kind;        // for messages
  boost::json::object body;
};

// One YAML node as JSON; `where` prefixes errors ("doc[1]: spec.ports[0]: ...").
Result<boost::json::value> YamlToJson(const YAML::Node& node, const std::string& where);

// The collection path of an object by its apiVersion, kind and metadata.namespace (default
// "default"). Errors name a kind missing from the table.
Result<std::string> CollectionPath(const boost::json::object& object);

// Every non-empty document of `yaml`, in order. Each must be a mapping with apiVersion, kind and
// metadata.name (generateName is not supported: Apply must know the name to update).
Result<std::vector<ObjectRequest>> PlanApply(std::string_view yaml);

}  // namespace sonde::kube
