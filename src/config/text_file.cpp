#include "config/text_file.hpp"

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <memory>

namespace sonde::config_internal {
namespace {

void AddReadError(const std::string& path, std::vector<ConfigError>& errors) {
  ConfigError error;
  error.file = path;
  error.message = std::string("cannot read: ") + std::strerror(errno);
  errors.push_back(std::move(error));
}

}  // namespace

std::optional<std::string> ReadTextFile(const std::string& path, std::vector<ConfigError>& errors) {
  // stdio rather than iostreams: errno is reliable after fopen/fread failures.
  std::unique_ptr<std::FILE, int (*)(std::FILE*)> f(std::fopen(path.c_str(), "rb"), &std::fclose);
  if (!f) {
    AddReadError(path, errors);
    return std::nullopt;
  }
  std::string text;
  char buf[65536];
  size_t n = 0;
  while ((n = std::fread(buf, 1, sizeof(buf), f.get())) > 0) text.append(buf, n);
  if (std::ferror(f.get())) {
    AddReadError(path, errors);
    return std::nullopt;
  }
  return text;
}

}  // namespace sonde::config_internal
