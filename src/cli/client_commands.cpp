#include "cli/client_commands.hpp"

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <boost/json/value.hpp>
#include <boost/json/value_to.hpp>
#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <iostream>

#include "cli/check_files.hpp"
#include "cli/http_client.hpp"
#include "config/check_loader.hpp"

namespace sonde {
namespace {

namespace json = boost::json;

int64_t Int(const json::object& o, const char* key) {
  auto it = o.find(key);
  return it != o.end() && it->value().is_int64() ? it->value().as_int64() : 0;
}

std::string Ago(int64_t unix_seconds) {
  if (unix_seconds == 0) return "never";
  const int64_t d = static_cast<int64_t>(std::time(nullptr)) - unix_seconds;
  return FormatGoDuration(std::chrono::seconds(std::max<int64_t>(0, d))) + " ago";
}

std::string StateOf(const json::object& o) {
  if (!json::value_to<std::string>(o.at("currentUUID")).empty()) return "RUNNING";
  if (Int(o, "lastRunUnix") == 0 && Int(o, "successCount") + Int(o, "failureCount") == 0) {
    return "PENDING";
  }
  return o.at("ok").as_bool() ? "OK" : "FAILING";
}

std::string FirstError(const json::object& o) {
  auto it = o.find("errors");
  if (it == o.end() || !it->value().is_array() || it->value().as_array().empty()) return "";
  std::string e = json::value_to<std::string>(it->value().as_array()[0]);
  for (char& c : e) {
    if (c == '\n' || c == '\r' || c == '\t') c = ' ';
  }
  if (e.size() > 80) e = e.substr(0, 77) + "...";
  return e;
}

void PrintRow(const std::string& a, const std::string& b, const std::string& c,
              const std::string& d, const std::string& e) {
  std::printf("%-40s %-8s %-16s %-16s %s\n", a.c_str(), b.c_str(), c.c_str(), d.c_str(), e.c_str());
}

// Heartbeat checks' URLs and due times, from /api/checks (nothing when there are none).
void PrintHeartbeatUrls(const std::string& server) {
  auto r = HttpCall("GET", server + "/api/checks");
  if (!r.ok() || r.value().status != 200) return;
  boost::system::error_code ec;
  const json::value doc = json::parse(r.value().body, ec);
  if (ec || !doc.is_object()) return;
  bool header = false;
  for (const auto& c : doc.at("checks").as_array()) {
    const auto& o = c.as_object();
    const auto hb = o.find("heartbeat");
    if (hb == o.end() || !hb->value().is_object()) continue;
    const auto& h = hb->value().as_object();
    if (!header) std::printf("\n%-40s %-32s %s\n", "HEARTBEAT CHECK", "DUE", "URL");
    header = true;
    const std::string key = json::value_to<std::string>(o.at("namespace")) + "/" +
                            json::value_to<std::string>(o.at("name"));
    const std::string due = json::value_to<std::string>(h.at("due"));
    const std::string url =
        h.at("url").is_string() ? json::value_to<std::string>(h.at("url")) : "(not stored yet)";
    std::printf("%-40s %-32s %s\n", key.c_str(), due.c_str(), url.c_str());
  }
}

}  // namespace

std::string DefaultServer() {
  const char* env = std::getenv("SONDE_SERVER");
  return env && *env ? env : "http://127.0.0.1:8080";
}

int StatusCommand(const std::string& server, bool as_json) {
  auto r = HttpCall("GET", server + "/json");
  if (!r.ok()) {
    std::cerr << "sonde: " << r.error() << "\n";
    return 2;
  }
  if (r.value().status != 200) {
    std::cerr << "sonde: " << server << "/json answered " << r.value().status << ": " << r.value().body;
    return 2;
  }
  if (as_json) {
    std::cout << r.value().body;
    return 0;
  }
  boost::system::error_code ec;
  const json::value doc = json::parse(r.value().body, ec);
  if (ec || !doc.is_object()) {
    std::cerr << "sonde: " << server << "/json is not the JSON status document\n";
    return 2;
  }
  const json::object& top = doc.as_object();
  PrintRow("CHECK", "STATE", "LAST RUN", "DURATION", "ERROR");
  bool all_ok = true;
  for (const auto& kv : top.at("CheckDetails").as_object()) {
    const json::object& c = kv.value().as_object();
    const std::string state = StateOf(c);
    all_ok = all_ok && state != "FAILING";
    PrintRow(std::string(kv.key()), state, Ago(Int(c, "lastRunUnix")),
             FormatGoDuration(Duration{Int(c, "runDuration")}), FirstError(c));
  }
  if (!top.at("OK").as_bool()) all_ok = false;
  std::printf("\n%zu checks; overall %s\n", top.at("CheckDetails").as_object().size(),
              all_ok ? "OK" : "FAILING");
  PrintHeartbeatUrls(server);
  return all_ok ? 0 : 1;
}

int RunCommand(const std::string& server, const std::string& check) {
  const size_t slash = check.find('/');
  if (slash == std::string::npos || slash == 0 || slash + 1 == check.size()) {
    std::cerr << "sonde run: expected NAMESPACE/NAME, got \"" << check << "\"\n";
    return 2;
  }
  const std::string url = server + "/api/run?namespace=" + check.substr(0, slash) +
                          "&healthcheck=" + check.substr(slash + 1);
  auto r = HttpCall("POST", url);
  if (!r.ok()) {
    std::cerr << "sonde: " << r.error() << "\n";
    return 2;
  }
  (r.value().status == 202 ? std::cout : std::cerr) << r.value().body;
  return r.value().status == 202 ? 0 : 1;
}

namespace {

// Splits NAMESPACE/NAME into the API's query parameters; empty on a malformed argument.
std::string CheckQuery(const std::string& check) {
  const size_t slash = check.find('/');
  if (slash == std::string::npos || slash == 0 || slash + 1 == check.size()) return "";
  return "namespace=" + check.substr(0, slash) + "&healthcheck=" + check.substr(slash + 1);
}

// GETs a JSON document; prints the problem and returns null on failure.
json::value GetDocument(const std::string& url) {
  auto r = HttpCall("GET", url);
  if (!r.ok()) {
    std::cerr << "sonde: " << r.error() << "\n";
    return nullptr;
  }
  if (r.value().status != 200) {
    std::cerr << "sonde: " << url << " answered " << r.value().status << ": " << r.value().body;
    return nullptr;
  }
  boost::system::error_code ec;
  json::value doc = json::parse(r.value().body, ec);
  if (ec) std::cerr << "sonde: " << url << " did not answer JSON\n";
  return ec ? json::value(nullptr) : doc;
}

std::string Text(const json::value& v) {
  return v.is_string() ? std::string(v.as_string()) : v.is_null() ? "-" : json::serialize(v);
}

std::string Clip(std::string s, size_t max) {
  for (char& c : s) {
    if (c == '\n' || c == '\r' || c == '\t') c = ' ';
  }
  return s.size() > max ? s.substr(0, max - 3) + "..." : s;
}

std::string Secs(const json::value& v) {
  if (!v.is_number()) return "-";
  return FormatGoDuration(std::chrono::duration_cast<Duration>(
      std::chrono::duration<double>(v.to_number<double>())));
}

}  // namespace

int HistoryCommand(const std::string& server, const std::string& check, size_t limit, bool as_json) {
  const std::string query = CheckQuery(check);
  if (query.empty()) {
    std::cerr << "sonde history: expected NAMESPACE/NAME, got \"" << check << "\"\n";
    return 2;
  }
  const json::value doc = GetDocument(server + "/api/history?" + query + "&limit=" + std::to_string(limit));
  if (doc.is_null()) return 2;
  if (as_json) {
    std::cout << json::serialize(doc) << "\n";
    return 0;
  }
  std::printf("%-32s %-6s %-14s %-12s %s\n", "FINISHED", "RESULT", "DURATION", "ENDED BY", "ERROR");
  for (const auto& run : doc.at("runs").as_array()) {
    const auto& r = run.as_object();
    const auto& errors = r.at("errors").as_array();
    std::printf("%-32s %-6s %-14s %-12s %s\n", Text(r.at("finished")).c_str(),
                r.at("ok").as_bool() ? "OK" : "FAIL", Secs(r.at("durationSeconds")).c_str(),
                Text(r.at("endedBy")).c_str(),
                errors.empty() ? "" : Clip(Text(errors[0]), 80).c_str());
  }
  return 0;
}

int EventsCommand(const std::string& server, const std::string& check, bool as_json) {
  std::string url = server + "/api/events";
  if (!check.empty()) {
    const std::string query = CheckQuery(check);
    if (query.empty()) {
      std::cerr << "sonde events: expected NAMESPACE/NAME, got \"" << check << "\"\n";
      return 2;
    }
    url += "?" + query;
  }
  const json::value doc = GetDocument(url);
  if (doc.is_null()) return 2;
  if (as_json) {
    std::cout << json::serialize(doc) << "\n";
    return 0;
  }
  std::printf("%-36s %-32s %-32s %-14s %-6s %s\n", "CHECK", "START", "END", "DURATION", "RUNS",
              "FIRST ERROR");
  for (const auto& event : doc.at("events").as_array()) {
    const auto& e = event.as_object();
    const std::string key = Text(e.at("namespace")) + "/" + Text(e.at("name"));
    std::printf("%-36s %-32s %-32s %-14s %-6s %s\n", key.c_str(), Text(e.at("start")).c_str(),
                e.at("open").as_bool() ? "(open)" : Text(e.at("end")).c_str(),
                Secs(e.at("durationSeconds")).c_str(), Text(e.at("failedRuns")).c_str(),
                Clip(Text(e.at("firstError")), 60).c_str());
  }
  return 0;
}

int RotateUrlCommand(const std::string& server, const std::string& check) {
  const size_t slash = check.find('/');
  if (slash == std::string::npos || slash == 0 || slash + 1 == check.size()) {
    std::cerr << "sonde rotate-url: expected NAMESPACE/NAME, got \"" << check << "\"\n";
    return 2;
  }
  auto r = HttpCall("POST", server + "/api/heartbeat/rotate?namespace=" + check.substr(0, slash) +
                                "&healthcheck=" + check.substr(slash + 1));
  if (!r.ok()) {
    std::cerr << "sonde: " << r.error() << "\n";
    return 2;
  }
  if (r.value().status != 200) {
    std::cerr << r.value().body;
    return 1;
  }
  boost::system::error_code ec;
  const json::value doc = json::parse(r.value().body, ec);
  if (ec || !doc.is_object()) {
    std::cerr << "sonde: the daemon did not answer JSON\n";
    return 2;
  }
  std::cout << json::value_to<std::string>(doc.at("url")) << "\n";
  return 0;
}

int ValidateCommand(const std::vector<std::string>& paths) {
  const ProbeRegistry probes = BuiltinProbes();
  const LoadResult loaded = LoadChecks(paths, LocalLoadOptions(probes));
  for (const auto& e : loaded.errors) std::cerr << e.ToString() << "\n";
  std::cout << loaded.checks.size() << " checks valid, " << loaded.errors.size() << " problems\n";
  return loaded.errors.empty() ? 0 : 1;
}

}  // namespace sonde
