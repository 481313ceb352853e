#include "config/check_loader.hpp"

#include <algorithm>
#include <filesystem>
#include <map>
#include <set>

#include "config/check_document.hpp"
#include "config/text_file.hpp"
#include "config/yaml_reader.hpp"

namespace sonde {
namespace {

namespace fs = std::filesystem;
using config_internal::DocumentCheck;
using config_internal::ErrorSink;

// Where each check was first defined ("file:line"), across everything one call loads.
using Definitions = std::map<CheckKey, std::string>;

std::string BaseDir(const std::string& file) {
  const fs::path parent = fs::path(file).parent_path();
  return parent.empty() ? "." : parent.string();
}

std::optional<DocumentCheck> ReadDocument(const YAML::Node& doc, const LoadOptions& opts,
                                          ErrorSink& sink) {
  try {
    return config_internal::ReadCheckDocument(doc, opts, sink);
  } catch (const YAML::Exception& e) {  // not expected: readers check node types first
    sink.AddAt(e.mark, "", "invalid YAML: " + e.msg);
  }
  return std::nullopt;
}

void AddCheck(DocumentCheck parsed, const std::string& file, ErrorSink& sink, Definitions& defs,
              LoadResult& out) {
  CheckSpec& spec = parsed.spec;
  const std::string location = file + ":" + std::to_string(sink.Line(parsed.name_mark));
  auto [first, inserted] = defs.emplace(spec.key, location);
  if (!inserted) {
    sink.AddAt(parsed.name_mark, "metadata.name",
               "duplicate check " + spec.key.str() + ": already defined at " + first->second);
    return;
  }
  out.checks.push_back(std::move(spec));
}

void ParseInto(std::string_view text, const std::string& file, const LoadOptions& opts,
               Definitions& defs, LoadResult& out) {
  std::vector<ConfigError> errors;
  // One copy of each per file, shared by all of its checks.
  const SharedString shared_file(file);
  const SharedString base_dir(BaseDir(file));
  for (const config_internal::DocumentChunk& chunk : config_internal::SplitDocuments(text)) {
    ErrorSink sink(file, chunk.first_line, errors);
    const std::optional<YAML::Node> doc = config_internal::ParseDocument(chunk, sink);
    if (!doc || doc->IsNull()) continue;
    auto parsed = ReadDocument(*doc, opts, sink);
    if (!parsed) continue;
    parsed->spec.source_file = shared_file;
    parsed->spec.source_line = sink.Line(doc->Mark());
    parsed->spec.base_dir = base_dir;
    AddCheck(std::move(*parsed), file, sink, defs, out);
  }
  config_internal::SortByPosition(errors);
  out.errors.insert(out.errors.end(), errors.begin(), errors.end());
}

ConfigError PathError(const std::string& path, const std::string& message) {
  ConfigError e;
  e.file = path;
  e.message = message;
  return e;
}

bool IsCheckFile(const fs::directory_entry& entry) {
  std::error_code ec;
  const std::string ext = entry.path().extension().string();
  return (ext == ".yaml" || ext == ".yml") && entry.is_regular_file(ec);
}

// Appends the check files under `dir`, sorted by path. Hidden entries are skipped so editor
// swap files and VCS directories are never loaded.
void ListDirectory(const std::string& dir, std::vector<std::string>& files,
                   std::vector<ConfigError>& errors) {
  std::vector<std::string> found;
  std::error_code ec;
  fs::recursive_directory_iterator it(dir, ec);
  for (; !ec && it != fs::recursive_directory_iterator(); it.increment(ec)) {
    if (it->path().filename().string().starts_with(".")) {
      it.disable_recursion_pending();
      continue;
    }
    if (IsCheckFile(*it)) found.push_back(it->path().string());
  }
  if (ec) errors.push_back(PathError(dir, "cannot list directory: " + ec.message()));
  std::sort(found.begin(), found.end());
  files.insert(files.end(), found.begin(), found.end());
}

// The files `path` names: itself, or the check files under it when it is a directory.
std::vector<std::string> ListCheckFiles(const std::string& path, std::vector<ConfigError>& errors) {
  std::vector<std::string> files;
  std::error_code ec;
  const fs::file_status status = fs::status(path, ec);
  if (ec) {
    errors.push_back(PathError(path, "cannot read: " + ec.message()));
  } else if (fs::is_directory(status)) {
    ListDirectory(path, files, errors);
  } else {
    files.push_back(path);
  }
  return files;
}

}  // namespace

LoadResult ParseChecks(std::string_view text, const std::string& file, const LoadOptions& opts) {
  LoadResult out;
  Definitions defs;
  ParseInto(text, file, opts, defs, out);
  return out;
}

LoadResult LoadChecks(const std::vector<std::string>& paths, const LoadOptions& opts) {
  LoadResult out;
  Definitions defs;
  std::set<fs::path> seen;
  for (const std::string& path : paths) {
    for (const std::string& file : ListCheckFiles(path, out.errors)) {
      std::error_code ec;
      const fs::path canonical = fs::weakly_canonical(file, ec);
      if (!seen.insert(ec ? fs::path(file) : canonical).second) continue;
      if (auto text = config_internal::ReadTextFile(file, out.errors))
        ParseInto(*text, file, opts, defs, out);
    }
  }
  return out;
}

}  // namespace sonde
