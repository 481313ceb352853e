// The http probe: one HTTP(S) request (following redirects unless told not to) whose status,
// body, response time, connected address and TLS certificate the conditions then judge.
// Placeholders: [STATUS], [BODY], [RESPONSE_TIME], [CONNECTED], [IP], [CERTIFICATE_EXPIRATION].
#pragma once

#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "core/result.hpp"
#include "probe/net.hpp"
#include "probe/probe.hpp"

namespace sonde {

struct HttpProbeConfig {
  std::string url;  // http:// or https://
  std::string method = "GET";
  std::vector<std::pair<std::string, std::string>> headers;  // override Host, User-Agent, ...
  std::string body;
  bool follow_redirects = true;  // up to 10, as curl -L and Go's client
  TlsOptions tls;
  IpFamily family = IpFamily::kAny;
  size_t max_body_bytes = 1024 * 1024;  // a longer body is an error, not a truncation
  TlsContext tls_context;  // prebuilt for `tls` (see TlsContextCache); null: built from `tls`
};

// Validates the URL, method and headers, and loads the TLS files. Errors name the field's
// problem, e.g. `unsupported scheme "ftp" (want http or https)`.
Result<std::shared_ptr<const Probe>> MakeHttpProbe(HttpProbeConfig config);

}  // namespace sonde
