#include "cli/check_files.hpp"

#include <sys/stat.h>

#include <algorithm>
#include <filesystem>

namespace sonde {
namespace {

namespace fs = std::filesystem;

bool IsYaml(const fs::path& p) { return p.extension() == ".yaml" || p.extension() == ".yml"; }

bool Hidden(const fs::path& p) {
  const std::string name = p.filename().string();
  return !name.empty() && name[0] == '.';
}

void AddFile(const fs::path& p, std::vector<std::string>& out) {
  struct stat st {};
  if (::stat(p.c_str(), &st) != 0) {
    out.push_back(p.string() + "|missing");
    return;
  }
  out.push_back(p.string() + "|" + std::to_string(st.st_size) + "|" +
                std::to_string(st.st_mtim.tv_sec) + "." + std::to_string(st.st_mtim.tv_nsec) + "|" +
                std::to_string(st.st_ino));
}

}  // namespace

std::string CheckFilesFingerprint(const std::vector<std::string>& paths) {
  std::vector<std::string> items;
  for (const auto& root : paths) {
    std::error_code ec;
    if (!fs::is_directory(root, ec)) {
      AddFile(root, items);
      continue;
    }
    fs::recursive_directory_iterator it(root, fs::directory_options::skip_permission_denied, ec);
    for (; !ec && it != fs::recursive_directory_iterator(); it.increment(ec)) {
      if (Hidden(it->path())) {
        if (it->is_directory(ec)) it.disable_recursion_pending();
        continue;
      }
      if (it->is_regular_file(ec) && IsYaml(it->path())) AddFile(it->path(), items);
    }
    if (ec) items.push_back(root + "|" + ec.message());
  }
  std::sort(items.begin(), items.end());
  std::string out;
  for (const auto& i : items) out += i + "\n";
  return out;
}

LoadOptions LocalLoadOptions(const ProbeRegistry& probes) {
  LoadOptions options;
  options.local_mode = true;
  options.probes = &probes;
  std::error_code ec;
  const auto self = std::filesystem::read_symlink("/proc/self/exe", ec);
  if (!ec) options.bundled_check_command = {self.string(), "check"};
  return options;
}

}  // namespace sonde
