// Conditions on a probe's Observation, in Gatus's syntax, parsed once when the config loads:
//
//   [STATUS] == 200            [STATUS] == any(200, 3xx, 500-503)     [STATUS] < 400
//   [BODY] == pat(*healthy*)   [BODY] =~ "^ok\b"                      [BODY].data[0].id == 7
//   len([BODY].items) > 0      has([BODY].version) == true             [RESPONSE_TIME] < 300
//   [CERTIFICATE_EXPIRATION] > 30d   [CONNECTED] == true   [DNS_RCODE] == NOERROR
//   [DNS_ANSWERS] == 127.0.0.1 (some answer is)   [IP] == 127.0.0.1
//
// Times compare in milliseconds when the right side is a bare number, or as a duration with a
// unit ("500ms", "48h", "30d"). A list placeholder matches `==` when some element does.
// Evaluation is pure: the caller passes the time that certificate expiry is measured from.
// Thread safety: a parsed Condition is immutable; share it freely.
#pragma once

#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "core/result.hpp"
#include "core/time.hpp"
#include "probe/observation.hpp"

namespace sonde {

enum class Placeholder {
  kStatus,
  kBody,
  kResponseTime,
  kConnected,
  kIp,
  kCertificateExpiration,
  kDnsRcode,
  kDnsAnswers,
};

// "[STATUS]" for kStatus, and so on.
std::string_view PlaceholderName(Placeholder p);

class Condition {
 public:
  // Parses one condition. The error names the offending part and its 1-based column, e.g.
  // `column 12: "[STATUS] == abc": [STATUS] compares with a number, a class like 2xx or a
  // range like 200-299, found "abc"`.
  static Result<Condition> Parse(std::string_view text);

  // Nothing when the observation satisfies it; otherwise what was expected and what was seen,
  // e.g. `[STATUS] == 200: got 503`.
  std::optional<std::string> Check(const Observation& observation, TimePoint now) const;

  Placeholder placeholder() const;
  const std::string& text() const;

  struct Parsed;  // the parse tree, private to condition.cpp

 private:
  explicit Condition(std::shared_ptr<const Parsed> parsed) : parsed_(std::move(parsed)) {}
  std::shared_ptr<const Parsed> parsed_;
};

// The errors of one probe run: every failed condition's message, in order. A transport
// failure (observation.error) is the one error unless some condition is about [CONNECTED]:
// then only those conditions are checked (so `[CONNECTED] == false` asserts that a target is
// unreachable), and the transport failure is the error if one of them fails.
std::vector<std::string> EvaluateConditions(std::span<const Condition> conditions,
                                            const Observation& observation, TimePoint now);

}  // namespace sonde
