#include "probe/json_path.hpp"

#include <charconv>
#include <optional>
#include <string>

namespace sonde {
namespace {

struct Step {
  bool index = false;
  std::string_view key;
  size_t position = 0;
};

// Reads the next step at `pos`; nullopt at the end. Errors go to `error`.
std::optional<Step> NextStep(std::string_view path, size_t& pos, std::string& error) {
  if (pos >= path.size()) return std::nullopt;
  if (path[pos] == '.') {
    size_t end = pos + 1;
    while (end < path.size() && path[end] != '.' && path[end] != '[') ++end;
    if (end == pos + 1) {
      error = "empty key at position " + std::to_string(pos + 1) + " of the JSON path";
      return std::nullopt;
    }
    Step s{false, path.substr(pos + 1, end - pos - 1)};
    pos = end;
    return s;
  }
  if (path[pos] == '[') {
    const size_t close = path.find(']', pos);
    if (close == std::string_view::npos) {
      error = "unclosed '[' in the JSON path";
      return std::nullopt;
    }
    std::string_view digits = path.substr(pos + 1, close - pos - 1);
    size_t n = 0;
    auto [p, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), n);
    if (digits.empty() || ec != std::errc() || p != digits.data() + digits.size()) {
      error = "array index must be a number, found [" + std::string(digits) + "]";
      return std::nullopt;
    }
    Step s{true, digits, n};
    pos = close + 1;
    return s;
  }
  error = "expected '.' or '[' at position " + std::to_string(pos + 1) + " of the JSON path";
  return std::nullopt;
}

}  // namespace

Status ValidateJsonPath(std::string_view path) {
  size_t pos = 0;
  std::string error;
  while (NextStep(path, pos, error)) {
  }
  return error.empty() ? Status::Ok() : Status::Error(error);
}

const boost::json::value* FindJsonPath(const boost::json::value& doc, std::string_view path) {
  const boost::json::value* v = &doc;
  size_t pos = 0;
  std::string error;
  while (auto step = NextStep(path, pos, error)) {
    if (step->index) {
      const auto* arr = v->if_array();
      if (!arr || step->position >= arr->size()) return nullptr;
      v = &(*arr)[step->position];
    } else {
      const auto* obj = v->if_object();
      if (!obj) return nullptr;
      auto it = obj->find(step->key);
      if (it == obj->end()) return nullptr;
      v = &it->value();
    }
  }
  return v;
}

}  // namespace sonde
