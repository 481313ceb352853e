#include "config/probe_reader.hpp"

#include <algorithm>

namespace sonde::config_internal {
namespace {

std::string PlaceholderList(const std::vector<Placeholder>& placeholders) {
  std::string out;
  for (size_t i = 0; i < placeholders.size(); ++i) {
    if (i > 0) out += i + 1 == placeholders.size() ? " and " : ", ";
    out += PlaceholderName(placeholders[i]);
  }
  return out;
}

// Parses the conditions (or the kind's defaults); nullopt after reporting a problem.
std::optional<std::vector<Condition>> ReadConditions(const MapView& probe, const ProbeKind& kind) {
  const YAML::Node* node = probe.Get("conditions");
  std::vector<std::string> texts = kind.default_conditions;
  if (node != nullptr) {
    auto list = ReadStringList(*node, probe.Path("conditions"),
                               "a list of conditions, e.g. [\"[STATUS] == 200\"]", probe.sink());
    if (!list) return std::nullopt;
    texts = std::move(*list);
  }
  std::vector<Condition> out;
  bool ok = true;
  for (size_t i = 0; i < texts.size(); ++i) {
    const YAML::Node at = node != nullptr ? (*node)[i] : probe.node();
    const std::string path = probe.Path("conditions") + "[" + std::to_string(i) + "]";
    auto condition = Condition::Parse(texts[i]);
    if (!condition.ok()) {
      probe.sink().Add(at, path, condition.error());
      ok = false;
      continue;
    }
    const Placeholder p = condition.value().placeholder();
    if (std::find(kind.placeholders.begin(), kind.placeholders.end(), p) ==
        kind.placeholders.end()) {
      probe.sink().Add(at, path,
                       std::string(PlaceholderName(p)) + " is not available to " + kind.name +
                           " probes; they offer " + PlaceholderList(kind.placeholders));
      ok = false;
      continue;
    }
    out.push_back(std::move(condition).value());
  }
  if (!ok) return std::nullopt;
  return out;
}

}  // namespace

void ReadProbe(const MapView& spec, const LoadOptions& opts, CheckSpec& out) {
  const YAML::Node& node = *spec.Get("probe");
  ErrorSink& sink = spec.sink();
  if (!node.IsMap()) {
    sink.Add(node, "spec.probe", "must be a mapping with one probe kind, found " + Describe(node));
    return;
  }
  if (opts.probes == nullptr) {
    sink.Add(node, "spec.probe", "in-process probes are not available here");
    return;
  }
  MapView probe(node, "spec.probe", sink);
  const ProbeKind* kind = nullptr;
  const YAML::Node* options = nullptr;
  bool unknown = false;
  const std::vector<std::string_view> names = opts.probes->Names();
  probe.ForEach([&](const std::string& key, const YAML::Node& key_node, const YAML::Node& value) {
    if (key == "conditions") return;
    const ProbeKind* k = opts.probes->Find(key);
    if (k == nullptr) {
      unknown = true;
      sink.Add(
          key_node, probe.Path(key),
          "unknown probe kind " + Quote(key) + "; known: " + JoinOr(names) + ", and conditions");
    } else if (kind != nullptr) {
      sink.Add(key_node, probe.Path(key),
               "a probe has one kind; " + kind->name + " is already set");
    } else {
      kind = k;
      options = &value;
    }
  });
  if (kind == nullptr) {
    if (!unknown) {
      sink.Add(node, "spec.probe", "needs a probe kind: " + JoinOr(names));
    }
    return;
  }
  const std::string path = probe.Path(kind->name);
  if (!options->IsMap()) {
    sink.Add(*options, path,
             "must be a mapping of " + kind->name + " options, found " + Describe(*options));
    return;
  }
  auto definition = std::make_shared<ProbeDefinition>();
  definition->kind = kind->name;
  definition->probe = kind->parse(MapView(*options, path, sink), opts.probes->tls_contexts());
  auto conditions = ReadConditions(probe, *kind);
  if (!definition->probe || !conditions) return;
  definition->conditions = std::move(*conditions);
  out.probe.definition = std::move(definition);
  out.probe.source = YAML::Dump(node);
}

}  // namespace sonde::config_internal
