// The Dockerfile cannot be built here (no container runtime), so this checks what would break
// it: the build stage installs scripts/setup.sh's build packages, and the runtime stage installs
// the Debian package of every shared library `ldd` lists for the sonde binary of this build.
#include <gtest/gtest.h>

#include <array>
#include <cstdio>
#include <map>
#include <memory>
#include <regex>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "deploy/manifests.hpp"

namespace sonde::deploy_test {
namespace {

struct Stage {
  std::string from;
  std::set<std::string> packages;  // apt-get install arguments
  std::vector<std::string> instructions;
};

// The Dockerfile's stages, with continuation lines joined.
std::vector<Stage> ParseDockerfile(const std::string& text) {
  std::vector<Stage> stages;
  std::istringstream in(text);
  std::string line, joined;
  while (std::getline(in, line)) {
    if (line.starts_with("#")) continue;
    if (line.ends_with("\\")) {
      joined += line.substr(0, line.size() - 1) + " ";
      continue;
    }
    joined += line;
    if (joined.starts_with("FROM ")) stages.push_back({joined.substr(5), {}, {}});
    if (!stages.empty() && !joined.empty()) stages.back().instructions.push_back(joined);
    static const std::regex kInstall(R"(apt-get install ([^&]*))");
    for (auto it = std::sregex_iterator(joined.begin(), joined.end(), kInstall);
         it != std::sregex_iterator(); ++it) {
      std::istringstream words((*it)[1].str());
      for (std::string w; words >> w;) {
        if (!w.starts_with("-") && !stages.empty()) stages.back().packages.insert(w);
      }
    }
    joined.clear();
  }
  return stages;
}

// The words of scripts/setup.sh's `packages=( ... )`, comments dropped.
std::set<std::string> SetupPackages() {
  auto text = ReadText(SourcePath("scripts/setup.sh"));
  EXPECT_TRUE(text.ok()) << text.error();
  std::set<std::string> out;
  const std::string& s = text.ok() ? text.value() : std::string();
  const size_t start = s.find("packages=(");
  const size_t end = s.find(')', start);
  if (start == std::string::npos || end == std::string::npos) return out;
  std::istringstream lines(s.substr(start + 10, end - start - 10));
  for (std::string line; std::getline(lines, line);) {
    std::istringstream words(line.substr(0, line.find('#')));
    for (std::string w; words >> w;) out.insert(w);
  }
  return out;
}

Result<std::string> RunCommand(const std::string& command) {
  std::unique_ptr<FILE, int (*)(FILE*)> pipe(popen(command.c_str(), "r"), pclose);
  if (!pipe) return Result<std::string>::Error("cannot run " + command);
  std::string out;
  std::array<char, 4096> buf;
  for (size_t n; (n = fread(buf.data(), 1, buf.size(), pipe.get())) > 0;) out.append(buf.data(), n);
  return out;
}

std::vector<Stage> Stages() {
  auto text = ReadText(SourcePath("Dockerfile"));
  EXPECT_TRUE(text.ok()) << text.error();
  return ParseDockerfile(text.ok() ? text.value() : "");
}

TEST(Dockerfile, BuildsOnDebianAndRunsAsNonRootOnSlim) {
  const auto stages = Stages();
  ASSERT_EQ(stages.size(), 2u);
  EXPECT_EQ(stages[0].from, "debian:12 AS build");
  EXPECT_EQ(stages[1].from, "debian:12-slim");
  std::set<std::string> runtime(stages[1].instructions.begin(), stages[1].instructions.end());
  EXPECT_TRUE(runtime.count("COPY --from=build /src/build/release/sonde /usr/local/bin/sonde"));
  EXPECT_TRUE(runtime.count("ENTRYPOINT [\"sonde\"]"));
  // Numeric, matching the Deployment's runAsUser, so runAsNonRoot can check it.
  EXPECT_TRUE(runtime.count("USER 999:999"));
  bool builds_sonde = false;
  for (const auto& i : stages[0].instructions) {
    builds_sonde |= i.find("cmake --build build/release --target sonde") != std::string::npos;
  }
  EXPECT_TRUE(builds_sonde);
}

TEST(Dockerfile, BuildStageInstallsSetupShsBuildPackages) {
  // Only the tests, benchmarks and developer tools need these.
  const std::set<std::string> test_only = {"ccache",       "libbenchmark-dev", "curl",
                                           "procps",       "prometheus",       "openssl",
                                           "dnsmasq-base", "chromium",         "python3"};
  const auto stages = Stages();
  ASSERT_FALSE(stages.empty());
  const std::set<std::string> setup = SetupPackages();
  ASSERT_GT(setup.size(), 10u);
  for (const std::string& p : setup) {
    if (!test_only.count(p)) {
      EXPECT_TRUE(stages[0].packages.count(p)) << p;
    }
  }
  for (const char* p : {"nodejs", "npm"}) EXPECT_TRUE(stages[0].packages.count(p)) << p;
}

TEST(Dockerfile, RuntimeStageHasEveryLibraryTheBinaryLinks) {
  const auto stages = Stages();
  ASSERT_EQ(stages.size(), 2u);
  // In debian:12-slim already (Essential or required by apt itself).
  std::set<std::string> have = {"libc6", "libgcc-s1", "libstdc++6"};
  have.insert(stages[1].packages.begin(), stages[1].packages.end());
  const std::string binary = std::string(SONDE_BINARY_DIR) + "/sonde";
  auto ldd = RunCommand("ldd '" + binary + "' 2>&1");
  ASSERT_TRUE(ldd.ok()) << ldd.error();
  static const std::regex kLib(R"(=> (/\S+) \(0x)");
  const std::string& out = ldd.value();
  std::vector<std::string> libs;
  for (auto it = std::sregex_iterator(out.begin(), out.end(), kLib); it != std::sregex_iterator();
       ++it) {
    libs.push_back((*it)[1]);
  }
  // dpkg knows a file by the path its package installed, which with merged /usr may be the
  // /lib path ldd prints or the /usr/lib path it resolves to: ask for both, at once.
  std::string query = "dpkg -S";
  for (const std::string& lib : libs) {
    query += " '" + lib + "' '" + std::filesystem::weakly_canonical(lib).string() + "'";
  }
  auto dpkg = RunCommand(query + " 2>/dev/null");
  ASSERT_TRUE(dpkg.ok()) << dpkg.error();
  std::map<std::string, std::string> owner;  // path -> package ("libssl3:amd64: /usr/lib/...")
  std::istringstream lines(dpkg.value());
  for (std::string line; std::getline(lines, line);) {
    const size_t sep = line.find(": /");
    if (sep != std::string::npos) owner[line.substr(sep + 2)] = line.substr(0, line.find(':'));
  }
  int libraries = 0;
  for (const std::string& lib : libs) {
    std::string pkg =
        owner.count(lib) ? owner[lib] : owner[std::filesystem::weakly_canonical(lib).string()];
    ASSERT_FALSE(pkg.empty()) << lib << " belongs to no Debian package (dpkg -S)";
    ++libraries;
    // The sanitizer build links GCC's runtimes; the release image has none.
    if (pkg.starts_with("libasan") || pkg.starts_with("libubsan")) continue;
    EXPECT_TRUE(have.count(pkg)) << lib << " comes from " << pkg
                                 << ", which the runtime stage does not install";
  }
  EXPECT_GE(libraries, 5) << "ldd " << binary << ":\n" << out;
}

}  // namespace
}  // namespace sonde::deploy_test
