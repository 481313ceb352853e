#include "contract/report.hpp"

#include <boost/json/monotonic_resource.hpp>
#include <boost/json/parse.hpp>
#include <boost/json/value.hpp>

#include <cctype>

namespace sonde {
namespace {

bool EqualFold(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    if (std::tolower(static_cast<unsigned char>(a[i])) !=
        std::tolower(static_cast<unsigned char>(b[i]))) {
      return false;
    }
  }
  return true;
}

Result<Report> Reject(std::string why) { return Result<Report>::Error(std::move(why)); }

}  // namespace

Result<Report> ParseReport(std::string_view body) {
  if (body.empty()) return Reject("empty body: expected JSON like {\"OK\": true}");
  boost::system::error_code ec;
  boost::json::parse_options opts;
  opts.max_depth = 16;
  // A report is small: its tree fits on the stack, so parsing it allocates nothing (a bigger
  // one spills to the heap).
  unsigned char scratch[2048];
  boost::json::monotonic_resource arena(scratch, sizeof scratch);
  const boost::json::value doc = boost::json::parse(body, ec, &arena, opts);
  if (ec) return Reject("malformed JSON: " + ec.message());
  if (!doc.is_object()) return Reject("expected a JSON object like {\"OK\": true}");

  const boost::json::value* ok = nullptr;
  const boost::json::value* errors = nullptr;
  for (const auto& kv : doc.as_object()) {
    if (EqualFold(kv.key(), "ok")) ok = &kv.value();
    if (EqualFold(kv.key(), "errors")) errors = &kv.value();
  }
  if (ok == nullptr) return Reject("missing \"OK\": expected true or false");
  if (!ok->is_bool()) return Reject("\"OK\" must be true or false");

  Report report;
  report.ok = ok->as_bool();
  if (errors != nullptr && !errors->is_null()) {
    if (!errors->is_array()) return Reject("\"Errors\" must be an array of strings");
    for (const auto& e : errors->as_array()) {
      if (!e.is_string()) return Reject("\"Errors\" must be an array of strings");
      report.errors.emplace_back(e.as_string().c_str(), e.as_string().size());
    }
  }
  if (report.ok && !report.errors.empty()) {
    return Reject("\"OK\" is true but \"Errors\" is not empty: a passing check has no errors");
  }
  if (!report.ok && report.errors.empty()) {
    return Reject("\"OK\" is false but \"Errors\" is empty: say what failed");
  }
  for (const auto& e : report.errors) {
    if (e.find_first_not_of(" \t\r\n") == std::string::npos) {
      return Reject("\"Errors\" contains an empty error string: say what failed");
    }
  }
  return report;
}

}  // namespace sonde
