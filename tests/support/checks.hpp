// Test support: YAML and scripts for checks used by the integration tests.
#pragma once

#include <boost/json/value.hpp>
#include <cstdint>
#include <string>
#include <vector>

#include "support/daemon_process.hpp"

namespace sonde::testing {

struct CheckDef {
  std::string name;
  std::string script;  // script file name, relative to the checks directory
  std::string interval = "10m";
  std::string timeout = "30s";
  std::vector<std::pair<std::string, std::string>> env;
  std::string kind = "KuberhealthyCheck";  // or KuberhealthyJob, HealthCheck
  std::string ns = "default";
};

// A check document in the given kind's YAML shape, running `bash <script>`.
std::string CheckYaml(const CheckDef& def);

// A loopback TCP port nothing listens on (bound and closed again; another process may take it,
// which loopback tests on this machine do not).
uint16_t ClosedPort();
// The "errors" of a /json CheckDetails entry (none when the key is absent).
std::vector<std::string> DetailErrors(const boost::json::value& detail);

// A KuberhealthyCheck in namespace "probes" with a 5s timeout whose spec.probe is
// `probe_yaml` (indented by four spaces, e.g. "    http:\n      url: ...\n").
std::string ProbeCheck(const std::string& name, const std::string& interval,
                       const std::string& probe_yaml);

// Canned checker scripts, by behaviour.
extern const char* const kReportOkNoHeader;  // the seed's curl line
extern const char* const kReportErrors;      // OK=false, two errors, with the uuid header
extern const char* const kSilent;            // never reports
extern const char* const kCrash;             // writes to stderr, exits 3
extern const char* const kIgnoreTerm;        // ignores SIGTERM, never reports
extern const char* const kRecordAndWait;     // writes its URL to $OUT/<uuid>, sleeps

// GET /json parsed; a null value when it fails (with a test failure).
boost::json::value GetJson(const DaemonProcess& d, const std::string& path = "/json");
// The /json CheckDetails entry of ns/name, or null.
boost::json::value CheckDetail(const DaemonProcess& d, const std::string& key);

}  // namespace sonde::testing
