#include "config/pod_spec_reader.hpp"

#include <map>
#include <string>

#include "checks/bundled_check.hpp"

namespace sonde::config_internal {
namespace {

constexpr std::string_view kCommandExample = R"(a list of strings, e.g. ["bash", "run.sh"])";
constexpr std::string_view kArgsExample = R"(a list of strings, e.g. ["--port", "8080"])";

struct RunAs {
  std::optional<int64_t> user;
  std::optional<int64_t> group;
};

// State shared by all containers of one pod.
struct PodContext {
  bool local_mode = false;
  const std::vector<std::string>* bundled_check_command = nullptr;
  RunAs pod_run_as;                                // pod-level securityContext
  std::map<std::string, std::string> name_owners;  // container name -> path of first use
};

RunAs ReadRunAs(const MapView& parent) {
  RunAs run_as;
  const YAML::Node* node = parent.Get("securityContext");
  if (node == nullptr) return run_as;
  const std::string path = parent.Path("securityContext");
  if (!node->IsMap()) {
    parent.sink().Add(*node, path, "must be a mapping, found " + Describe(*node));
    return run_as;
  }
  MapView sc(*node, path, parent.sink());
  if (const YAML::Node* v = sc.Get("runAsUser")) {
    run_as.user = ReadInt(*v, sc.Path("runAsUser"), 0, sc.sink());
  }
  if (const YAML::Node* v = sc.Get("runAsGroup")) {
    run_as.group = ReadInt(*v, sc.Path("runAsGroup"), 0, sc.sink());
  }
  return run_as;
}

std::optional<EnvVar> ReadEnvVar(const YAML::Node& node, const std::string& path, bool local_mode,
                                 ErrorSink& sink) {
  if (!node.IsMap()) {
    sink.Add(node, path, "must be a mapping with name and value, found " + Describe(node));
    return std::nullopt;
  }
  MapView entry(node, path, sink);
  EnvVar var;
  if (const YAML::Node* name = entry.Get("name")) {
    var.name = ReadString(*name, entry.Path("name"), sink).value_or("");
  } else {
    sink.Add(node, entry.Path("name"), "is required");
  }
  if (const YAML::Node* value = entry.Get("value")) {
    var.value = ReadString(*value, entry.Path("value"), sink).value_or("");
  }
  const YAML::Node* value_from = entry.Get("valueFrom");
  if (value_from != nullptr && local_mode) {
    sink.Add(*value_from, entry.Path("valueFrom"),
             "cannot be resolved in local mode (it reads from the Kubernetes API); use value");
  }
  return var;
}

void ReadEnv(const MapView& container, bool local_mode, std::vector<EnvVar>& env) {
  const YAML::Node* node = container.Get("env");
  if (node == nullptr) return;
  const std::string path = container.Path("env");
  if (!node->IsSequence()) {
    container.sink().Add(*node, path,
                         "must be a list of {name, value} entries, found " + Describe(*node));
    return;
  }
  for (size_t i = 0; i < node->size(); ++i) {
    const std::string item_path = path + "[" + std::to_string(i) + "]";
    auto var = ReadEnvVar((*node)[i], item_path, local_mode, container.sink());
    if (var) env.push_back(std::move(*var));
  }
}

void ReadName(const MapView& container, PodContext& ctx, Container& out) {
  const std::string path = container.Path("name");
  const YAML::Node* node = container.Get("name");
  if (node == nullptr) {
    container.sink().Add(container.node(), path, "is required");
    return;
  }
  auto name = ReadString(*node, path, container.sink());
  if (!name) return;
  if (name->empty()) {
    container.sink().Add(*node, path, "must not be empty");
    return;
  }
  auto [owner, inserted] = ctx.name_owners.emplace(*name, path);
  if (!inserted) {
    container.sink().Add(*node, path,
                         "duplicate container name " + Quote(*name) + " (already used by " +
                             owner->second + "; names must be unique in the pod)");
  }
  out.name = *name;
}

// Without Kubernetes there is no image to take an entrypoint from, so the command must name
// a program on this machine.
void RequireLocalCommand(const MapView& container, const Container& out) {
  const YAML::Node* command = container.Get("command");
  const std::string image = out.image.empty() ? "an image" : "image " + Quote(out.image);
  container.sink().Add(command != nullptr ? *command : container.node(), container.Path("command"),
                       "is required in local mode: Sonde runs the container's command as a local "
                       "process and cannot use the entrypoint of " +
                           image +
                           "; set command (and args) to a program on this machine, e.g. "
                           "command: [\"bash\", \"run.sh\"]");
}

std::optional<std::vector<std::string>> ReadList(const MapView& m, std::string_view key,
                                                 std::string_view expectation) {
  const YAML::Node* node = m.Get(key);
  if (node == nullptr) return std::vector<std::string>{};
  return ReadStringList(*node, m.Path(key), expectation, m.sink());
}

void ReadContainer(const YAML::Node& node, const std::string& path, PodContext& ctx,
                   ErrorSink& sink, std::vector<Container>& out) {
  if (!node.IsMap()) {
    sink.Add(node, path, "must be a mapping with name and command, found " + Describe(node));
    return;
  }
  MapView c(node, path, sink);
  Container container;
  ReadName(c, ctx, container);
  if (const YAML::Node* image = c.Get("image")) {
    container.image = ReadString(*image, c.Path("image"), sink).value_or("");
  }
  if (const YAML::Node* dir = c.Get("workingDir")) {
    container.working_dir = ReadString(*dir, c.Path("workingDir"), sink).value_or("");
  }
  auto command = ReadList(c, "command", kCommandExample);
  auto args = ReadList(c, "args", kArgsExample);
  if (ctx.local_mode && command && command->empty()) {
    const BundledCheck* bundled = FindBundledCheckForImage(container.image);
    if (bundled && ctx.bundled_check_command && !ctx.bundled_check_command->empty()) {
      *command = *ctx.bundled_check_command;
      command->emplace_back(bundled->kind);
    } else {
      RequireLocalCommand(c, container);
    }
  }
  container.command = std::move(command).value_or(std::vector<std::string>{});
  container.args = std::move(args).value_or(std::vector<std::string>{});
  ReadEnv(c, ctx.local_mode, container.env);
  const RunAs run_as = ReadRunAs(c);
  container.run_as_user = run_as.user ? run_as.user : ctx.pod_run_as.user;
  container.run_as_group = run_as.group ? run_as.group : ctx.pod_run_as.group;
  out.push_back(std::move(container));
}

void ReadContainerList(const MapView& pod_spec, std::string_view key, PodContext& ctx,
                       std::vector<Container>& out) {
  const YAML::Node* node = pod_spec.Get(key);
  if (node == nullptr) return;
  const std::string path = pod_spec.Path(key);
  if (!node->IsSequence()) {
    pod_spec.sink().Add(*node, path, "must be a list of containers, found " + Describe(*node));
    return;
  }
  for (size_t i = 0; i < node->size(); ++i) {
    ReadContainer((*node)[i], path + "[" + std::to_string(i) + "]", ctx, pod_spec.sink(), out);
  }
}

}  // namespace

void ReadPodSpec(const MapView& pod_spec, const LoadOptions& opts, PodSpec& pod) {
  PodContext ctx;
  ctx.local_mode = opts.local_mode;
  ctx.bundled_check_command = &opts.bundled_check_command;
  ctx.pod_run_as = ReadRunAs(pod_spec);
  // Lists are read in file order so a duplicate name is reported at its second use.
  pod_spec.ForEach([&](const std::string& key, const YAML::Node&, const YAML::Node&) {
    if (key == "initContainers") ReadContainerList(pod_spec, key, ctx, pod.init_containers);
    if (key == "containers") ReadContainerList(pod_spec, key, ctx, pod.containers);
  });
  const YAML::Node* containers = pod_spec.Get("containers");
  if (containers == nullptr) {
    pod_spec.sink().Add(pod_spec.node(), pod_spec.Path("containers"),
                        "is required (list at least one container)");
  } else if (containers->IsSequence() && containers->size() == 0) {
    pod_spec.sink().Add(*containers, pod_spec.Path("containers"),
                        "must list at least one container");
  }
}

}  // namespace sonde::config_internal
