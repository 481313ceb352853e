// The dns and tls kinds' YAML options, parsed through the registry as the config loader does:
// accepted options build a probe, and every mistake is reported with its field and position.
#include <gtest/gtest.h>

#include "probe/registry.hpp"

namespace sonde {
namespace {

struct Parsed {
  std::shared_ptr<const Probe> probe;
  std::vector<std::string> errors;  // ConfigError::ToString()
};

Parsed ParseOptions(std::string_view kind, const std::string& yaml) {
  const ProbeRegistry registry = BuiltinProbes();
  TlsContextCache tls;
  const ProbeKind* k = registry.Find(kind);
  EXPECT_NE(k, nullptr);
  std::vector<ConfigError> errors;
  config_internal::ErrorSink sink("/etc/sonde/checks/c.yaml", 0, errors);
  const YAML::Node node = YAML::Load(yaml);
  Parsed out;
  out.probe =
      k->parse(config_internal::MapView(node, "spec.probe." + std::string(kind), sink), tls);
  for (const ConfigError& e : errors) out.errors.push_back(e.ToString());
  return out;
}

TEST(ProbeOptions, Dns) {
  struct Case {
    std::string yaml;
    std::string target;  // of the probe built; "" when errors are expected
    std::vector<std::string> errors;
  };
  const std::string f = "/etc/sonde/checks/c.yaml:";
  const Case cases[] = {
      {"{name: example.test, server: 127.0.0.1}", "A example.test @127.0.0.1:53", {}},
      {"{name: example.test, type: MX, server: '[::1]:5353', transport: tcp}",
       "MX example.test @[::1]:5353",
       {}},
      {"{type: ANY, server: 127.0.0.1, color: red}",
       "",
       {f + "1:32: spec.probe.dns.color: unknown field \"color\" (allowed: name, type, server "
            "or transport)",
        f + "1:1: spec.probe.dns.name: is required, e.g. example.com",
        f + "1:8: spec.probe.dns.type: invalid value \"ANY\" (use A, AAAA, CNAME, MX, NS, TXT, "
            "PTR, SRV or SOA)"}},
      {"{name: example.test, server: '127.0.0.1:99999'}",
       "",
       {f + "1:8: spec.probe.dns: server: port \"99999\" must be 1 to 65535"}},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.yaml);
    const Parsed p = ParseOptions("dns", c.yaml);
    if (c.target.empty()) {
      EXPECT_EQ(p.probe, nullptr);
    } else {
      ASSERT_NE(p.probe, nullptr) << (p.errors.empty() ? "" : p.errors[0]);
      EXPECT_EQ(p.probe->Target(), c.target);
    }
    EXPECT_EQ(p.errors, c.errors);
  }
}

TEST(ProbeOptions, Tls) {
  struct Case {
    std::string yaml;
    std::string target;
    std::vector<std::string> errors;
  };
  const std::string f = "/etc/sonde/checks/c.yaml:";
  const Case cases[] = {
      {"{address: 'example.test:443'}", "tls://example.test:443", {}},
      {"{address: '[::1]:8443', insecureSkipVerify: true, serverName: db, ipFamily: ip6}",
       "tls://[::1]:8443",
       {}},
      {"{address: example.test}",
       "",
       {f + "1:11: spec.probe.tls.address: \"example.test\" is not host:port (IPv6 hosts go in "
            "brackets)"}},
      {"{address: 'a:1', caFile: missing.pem}",
       "",
       {f + "1:11: spec.probe.tls: cannot load CA file /etc/sonde/checks/missing.pem"}},
      {"{}", "", {f + "1:1: spec.probe.tls.address: is required, e.g. example.com:443"}},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.yaml);
    const Parsed p = ParseOptions("tls", c.yaml);
    if (c.target.empty()) {
      EXPECT_EQ(p.probe, nullptr);
    } else {
      ASSERT_NE(p.probe, nullptr) << (p.errors.empty() ? "" : p.errors[0]);
      EXPECT_EQ(p.probe->Target(), c.target);
    }
    EXPECT_EQ(p.errors, c.errors);
  }
}

}  // namespace
}  // namespace sonde
