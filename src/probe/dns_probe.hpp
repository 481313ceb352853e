// The dns probe: one query (A, AAAA, CNAME, MX, NS, TXT, PTR, SRV or SOA) sent over UDP to a
// DNS server, retried over TCP when the answer comes back truncated. Packets are built and
// parsed by ldns (Debian's libldns), so no DNS wire format is written by hand here.
//
// Fills [CONNECTED] (a reply arrived), [DNS_RCODE] ("NOERROR", "NXDOMAIN", "SERVFAIL",
// "REFUSED", ...), [DNS_ANSWERS] (the data of the answer records of the queried type, in
// order), [BODY] (those answers joined by ", "), [RESPONSE_TIME] and [IP] (the server).
// Answer data, chosen to compare easily in conditions (as Gatus does):
//   A, AAAA: the address ("127.0.0.1", "::1")   CNAME, NS, PTR: the name ("a.example.test.")
//   MX: the exchange ("mail.example.test.", preference dropped)   SRV: "target.:port"
//   TXT: the strings concatenated, unquoted     SOA: the primary name server
// Names are absolute, with the trailing dot.
//
// Thread safety: immutable; Run() may be called concurrently from any executor.
// Failure: network problems are Observation::error values naming the query and the server,
// e.g. "A ok.test @127.0.0.1:5353: timed out after 2s".
#pragma once

#include <memory>
#include <span>
#include <string>
#include <string_view>

#include "core/result.hpp"
#include "probe/net.hpp"
#include "probe/probe.hpp"

namespace sonde {

struct DnsProbeConfig {
  std::string name;        // the name queried, e.g. "ok.test" (a trailing dot is optional)
  std::string type = "A";  // A, AAAA, CNAME, MX, NS, TXT, PTR, SRV, SOA (case-insensitive)
  std::string server;      // host, host:port or [v6]:port; empty: /etc/resolv.conf's first
  bool tcp = false;        // query over TCP from the start instead of UDP
};

// The record types the probe accepts, upper-case.
std::span<const std::string_view> DnsRecordTypes();

// The first "nameserver" of a resolv.conf file, as host:port with port 53 ("[::1]:53" for
// IPv6); an error naming the file when it has none or cannot be read.
Result<std::string> FirstNameserver(const std::string& resolv_conf = "/etc/resolv.conf");

// Validates the name, the type and the server (resolving the default server now, so that a
// missing resolv.conf is a config error). Errors name the problem, e.g.
// `unsupported record type "ANY" (want A, AAAA, CNAME, MX, NS, TXT, PTR, SRV or SOA)`.
Result<std::shared_ptr<const Probe>> MakeDnsProbe(DnsProbeConfig config);

}  // namespace sonde
