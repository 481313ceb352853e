// The dns check (kuberhealthy/dns-resolution-check, the "dns-status" checks): HOSTNAME must
// resolve. Kuberhealthy asks the system resolver (A and AAAA) and can instead ask each pod
// behind DNS_POD_SELECTOR, which needs Kubernetes and is not supported here. Sonde sends one
// query of RECORD_TYPE (default A) to DNS_SERVER (host or host:port; default the first
// nameserver of /etc/resolv.conf) and, when EXPECTED_ANSWER is set, requires it among the
// answers. These three variables are Sonde extensions; HOSTNAME defaults, as in Kuberhealthy,
// to kubernetes.default.
#include "checks/check_kinds.hpp"
#include "checks/env_reader.hpp"
#include "core/clock.hpp"
#include "probe/dns_probe.hpp"

namespace sonde::checks_internal {

CheckOutcome RunDnsCheck(const CheckEnv& env, Duration budget) {
  EnvReader in(env);
  const std::string host = in.String("HOSTNAME", "kubernetes.default");
  const std::string type =
      in.OneOf("RECORD_TYPE", "A", {"A", "AAAA", "CNAME", "MX", "NS", "TXT", "PTR", "SRV", "SOA"});
  const std::string server = in.String("DNS_SERVER", "");
  const std::string expected = in.String("EXPECTED_ANSWER", "");
  if (env.Get("DNS_POD_SELECTOR")) {
    in.Problem("DNS_POD_SELECTOR needs Kubernetes and is not supported; use DNS_SERVER");
  }
  if (!in.ok()) return in.Outcome();
  auto probe = MakeDnsProbe({.name = host, .type = type, .server = server});
  if (!probe.ok()) return {{(server.empty() ? "" : "DNS_SERVER: ") + probe.error()}, true};

  const Observation o = RunProbeBlocking(*probe.value(), budget);
  std::vector<Condition> conditions =
      MustParse({"[DNS_RCODE] == NOERROR", "len([DNS_ANSWERS]) > 0"});
  std::optional<Condition> expect;
  if (!expected.empty()) {
    // Quoted, so that the value is taken literally whatever it contains.
    auto c = Condition::Parse("[DNS_ANSWERS] == \"" + expected + "\"");
    if (!c.ok()) return {{"EXPECTED_ANSWER \"" + expected + "\": " + c.error()}, true};
    conditions.push_back(c.value());
  }
  if (EvaluateConditions(conditions, o, SystemClock().Now()).empty()) return {};
  const std::string down = "DNS Status check determined that " + host + " is DOWN: ";
  if (!o.connected) return {{down + o.error}};
  const std::string who = probe.value()->Target();
  if (o.dns_rcode != "NOERROR") return {{down + who + " answered " + o.dns_rcode}};
  if (o.dns_answers.empty())
    return {{down + who + " answered NOERROR with no " + type + " records"}};
  return {{"DNS Status check: " + who + " answered " + o.body + ", expected " + expected}};
}

}  // namespace sonde::checks_internal
