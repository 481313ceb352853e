#include "probe/registry.hpp"

#include <cassert>

namespace sonde {

void ProbeRegistry::Add(ProbeKind kind) {
  assert(Find(kind.name) == nullptr);
  kinds_.push_back(std::move(kind));
}

const ProbeKind* ProbeRegistry::Find(std::string_view name) const {
  for (const ProbeKind& k : kinds_) {
    if (k.name == name) return &k;
  }
  return nullptr;
}

std::vector<std::string_view> ProbeRegistry::Names() const {
  std::vector<std::string_view> out;
  for (const ProbeKind& k : kinds_) out.push_back(k.name);
  return out;
}

ProbeRegistry BuiltinProbes() {
  ProbeRegistry r;
  RegisterHttpProbe(r);
  RegisterTcpProbe(r);
  RegisterDnsProbe(r);
  RegisterTlsProbe(r);
  return r;
}

}  // namespace sonde
