// Internal to the kube model: typed, non-throwing access to fields of Kubernetes objects held as
// boost::json values (a field of the wrong type reads as absent; callers name the field path in
// their own errors), and the time formats of Kubernetes and Go that the objects carry.
// Thread safety: pure functions. Never throw.
#pragma once

#include <boost/json.hpp>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "core/time.hpp"

namespace sonde::kube::internal {

namespace json = boost::json;

// The member `key` of `obj` when it is an object; nullptr when absent or not an object.
const json::object* ObjectAt(const json::object& obj, std::string_view key);
// The member `key` when it is an array; nullptr otherwise.
const json::array* ArrayAt(const json::object& obj, std::string_view key);
// The member `key` when it is a string; "" when absent, null or of another type.
std::string StringAt(const json::object& obj, std::string_view key);
// The member `key` when it is an integer (or a double holding one); nullopt otherwise.
std::optional<int64_t> IntAt(const json::object& obj, std::string_view key);
// The member `key` when it is a bool; nullopt otherwise.
std::optional<bool> BoolAt(const json::object& obj, std::string_view key);
// A string map as a JSON object, in key order.
template <class Map>
json::object ToObject(const Map& m) {
  json::object out;
  for (const auto& [k, v] : m) out[k] = v;
  return out;
}

// Kubernetes' time forms. metav1.Time: RFC 3339 in whole seconds, "2024-01-02T03:04:05Z".
std::string FormatKubeTime(TimePoint t);
// metav1.MicroTime: always six fraction digits, "2024-01-02T03:04:05.123456Z".
std::string FormatMicroTime(TimePoint t);
// Go's time.Time.String() of a UTC instant in whole seconds: "2024-01-02 03:04:05 +0000 UTC".
std::string FormatGoTimeString(TimePoint t);

}  // namespace sonde::kube::internal
