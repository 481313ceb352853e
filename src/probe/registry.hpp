// The probe registry: the one list of probe kinds. The config loader asks it which kinds
// exist, which placeholders each kind's conditions may use, and to parse a kind's options.
// Adding a kind is one file (its Probe and its Register function) and one line in
// BuiltinProbes().
//
// Thread safety: a registry is filled once and then only read; reads are thread-safe.
#pragma once

#include <functional>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "config/yaml_reader.hpp"
#include "probe/net.hpp"
#include "probe/probe.hpp"

namespace sonde {

struct ProbeKind {
  std::string name;                             // key under spec.probe, e.g. "http"
  std::vector<Placeholder> placeholders;        // what its conditions may refer to
  std::vector<std::string> default_conditions;  // used when spec.probe.conditions is absent
  // Parses the options under spec.probe.<name>. Reports every problem through the view's
  // sink and returns nullptr when any was found. `tls` shares TLS contexts between probes.
  std::function<std::shared_ptr<const Probe>(const config_internal::MapView& options,
                                             TlsContextCache& tls)>
      parse;
};

class ProbeRegistry {
 public:
  // REQUIRES: no kind of that name was added before.
  void Add(ProbeKind kind);
  const ProbeKind* Find(std::string_view name) const;
  std::vector<std::string_view> Names() const;  // in the order added
  // The TLS contexts shared by the probes parsed with this registry. Not thread-safe: one
  // config load at a time per registry.
  TlsContextCache& tls_contexts() const { return *tls_; }

 private:
  std::vector<ProbeKind> kinds_;
  std::shared_ptr<TlsContextCache> tls_ = std::make_shared<TlsContextCache>();
};

// Every probe kind Sonde ships.
ProbeRegistry BuiltinProbes();

// One Register function per probe file.
void RegisterHttpProbe(ProbeRegistry& registry);
void RegisterTcpProbe(ProbeRegistry& registry);
void RegisterDnsProbe(ProbeRegistry& registry);
void RegisterTlsProbe(ProbeRegistry& registry);

}  // namespace sonde
