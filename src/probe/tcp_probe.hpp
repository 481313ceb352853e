// The tcp probe: connects to host:port over TCP (or sends a datagram over UDP), optionally
// sends bytes and reads the reply. Placeholders: [CONNECTED], [RESPONSE_TIME], [IP], [BODY]
// (the reply). UDP is connectionless: a target counts as reachable unless it answers with
// ICMP port-unreachable ("Connection refused") within the wait.
#pragma once

#include <memory>
#include <string>

#include "probe/net.hpp"
#include "probe/probe.hpp"

namespace sonde {

struct TcpProbeConfig {
  std::string host;
  uint16_t port = 0;
  bool udp = false;
  std::string send;         // written after connecting; empty: nothing (TCP) or "" (UDP)
  bool read_reply = false;  // read a reply (always when `send` is set)
  IpFamily family = IpFamily::kAny;
};

std::shared_ptr<const Probe> MakeTcpProbe(TcpProbeConfig config);

}  // namespace sonde
