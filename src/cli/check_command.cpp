#include "cli/check_command.hpp"

#include <cstdio>
#include <iostream>

#include "checks/bundled_check.hpp"

namespace sonde {

int CheckCommand(const std::string& kind, bool list) {
  if (list) {
    for (const BundledCheck& c : BundledChecks()) {
      std::printf("%-19s %s\n", std::string(c.kind).c_str(), std::string(c.summary).c_str());
    }
    return 0;
  }
  if (kind.empty()) {
    std::cerr << "sonde check: name a check (sonde check --list shows them)\n";
    return 2;
  }
  const BundledCheck* check = FindBundledCheck(kind);
  if (!check) {
    std::cerr << "sonde check: no bundled check \"" << kind << "\"; there are:";
    for (const BundledCheck& c : BundledChecks()) std::cerr << " " << c.kind;
    std::cerr << "\n";
    return 2;
  }
  return RunBundledCheck(*check);
}

}  // namespace sonde
