// Internal to the config module: walks yaml-cpp nodes and turns every problem into a located
// ConfigError instead of an exception, so one pass can report all mistakes in a document.
// Thread safety: none; an ErrorSink and the MapViews using it belong to one parse.
// Failure: readers never throw; on bad input they report through the sink and return nullopt.
#pragma once

#include <yaml-cpp/yaml.h>

#include <cstdint>
#include <map>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "config/config_error.hpp"
#include "core/time.hpp"

namespace sonde::config_internal {

// One YAML document of a multi-document text. Splitting before parsing lets a syntax error
// in one document spare the others, which yaml-cpp's LoadAll cannot do.
struct DocumentChunk {
  std::string_view text;
  int first_line = 0;  // 0-based line of `text` within the whole file
};
// Splits before "---" lines and after "..." lines. A chunk holding only comments or directives
// joins the next one.
std::vector<DocumentChunk> SplitDocuments(std::string_view text);

// Appends located errors to a caller-owned list. Marks are relative to the parsed chunk.
class ErrorSink {
 public:
  ErrorSink(std::string file, int line_offset, std::vector<ConfigError>& out)
      : file_(std::move(file)), line_offset_(line_offset), out_(out) {}

  void Add(const YAML::Node& at, std::string field, std::string message);
  void AddAt(const YAML::Mark& mark, std::string field, std::string message);
  // 1-based line in the whole file; 0 for yaml-cpp's null mark.
  int Line(const YAML::Mark& mark) const;
  size_t count() const { return out_.size(); }
  const std::string& file() const { return file_; }  // as given to the constructor

 private:
  std::string file_;
  int line_offset_;
  std::vector<ConfigError>& out_;
};

// Orders one file's errors by line and column. Stable: errors at one position keep the order
// they were found in. Needed because a missing field is reported at its parent's position,
// after the parent's children were checked.
void SortByPosition(std::vector<ConfigError>& errors);

// The document in `chunk`: a null node when it holds none, nullopt after reporting a syntax
// error (at yaml-cpp's line and column) to `sink`.
std::optional<YAML::Node> ParseDocument(const DocumentChunk& chunk, ErrorSink& sink);

// A YAML mapping indexed by its string keys. Non-string and repeated keys are reported once,
// at construction; lookups see the first occurrence only.
class MapView {
 public:
  // REQUIRES: map.IsMap(). `path` is the field path of the mapping ("" for the document).
  MapView(const YAML::Node& map, std::string path, ErrorSink& sink);

  // The value under `key`; nullptr when absent or null (`key:`), which Kubernetes also
  // treats as unset.
  const YAML::Node* Get(std::string_view key) const;
  // Reports each key not in `allowed`, suggesting a case-insensitive match when one exists.
  void RejectUnknown(std::span<const std::string_view> allowed) const;
  // Calls fn(key, key_node, value) for every key, in file order.
  template <class Fn>
  void ForEach(Fn&& fn) const {
    for (const Entry& e : entries_) fn(e.key, e.key_node, e.value);
  }
  std::string Path(std::string_view key) const;
  const YAML::Node& node() const { return node_; }
  const std::string& path() const { return path_; }
  ErrorSink& sink() const { return sink_; }

 private:
  struct Entry {
    std::string key;
    YAML::Node key_node;
    YAML::Node value;
  };
  YAML::Node node_;
  std::string path_;
  ErrorSink& sink_;
  std::vector<Entry> entries_;
};

std::string Quote(std::string_view s);
// "a mapping", "a list", "the string \"x\"" or "nothing": for "found ..." in messages.
std::string Describe(const YAML::Node& node);
// `allowed` joined as "a, b or c".
std::string JoinOr(std::span<const std::string_view> allowed);

// Typed readers. `path` names the node in errors. Scalars of any plain type are accepted as
// text where a string is expected (Kubernetes users write `- 8080` in args).
std::optional<std::string> ReadString(const YAML::Node& node, const std::string& path,
                                      ErrorSink& sink);
// `expectation` completes "must be ..." when the node is not a list, e.g.
// `a list of strings, e.g. ["bash", "run.sh"]`.
std::optional<std::vector<std::string>> ReadStringList(const YAML::Node& node,
                                                       const std::string& path,
                                                       std::string_view expectation,
                                                       ErrorSink& sink);
std::optional<std::map<std::string, std::string>> ReadStringMap(const YAML::Node& node,
                                                                const std::string& path,
                                                                ErrorSink& sink);
// A Go duration string, which must be greater than zero.
std::optional<Duration> ReadPositiveDuration(const YAML::Node& node, const std::string& path,
                                             ErrorSink& sink);
// An unquoted YAML boolean.
std::optional<bool> ReadBool(const YAML::Node& node, const std::string& path, ErrorSink& sink);
// An unquoted decimal integer >= min.
std::optional<int64_t> ReadInt(const YAML::Node& node, const std::string& path, int64_t min,
                               ErrorSink& sink);
// A string that must be one of `allowed`.
std::optional<std::string> ReadEnum(const YAML::Node& node, const std::string& path,
                                    std::span<const std::string_view> allowed, ErrorSink& sink);

}  // namespace sonde::config_internal
