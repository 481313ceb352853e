#include "config/yaml_reader.hpp"

#include <yaml-cpp/eventhandler.h>

#include <algorithm>
#include <cctype>
#include <charconv>
#include <sstream>
#include <tuple>
#include <utility>

namespace sonde::config_internal {
namespace {

// "---" or "..." at column 0, alone or followed by a space: YAML's document markers.
bool IsMarker(std::string_view line, std::string_view marker) {
  return line.starts_with(marker) &&
         (line.size() == 3 || line[3] == ' ' || line[3] == '\t' || line[3] == '\r');
}

// Blank lines, comments and directives do not make a document on their own.
bool IsContent(std::string_view line) {
  const size_t first = line.find_first_not_of(" \t\r");
  if (first == std::string_view::npos) return false;
  return line[first] != '#' && line[0] != '%';
}

bool EqualsIgnoringCase(std::string_view a, std::string_view b) {
  return std::equal(a.begin(), a.end(), b.begin(), b.end(), [](char x, char y) {
    return std::tolower(static_cast<unsigned char>(x)) ==
           std::tolower(static_cast<unsigned char>(y));
  });
}

bool IsQuoted(const YAML::Node& node) { return node.Tag() == "!"; }

// Records where each document starts; ignores everything else.
class DocumentStarts final : public YAML::EventHandler {
 public:
  std::vector<YAML::Mark> marks;

