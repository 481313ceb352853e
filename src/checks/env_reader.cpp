#include "checks/env_reader.hpp"

#include <charconv>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <map>

namespace sonde {

CheckEnv CheckEnv::FromProcess() {
  CheckEnv env;
  env.process_ = true;
  return env;
}

std::optional<std::string> CheckEnv::Get(std::string_view name) const {
  if (process_) {
    const char* v = std::getenv(std::string(name).c_str());
    if (!v || !*v) return std::nullopt;
    return std::string(v);
  }
  auto it = vars_.find(std::string(name));
  if (it == vars_.end() || it->second.empty()) return std::nullopt;
  return it->second;
}

namespace checks_internal {

std::string EnvReader::Required(std::string_view name, std::string_view example) {
  auto v = env_.Get(name);
  if (!v) {
    Problem(std::string(name) + " is not set (e.g. " + std::string(example) + ")");
    return "";
  }
  return *v;
}

std::string EnvReader::String(std::string_view name, std::string_view fallback) const {
  return env_.Get(name).value_or(std::string(fallback));
}

int64_t EnvReader::Int(std::string_view name, int64_t fallback, int64_t min, int64_t max) {
  auto v = env_.Get(name);
  if (!v) return fallback;
  int64_t value = 0;
  auto [end, ec] = std::from_chars(v->data(), v->data() + v->size(), value);
  if (ec != std::errc() || end != v->data() + v->size()) {
    Problem(std::string(name) + " \"" + *v + "\" is not a whole number");
    return fallback;
  }
  if (value < min || value > max) {
    Problem(std::string(name) + " " + *v + " must be " + std::to_string(min) + " to " +
            std::to_string(max));
    return fallback;
  }
  return value;
}

bool EnvReader::Bool(std::string_view name, bool fallback) {
  auto v = env_.Get(name);
  if (!v) return fallback;
  for (std::string_view t : {"1", "t", "T", "TRUE", "true", "True"}) {
    if (*v == t) return true;
  }
  for (std::string_view f : {"0", "f", "F", "FALSE", "false", "False"}) {
    if (*v == f) return false;
  }
  Problem(std::string(name) + " \"" + *v + "\" is not a boolean (true or false)");
  return fallback;
}

Duration EnvReader::PositiveDuration(std::string_view name, Duration fallback) {
  auto v = env_.Get(name);
  if (!v) return fallback;
  auto d = ParseGoDuration(*v);
  if (!d.ok()) {
    Problem(std::string(name) + ": " + d.error());
    return fallback;
  }
  if (d.value() <= Duration::zero()) {
    Problem(std::string(name) + " \"" + *v + "\" must be greater than zero, e.g. 10s");
    return fallback;
  }
  return d.value();
}

std::string EnvReader::OneOf(std::string_view name, std::string_view fallback,
                             std::initializer_list<std::string_view> allowed) {
  auto v = env_.Get(name);
  if (!v) return std::string(fallback);
  for (std::string_view a : allowed) {
    if (*v == a) return *v;
  }
  std::string list;
  size_t i = 0;
  for (std::string_view a : allowed) {
    list += (i == 0 ? "" : i + 1 == allowed.size() ? " or " : ", ") + std::string(a);
    ++i;
  }
  Problem(std::string(name) + " \"" + *v + "\" must be " + list);
  return std::string(fallback);
}

std::vector<std::string> CountRepeats(const std::vector<std::string>& errors) {
  std::vector<std::string> order;
  std::map<std::string, int> counts;
  for (const std::string& e : errors) {
    if (counts[e]++ == 0) order.push_back(e);
  }
  std::vector<std::string> out;
  for (const std::string& e : order) {
    const int n = counts[e];
    out.push_back(n == 1 ? e : e + " (" + std::to_string(n) + " times)");
  }
  return out;
}

std::string DaysLeftText(TimePoint not_after, TimePoint now) {
  const double days = std::chrono::duration<double>(not_after - now).count() / 86400.0;
  char text[32];
  std::snprintf(text, sizeof text, "%.1f", std::fabs(days));
  const std::string at = FormatRfc3339Nano(not_after);
  return days < 0 ? std::string(text) + " days ago (" + at + ")"
                  : std::string(text) + " days (" + at + ")";
}

}  // namespace checks_internal
}  // namespace sonde
