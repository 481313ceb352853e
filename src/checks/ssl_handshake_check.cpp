// The ssl-handshake check (kuberhealthy/ssl-handshake-check): a verified TLS handshake with
// DOMAIN_NAME:PORT must succeed.
//
// Which certificates are trusted: CA_FILE (a Sonde extension: a PEM file of CAs) when set;
// otherwise, with SELF_SIGNED=true, the file Kuberhealthy's check reads from its ConfigMap
// mount, /etc/ssl/selfsign/certificate.crt, when it exists; otherwise the system's store.
// With SELF_SIGNED=true and no such file, Kuberhealthy trusted whatever certificate the host
// presented, which proves only that a handshake completes; Sonde does the same by skipping
// verification. Kuberhealthy requires PORT and SELF_SIGNED; Sonde defaults them to 443 and
// false.
#include <filesystem>

#include "checks/check_kinds.hpp"
#include "checks/env_reader.hpp"
#include "core/clock.hpp"
#include "probe/tls_probe.hpp"

namespace sonde::checks_internal {

namespace {
constexpr const char* kMountedCert = "/etc/ssl/selfsign/certificate.crt";
}

CheckOutcome RunSslHandshakeCheck(const CheckEnv& env, Duration budget) {
  EnvReader in(env);
  const std::string domain = in.Required("DOMAIN_NAME", "example.com");
  const auto port = static_cast<uint16_t>(in.Int("PORT", 443, 1, 65535));
  const bool self_signed = in.Bool("SELF_SIGNED", false);
  TlsOptions tls;
  tls.ca_file = in.String("CA_FILE", "");
  if (!in.ok()) return in.Outcome();
  if (tls.ca_file.empty() && self_signed) {
    std::error_code ec;
    if (std::filesystem::exists(kMountedCert, ec)) {
      tls.ca_file = kMountedCert;
    } else {
      tls.verify = false;
    }
  }
  auto probe = MakeTlsProbe({.host = domain, .port = port, .tls = tls});
  if (!probe.ok()) {
    return {{(env.Get("CA_FILE") ? "CA_FILE: " : "") + probe.error()}, true};
  }
  const Observation o = RunProbeBlocking(*probe.value(), budget);
  const std::vector<Condition> conditions = MustParse({"[CONNECTED] == true"});
  if (EvaluateConditions(conditions, o, SystemClock().Now()).empty()) return {};
  return {{"unable to perform TLS handshake with " + domain + ":" + std::to_string(port) + ": " +
           StripTarget(*probe.value(), o.error)}};
}

}  // namespace sonde::checks_internal
