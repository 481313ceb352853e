#include "kube/json_fields.hpp"

#include <cstdio>

namespace sonde::kube::internal {

const json::object* ObjectAt(const json::object& obj, std::string_view key) {
  const json::value* v = obj.if_contains(key);
  return v != nullptr ? v->if_object() : nullptr;
}

const json::array* ArrayAt(const json::object& obj, std::string_view key) {
  const json::value* v = obj.if_contains(key);
  return v != nullptr ? v->if_array() : nullptr;
}

std::string StringAt(const json::object& obj, std::string_view key) {
  const json::value* v = obj.if_contains(key);
  if (v == nullptr || !v->is_string()) return "";
  return std::string(v->get_string());
}

std::optional<int64_t> IntAt(const json::object& obj, std::string_view key) {
  const json::value* v = obj.if_contains(key);
  if (v == nullptr) return std::nullopt;
  if (v->is_int64()) return v->get_int64();
  if (v->is_uint64() && v->get_uint64() <= static_cast<uint64_t>(INT64_MAX)) {
    return static_cast<int64_t>(v->get_uint64());
  }
  // 2^63 as a double is out of range for int64; reject it and everything beyond.
  if (v->is_double()) {
    const double d = v->get_double();
    if (d >= -9.2e18 && d <= 9.2e18 && d == static_cast<double>(static_cast<int64_t>(d))) {
      return static_cast<int64_t>(d);
    }
  }
  return std::nullopt;
}

std::optional<bool> BoolAt(const json::object& obj, std::string_view key) {
  const json::value* v = obj.if_contains(key);
  if (v == nullptr || !v->is_bool()) return std::nullopt;
  return v->get_bool();
}

std::string FormatKubeTime(TimePoint t) {
  return FormatRfc3339Nano(std::chrono::floor<std::chrono::seconds>(t));
}

std::string FormatMicroTime(TimePoint t) {
  const auto secs = std::chrono::floor<std::chrono::seconds>(t);
  const auto micros = std::chrono::floor<std::chrono::microseconds>(t - secs).count();
  std::string out = FormatRfc3339Nano(secs);
  out.pop_back();  // 'Z'
  char frac[32];
  std::snprintf(frac, sizeof(frac), ".%06lldZ", static_cast<long long>(micros));
  return out + frac;
}

std::string FormatGoTimeString(TimePoint t) {
  std::string out = FormatKubeTime(t);
  out[10] = ' ';
  out.pop_back();
  return out + " +0000 UTC";
}

}  // namespace sonde::kube::internal
