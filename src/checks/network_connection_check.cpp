// The network-connection check (kuberhealthy/network-connection-check): connect to
// CONNECTION_TARGET (tcp://host:port, udp://host:port, or host:port meaning tcp) and report it
// DOWN when that fails, or, with CONNECTION_TARGET_UNREACHABLE=true, report it when the
// connection succeeds. CONNECTION_TIMEOUT (a Go duration) bounds the attempt; Kuberhealthy
// documents it but its code waits for the whole run instead.
//
// Differences, on purpose: Kuberhealthy passes with CONNECTION_TARGET_UNREACHABLE=true even
// when the target answers, and a Go UDP "dial" never fails; Sonde fails the former and sends a
// datagram for udp://, calling the target unreachable when ICMP says the port is closed.
#include "checks/check_kinds.hpp"
#include "checks/env_reader.hpp"
#include "core/clock.hpp"
#include "probe/tcp_probe.hpp"

namespace sonde::checks_internal {

CheckOutcome RunNetworkConnectionCheck(const CheckEnv& env, Duration budget) {
  EnvReader in(env);
  const std::string target = in.Required("CONNECTION_TARGET", "tcp://example.com:443");
  const bool unreachable = in.Bool("CONNECTION_TARGET_UNREACHABLE", false);
  const Duration timeout = std::min(in.PositiveDuration("CONNECTION_TIMEOUT", budget), budget);
  TcpProbeConfig config;
  std::string address = target;
  if (const size_t sep = target.find("://"); sep != std::string::npos) {
    const std::string scheme = target.substr(0, sep);
    if (scheme == "udp") {
      config.udp = true;
    } else if (scheme != "tcp") {
      in.Problem("CONNECTION_TARGET \"" + target + "\" must be tcp://host:port or udp://host:port");
    }
    address = target.substr(sep + 3);
  }
  if (!target.empty()) {
    auto hp = ParseHostPort(address);
    if (!hp.ok()) {
      in.Problem("CONNECTION_TARGET \"" + target + "\": " + hp.error());
    } else {
      config.host = hp.value().host;
      config.port = hp.value().port;
    }
  }
  if (!in.ok()) return in.Outcome();

  auto probe = MakeTcpProbe(config);
  const Observation o = RunProbeBlocking(*probe, timeout);
  const std::vector<Condition> conditions =
      MustParse({unreachable ? "[CONNECTED] == false" : "[CONNECTED] == true"});
  if (EvaluateConditions(conditions, o, SystemClock().Now()).empty()) return {};
  const std::string who = "Network connection check determined that " + target;
  if (unreachable) {
    return {
        {who + " is UP (connected to " + o.ip + "), but CONNECTION_TARGET_UNREACHABLE is true"}};
  }
  return {{who + " is DOWN: " + StripTarget(*probe, o.error)}};
}

}  // namespace sonde::checks_internal
