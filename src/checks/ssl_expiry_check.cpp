// The ssl-expiry check (kuberhealthy/ssl-expiry-check): a TLS handshake with DOMAIN_NAME:PORT
// (verifying the certificate unless INSECURE=true) whose leaf certificate must not be expired
// and must be valid for more than DAYS days. Kuberhealthy requires PORT, DAYS and INSECURE;
// Sonde defaults them to 443, 60 (the documented default) and false.
#include "checks/check_kinds.hpp"
#include "checks/env_reader.hpp"
#include "core/clock.hpp"
#include "probe/tls_probe.hpp"

namespace sonde::checks_internal {

CheckOutcome RunSslExpiryCheck(const CheckEnv& env, Duration budget) {
  EnvReader in(env);
  const std::string domain = in.Required("DOMAIN_NAME", "example.com");
  const auto port = static_cast<uint16_t>(in.Int("PORT", 443, 1, 65535));
  const int64_t days = in.Int("DAYS", 60, 0, 100'000);
  const bool insecure = in.Bool("INSECURE", false);
  if (!in.ok()) return in.Outcome();
  auto probe = MakeTlsProbe({.host = domain, .port = port, .tls = {.verify = !insecure}});
  if (!probe.ok()) return {{"DOMAIN_NAME: " + probe.error()}, true};

  const Observation o = RunProbeBlocking(*probe.value(), budget);
  const TimePoint now = SystemClock().Now();
  const std::string cert = "Certificate for domain " + domain;
  if (!o.connected) {
    std::string message = "SSL expiry check for " + domain + ":" + std::to_string(port) +
                          " failed: " + StripTarget(*probe.value(), o.error);
    if (o.certificate_not_after && *o.certificate_not_after < now) {
      message += "; it expired " + DaysLeftText(*o.certificate_not_after, now);
    }
    return {{message}};
  }
  const std::vector<Condition> conditions = MustParse(
      {"[CERTIFICATE_EXPIRATION] > 0", "[CERTIFICATE_EXPIRATION] > " + std::to_string(days) + "d"});
  const std::vector<std::string> errors = EvaluateConditions(conditions, o, now);
  if (errors.empty()) return {};
  if (!o.certificate_not_after) return {{cert + ": " + errors.front()}};
  if (*o.certificate_not_after < now) {
    return {{cert + " is expired: it expired " + DaysLeftText(*o.certificate_not_after, now)}};
  }
  return {{cert + " is expiring in less than " + std::to_string(days) + " days: it expires in " +
           DaysLeftText(*o.certificate_not_after, now)}};
}

}  // namespace sonde::checks_internal