  void OnDocumentStart(const YAML::Mark& mark) override { marks.push_back(mark); }
  void OnDocumentEnd() override {}
  void OnNull(const YAML::Mark&, YAML::anchor_t) override {}
  void OnAlias(const YAML::Mark&, YAML::anchor_t) override {}
  void OnScalar(const YAML::Mark&, const std::string&, YAML::anchor_t,
                const std::string&) override {}
  void OnSequenceStart(const YAML::Mark&, const std::string&, YAML::anchor_t,
                       YAML::EmitterStyle::value) override {}
  void OnSequenceEnd() override {}
  void OnMapStart(const YAML::Mark&, const std::string&, YAML::anchor_t,
                  YAML::EmitterStyle::value) override {}
  void OnMapEnd() override {}
};

// The printable ASCII character at `pos`, quoted, for "unexpected ..." messages.
std::string Unexpected(std::string_view text, int pos) {
  if (pos < 0 || static_cast<size_t>(pos) >= text.size()) return "end of document";
  const char c = text[static_cast<size_t>(pos)];
  if (c > ' ' && c < 127) return "'" + std::string(1, c) + "'";
  return "content";
}

}  // namespace

std::vector<DocumentChunk> SplitDocuments(std::string_view text) {
  std::vector<DocumentChunk> chunks;
  size_t chunk_start = 0;
  int chunk_line = 0;
  bool chunk_has_content = false;
  size_t pos = 0;
  for (int line_no = 0; pos < text.size(); ++line_no) {
    size_t end = text.find('\n', pos);
    if (end == std::string_view::npos) end = text.size();
    const std::string_view line = text.substr(pos, end - pos);
    if (IsMarker(line, "---") && chunk_has_content) {
      chunks.push_back({text.substr(chunk_start, pos - chunk_start), chunk_line});
      chunk_start = pos;
      chunk_line = line_no;
    }
    chunk_has_content = chunk_has_content || IsContent(line);
    pos = end + 1;
    if (IsMarker(line, "...")) {  // the next document may start without "---"
      chunks.push_back(
          {text.substr(chunk_start, std::min(pos, text.size()) - chunk_start), chunk_line});
      chunk_start = std::min(pos, text.size());
      chunk_line = line_no + 1;
      chunk_has_content = false;
    }
  }
  if (chunk_start < text.size()) chunks.push_back({text.substr(chunk_start), chunk_line});
  return chunks;
}

void SortByPosition(std::vector<ConfigError>& errors) {
  std::stable_sort(errors.begin(), errors.end(), [](const ConfigError& a, const ConfigError& b) {
    return std::tie(a.line, a.column) < std::tie(b.line, b.column);
  });
}

std::optional<YAML::Node> ParseDocument(const DocumentChunk& chunk, ErrorSink& sink) {
  const std::string text(chunk.text);
  try {
    // A chunk holds at most one document. When yaml-cpp 0.7 reports a second one, it stopped
    // early at a token it could not place (and LoadAll would loop on it forever,
    // jbeder/yaml-cpp#1040), so that is a syntax error at the second document's start.
    std::istringstream in(text);
    YAML::Parser parser(in);
    DocumentStarts starts;
    if (parser.HandleNextDocument(starts) && parser.HandleNextDocument(starts)) {
      const YAML::Mark& at = starts.marks.back();
      sink.AddAt(at, "", "invalid YAML: unexpected " + Unexpected(text, at.pos));
      return std::nullopt;
    }
    return YAML::Load(text);
  } catch (const YAML::Exception& e) {
    sink.AddAt(e.mark, "", "invalid YAML: " + e.msg);
  }
  return std::nullopt;
}

void ErrorSink::Add(const YAML::Node& at, std::string field, std::string message) {
  AddAt(at.Mark(), std::move(field), std::move(message));
}

void ErrorSink::AddAt(const YAML::Mark& mark, std::string field, std::string message) {
  const int column = mark.is_null() ? 0 : mark.column + 1;
  out_.push_back({file_, Line(mark), column, std::move(field), std::move(message)});
}

int ErrorSink::Line(const YAML::Mark& mark) const {
  return mark.is_null() ? 0 : mark.line + 1 + line_offset_;
}

MapView::MapView(const YAML::Node& map, std::string path, ErrorSink& sink)
    : node_(map), path_(std::move(path)), sink_(sink) {
  // By value: yaml-cpp's iterator hands out proxies, so references into them dangle.
  for (const auto& pair : map) {
    const YAML::Node key = pair.first;
    if (!key.IsScalar()) {
      sink_.Add(key, path_, "keys must be strings, found " + Describe(key));
      continue;
    }
    const std::string name = key.Scalar();
    auto first = std::find_if(entries_.begin(), entries_.end(),
                              [&](const Entry& e) { return e.key == name; });
    if (first != entries_.end()) {
      sink_.Add(key, Path(name),
                "duplicate key " + Quote(name) + " (first defined at line " +
                    std::to_string(sink_.Line(first->key_node.Mark())) + ")");
      continue;
    }
    entries_.push_back({name, key, pair.second});
  }
}

const YAML::Node* MapView::Get(std::string_view key) const {
  for (const Entry& e : entries_) {
    if (e.key == key) return e.value.IsNull() ? nullptr : &e.value;
  }
  return nullptr;
}

void MapView::RejectUnknown(std::span<const std::string_view> allowed) const {
  for (const Entry& e : entries_) {
    if (std::find(allowed.begin(), allowed.end(), e.key) != allowed.end()) continue;
    auto similar = std::find_if(allowed.begin(), allowed.end(),
                                [&](std::string_view a) { return EqualsIgnoringCase(a, e.key); });
    std::string hint = similar != allowed.end() ? "did you mean " + Quote(*similar) + "?"
                                                : "allowed: " + JoinOr(allowed);
    sink_.Add(e.key_node, Path(e.key), "unknown field " + Quote(e.key) + " (" + hint + ")");
  }
}

std::string MapView::Path(std::string_view key) const {
  return path_.empty() ? std::string(key) : path_ + "." + std::string(key);
}

std::string Quote(std::string_view s) { return "\"" + std::string(s) + "\""; }

std::string Describe(const YAML::Node& node) {
  switch (node.Type()) {
    case YAML::NodeType::Scalar:
      return Quote(node.Scalar());
    case YAML::NodeType::Sequence:
      return "a list";
    case YAML::NodeType::Map:
      return "a mapping";
    case YAML::NodeType::Null:
    case YAML::NodeType::Undefined:
      break;
  }
  return "nothing";
}

std::string JoinOr(std::span<const std::string_view> allowed) {
  std::string out;
  for (size_t i = 0; i < allowed.size(); ++i) {
    if (i > 0) out += i + 1 == allowed.size() ? " or " : ", ";
    out += allowed[i];
  }
  return out;
}

std::optional<std::string> ReadString(const YAML::Node& node, const std::string& path,
                                      ErrorSink& sink) {
  if (node.IsScalar()) return node.Scalar();
  sink.Add(node, path, "must be a string, found " + Describe(node));
  return std::nullopt;
}

std::optional<std::vector<std::string>> ReadStringList(const YAML::Node& node,
                                                       const std::string& path,
                                                       std::string_view expectation,
                                                       ErrorSink& sink) {
  if (!node.IsSequence()) {
    sink.Add(node, path, "must be " + std::string(expectation) + ", found " + Describe(node));
    return std::nullopt;
  }
  std::vector<std::string> out;
  bool ok = true;
  for (size_t i = 0; i < node.size(); ++i) {
    auto item = ReadString(node[i], path + "[" + std::to_string(i) + "]", sink);
    ok = ok && item.has_value();
    if (item) out.push_back(std::move(*item));
  }
  if (!ok) return std::nullopt;
  return out;
}

std::optional<std::map<std::string, std::string>> ReadStringMap(const YAML::Node& node,
                                                                const std::string& path,
                                                                ErrorSink& sink) {
  if (!node.IsMap()) {
    sink.Add(node, path, "must be a mapping of strings to strings, found " + Describe(node));
    return std::nullopt;
  }
  const size_t before = sink.count();
  MapView view(node, path, sink);
  std::map<std::string, std::string> out;
  view.ForEach([&](const std::string& key, const YAML::Node&, const YAML::Node& value) {
    // Go decodes `key:` (null) into a map[string]string as "".
    if (value.IsNull()) {
      out[key] = "";
    } else if (auto text = ReadString(value, view.Path(key), sink)) {
      out[key] = *text;
    }
  });
  if (sink.count() != before) return std::nullopt;
  return out;
}

std::optional<Duration> ReadPositiveDuration(const YAML::Node& node, const std::string& path,
                                             ErrorSink& sink) {
  if (!node.IsScalar()) {
    sink.Add(node, path,
             "must be a duration such as \"30s\", \"10m\" or \"1h30m\", found " + Describe(node));
    return std::nullopt;
  }
  Result<Duration> parsed = ParseGoDuration(node.Scalar());
  if (!parsed.ok()) {
    sink.Add(node, path, parsed.error());
    return std::nullopt;
  }
  if (parsed.value() <= Duration::zero()) {
    sink.Add(node, path, "must be greater than 0, found " + Quote(node.Scalar()));
    return std::nullopt;
  }
  return parsed.value();
}

std::optional<bool> ReadBool(const YAML::Node& node, const std::string& path, ErrorSink& sink) {
  bool value = false;
  if (node.IsScalar() && !IsQuoted(node) && YAML::convert<bool>::decode(node, value)) {
    return value;
  }
  const char* quotes = node.IsScalar() && IsQuoted(node) ? " without quotes" : "";
  sink.Add(node, path, std::string("must be true or false") + quotes + ", found " + Describe(node));
  return std::nullopt;
}

std::optional<int64_t> ReadInt(const YAML::Node& node, const std::string& path, int64_t min,
                               ErrorSink& sink) {
  if (node.IsScalar() && !IsQuoted(node)) {
    const std::string& text = node.Scalar();
    int64_t value = 0;
    auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
    if (ec == std::errc() && end == text.data() + text.size() && value >= min) return value;
  }
  const char* quotes = node.IsScalar() && IsQuoted(node) ? " without quotes" : "";
  sink.Add(node, path,
           "must be an integer >= " + std::to_string(min) + quotes + ", found " + Describe(node));
  return std::nullopt;
}

std::optional<std::string> ReadEnum(const YAML::Node& node, const std::string& path,
                                    std::span<const std::string_view> allowed, ErrorSink& sink) {
  auto text = ReadString(node, path, sink);
  if (!text) return std::nullopt;
  if (std::find(allowed.begin(), allowed.end(), *text) != allowed.end()) return text;
  sink.Add(node, path, "invalid value " + Quote(*text) + " (use " + JoinOr(allowed) + ")");
  return std::nullopt;
}

}  // namespace sonde::config_internal
