#include "config/daemon_config.hpp"

#include <algorithm>
#include <filesystem>
#include <limits>

#include "config/text_file.hpp"
#include "config/yaml_reader.hpp"

namespace sonde {
namespace {

namespace fs = std::filesystem;
using config_internal::Describe;
using config_internal::ErrorSink;
using config_internal::MapView;
using config_internal::Quote;

constexpr std::string_view kKeys[] = {
    "listen",           "checks",         "stateDir",        "instanceName",
    "logFormat",        "logLevel",       "reportingURL",    "maxConcurrentRuns",
    "killGracePeriod",  "reloadInterval", "shutdownTimeout", "maxReportBytes",
    "stateMetadata",    "metrics",        "maxCheckPodAge",  "maxCompletedPodCount",
    "maxErrorPodCount", "maxKHJobAge"};
constexpr std::string_view kMetricsKeys[] = {"suppressErrorLabel", "errorLabelMaxLength",
                                             "labelAllowlist", "labelDenylist",
                                             "labelValueMaxLength"};
constexpr std::string_view kLogFormats[] = {"text", "json"};
constexpr std::string_view kLogLevels[] = {"trace", "debug", "info", "warn", "error"};

bool IsPort(std::string_view s) {
  if (s.empty() || s.size() > 5) return false;
  if (!std::all_of(s.begin(), s.end(), [](char c) { return c >= '0' && c <= '9'; })) return false;
  return std::stoi(std::string(s)) <= 65535;
}

// HOST:PORT as Go's net.SplitHostPort accepts it: an empty host means all interfaces, and an
// IPv6 host is bracketed.
bool IsListenAddress(std::string_view s) {
  const size_t colon = s.rfind(':');
  if (colon == std::string_view::npos || !IsPort(s.substr(colon + 1))) return false;
  const std::string_view host = s.substr(0, colon);
  if (host.starts_with('[')) return host.size() > 2 && host.ends_with(']');
  return host.find_first_of(":[]") == std::string_view::npos;
}

bool IsHttpUrl(std::string_view s) {
  for (std::string_view scheme : {"http://", "https://"}) {
    if (s.starts_with(scheme) && s.size() > scheme.size() && s[scheme.size()] != '/') return true;
  }
  return false;
}

std::string Resolve(const std::string& path, const std::string& config_file) {
  const fs::path dir = fs::path(config_file).parent_path();
  if (path.empty() || fs::path(path).is_absolute() || dir.empty()) return path;
  return (dir / path).string();
}

// Reads one optional field with `read(node, path)` when the key is present.
template <class T, class Read>
void Field(const MapView& root, std::string_view key, std::optional<T>& out, Read read) {
  if (const YAML::Node* node = root.Get(key)) {
    auto value = read(*node, root.Path(key));
    if (value) out = static_cast<T>(*value);
  }
}

void CheckValue(const MapView& root, std::string_view key, const std::optional<std::string>& value,
                bool (*valid)(std::string_view), const std::string& expectation) {
  if (!value || valid(*value)) return;
  root.sink().Add(*root.Get(key), std::string(key),
                  "invalid value " + Quote(*value) + " (" + expectation + ")");
}

void ReadStrings(const MapView& root, DaemonConfig& c) {
  ErrorSink& sink = root.sink();
  auto str = [&](const YAML::Node& n, const std::string& p) {
    return config_internal::ReadString(n, p, sink);
  };
  Field(root, "listen", c.listen, str);
  CheckValue(root, "listen", c.listen, IsListenAddress,
             R"(use HOST:PORT, e.g. "127.0.0.1:8080", ":8080" or "[::1]:8080")");
  Field(root, "stateDir", c.state_dir, str);
  Field(root, "instanceName", c.instance_name, str);
  Field(root, "reportingURL", c.reporting_url, str);
  CheckValue(root, "reportingURL", c.reporting_url, IsHttpUrl,
             R"(use an http:// or https:// URL, e.g. "http://127.0.0.1:8080")");
  Field(root, "logFormat", c.log_format, [&](const YAML::Node& n, const std::string& p) {
    return config_internal::ReadEnum(n, p, kLogFormats, sink);
  });
  Field(root, "logLevel", c.log_level, [&](const YAML::Node& n, const std::string& p) {
    return config_internal::ReadEnum(n, p, kLogLevels, sink);
  });
}

void ReadNumbers(const MapView& root, DaemonConfig& c) {
  ErrorSink& sink = root.sink();
  auto duration = [&](const YAML::Node& n, const std::string& p) {
    return config_internal::ReadPositiveDuration(n, p, sink);
  };
  Field(root, "killGracePeriod", c.kill_grace_period, duration);
  Field(root, "reloadInterval", c.reload_interval, duration);
  Field(root, "shutdownTimeout", c.shutdown_timeout, duration);
  Field(root, "maxReportBytes", c.max_report_bytes, [&](const YAML::Node& n, const std::string& p) {
    return config_internal::ReadInt(n, p, 1, sink);
  });
  Field(root, "maxCheckPodAge", c.max_check_pod_age, duration);
  Field(root, "maxKHJobAge", c.max_khjob_age, duration);
  auto count = [&](const YAML::Node& n, const std::string& p) {
    return config_internal::ReadInt(n, p, 0, sink);
  };
  Field(root, "maxCompletedPodCount", c.max_completed_pod_count, count);
  Field(root, "maxErrorPodCount", c.max_error_pod_count, count);
  Field(root, "maxConcurrentRuns", c.max_concurrent_runs,
        [&](const YAML::Node& n, const std::string& p) -> std::optional<int64_t> {
          auto v = config_internal::ReadInt(n, p, 1, sink);
          if (!v || *v <= std::numeric_limits<int>::max()) return v;
          sink.Add(n, p, "must be at most " + std::to_string(std::numeric_limits<int>::max()));
          return std::nullopt;
        });
}

// A list of extra label names. `allow_all` accepts "*" as the only entry, meaning every label.
std::optional<std::vector<std::string>> ReadLabelNames(const YAML::Node& node,
                                                       const std::string& path, bool allow_all,
                                                       ErrorSink& sink) {
  auto names = config_internal::ReadStringList(
      node, path, R"(a list of label names, e.g. ["severity", "label_team"])", sink);
  if (!names) return std::nullopt;
  bool ok = true;
  for (size_t i = 0; i < names->size(); ++i) {
    const std::string problem = MetricsLabelListEntryProblem((*names)[i], names->size(), allow_all);
    if (problem.empty()) continue;
    sink.Add(node[i], path + "[" + std::to_string(i) + "]", problem);
    ok = false;
  }
  if (!ok) return std::nullopt;
  return names;
}

void ReadMetrics(const MapView& root, DaemonMetricsConfig& m) {
  const YAML::Node* node = root.Get("metrics");
  if (node == nullptr) return;
  ErrorSink& sink = root.sink();
  if (!node->IsMap()) {
    sink.Add(*node, "metrics", "must be a mapping of metrics settings, found " + Describe(*node));
    return;
  }
  MapView view(*node, "metrics", sink);
  view.RejectUnknown(kMetricsKeys);
  Field(view, "suppressErrorLabel", m.suppress_error_label,
        [&](const YAML::Node& n, const std::string& p) {
          return config_internal::ReadBool(n, p, sink);
        });
  auto length = [&](const YAML::Node& n, const std::string& p) {
    return config_internal::ReadInt(n, p, 0, sink);
  };
  Field(view, "errorLabelMaxLength", m.error_label_max_length, length);
  Field(view, "labelValueMaxLength", m.label_value_max_length, length);
  Field(view, "labelAllowlist", m.label_allowlist, [&](const YAML::Node& n, const std::string& p) {
    return ReadLabelNames(n, p, /*allow_all=*/true, sink);
  });
  Field(view, "labelDenylist", m.label_denylist, [&](const YAML::Node& n, const std::string& p) {
    return ReadLabelNames(n, p, /*allow_all=*/false, sink);
  });
}

void ReadConfig(const YAML::Node& doc, const std::string& file, ErrorSink& sink, DaemonConfig& c) {
  if (!doc.IsMap()) {
    sink.Add(doc, "", "the config must be a mapping of settings, found " + Describe(doc));
    return;
  }
  MapView root(doc, "", sink);
  root.RejectUnknown(kKeys);
  ReadStrings(root, c);
  ReadNumbers(root, c);
  ReadMetrics(root, c.metrics);
  if (c.state_dir) c.state_dir = Resolve(*c.state_dir, file);
  if (const YAML::Node* n = root.Get("checks")) {
    auto paths = config_internal::ReadStringList(
        *n, "checks", R"(a list of files or directories, e.g. ["/etc/sonde/checks"])", sink);
    for (const std::string& p : paths.value_or(std::vector<std::string>{})) {
      c.checks.push_back(Resolve(p, file));
    }
  }
  if (const YAML::Node* n = root.Get("stateMetadata")) {
    c.state_metadata = config_internal::ReadStringMap(*n, "stateMetadata", sink)
                           .value_or(std::map<std::string, std::string>{});
  }
}

}  // namespace

bool IsMetricsExtraLabelName(std::string_view name) {
  if (name == "severity" || name == "category" || name == "run_uuid") return true;
  constexpr std::string_view kPrefix = "label_";
  if (!name.starts_with(kPrefix) || name.size() == kPrefix.size()) return false;
  return std::all_of(name.begin() + kPrefix.size(), name.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_';
  });
}

std::string MetricsLabelListEntryProblem(std::string_view name, size_t entries, bool allow_list) {
  if (IsMetricsExtraLabelName(name) || (allow_list && name == "*" && entries == 1)) return "";
  const char* hint = allow_list && name == "*" ? "\"*\" must be the only entry"
                                               : "use severity, category, run_uuid or label_<key>";
  return "invalid label " + Quote(name) + " (" + hint + ")";
}

DaemonConfigResult ParseDaemonConfig(std::string_view text, const std::string& file) {
  DaemonConfigResult out;
  bool have_config = false;
  for (const config_internal::DocumentChunk& chunk : config_internal::SplitDocuments(text)) {
    ErrorSink sink(file, chunk.first_line, out.errors);
    const std::optional<YAML::Node> doc = config_internal::ParseDocument(chunk, sink);
    if (!doc || doc->IsNull()) continue;
    if (have_config) {
      sink.Add(*doc, "", "the config file must hold a single YAML document");
      continue;
    }
    have_config = true;
    try {
      ReadConfig(*doc, file, sink, out.config);
    } catch (const YAML::Exception& e) {  // not expected: readers check node types first
      sink.AddAt(e.mark, "", "invalid YAML: " + e.msg);
    }
  }
  config_internal::SortByPosition(out.errors);
  return out;
}

DaemonConfigResult LoadDaemonConfig(const std::string& path) {
  DaemonConfigResult out;
  auto text = config_internal::ReadTextFile(path, out.errors);
  if (!text) return out;
  return ParseDaemonConfig(*text, path);
}

}  // namespace sonde
