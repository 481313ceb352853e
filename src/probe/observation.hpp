// What one probe run saw, whatever its kind: the input of condition evaluation.
// A plain value; safe to copy between threads.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "core/time.hpp"

namespace sonde {

struct Observation {
  // Empty when the target was reached. Otherwise a transport failure, naming the target,
  // e.g. "GET http://127.0.0.1:1/: connect: Connection refused". Set with connected=false.
  std::string error;
  bool connected = false;       // [CONNECTED]: the connection (and TLS handshake) succeeded
  Duration response_time{};     // [RESPONSE_TIME]: from start to the end of the exchange
  std::string ip;               // [IP]: the address connected to (or resolved)
  int status = 0;               // [STATUS]: HTTP status code
  std::string body;             // [BODY]: HTTP body, TCP reply, or DNS answers joined by ", "
  bool body_truncated = false;  // the body hit the probe's size bound
  // [CERTIFICATE_EXPIRATION]: the leaf certificate's notAfter, when a TLS handshake happened.
  std::optional<TimePoint> certificate_not_after;
  std::string dns_rcode;                 // [DNS_RCODE]: "NOERROR", "NXDOMAIN", ...
  std::vector<std::string> dns_answers;  // [DNS_ANSWERS]: answer records' data, in order
};

}  // namespace sonde
