// One case per validation rule, each asserting the exact user-facing error text with its
// file:line:column, so message wording and positions are reviewed like an API.
#include <gtest/gtest.h>

#include "config/check_loader.hpp"

namespace sonde {
namespace {

struct Case {
  std::string name;
  std::string yaml;
  std::vector<std::string> want;
  bool local_mode = true;
};

std::vector<Case> Cases() {
  // Document heads are three lines, so spec content in the cases starts on line 4.
  const std::string v1 =
      "apiVersion: comcast.github.io/v1\nkind: KuberhealthyCheck\nmetadata: {name: c}\n";
  const std::string job =
      "apiVersion: comcast.github.io/v1\nkind: KuberhealthyJob\nmetadata: {name: c}\n";
  const std::string v3 =
      "apiVersion: kuberhealthy.github.io/v2\nkind: HealthCheck\nmetadata: {name: c}\n";
  const std::string pod = "  podSpec: {containers: [{name: m, command: [x]}]}\n";
  const std::string accepted =
      "accepted: apiVersion comcast.github.io/v1 with kind KuberhealthyCheck or KuberhealthyJob, "
      "or apiVersion kuberhealthy.github.io/v2 with kind HealthCheck";
  const std::string need_command =
      "is required in local mode: Sonde runs the container's command as a local process and "
      "cannot use the entrypoint of image \"img\"; set command (and args) to a program on this "
      "machine, e.g. command: [\"bash\", \"run.sh\"]";
  return {
      {"NotAMapping",
       "- a\n- b\n",
       {"c.yaml:1:1: a check must be a mapping with apiVersion, kind, metadata and spec, found a "
        "list"}},
      {"YamlSyntax", "a: b: c\n", {"c.yaml:1:5: invalid YAML: illegal map value"}},
      {"DuplicateYamlKey",
       v1 + "spec:\n" + pod + "  timeout: 1m\n  timeout: 2m\n",
       {"c.yaml:7:3: spec.timeout: duplicate key \"timeout\" (first defined at line 6)"}},
      {"ApiVersionMissing",
       "kind: KuberhealthyCheck\nmetadata: {name: c}\nspec: {}\n",
       {"c.yaml:1:1: apiVersion: is required; " + accepted}},
      {"ApiVersionUnsupported",
       "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: c}\n",
       {"c.yaml:1:13: apiVersion: unsupported apiVersion \"apps/v1\"; " + accepted}},
      {"ApiVersionUnsupportedAndKindMissing",
       "apiVersion: kuberhealthy.github.io/v3\nmetadata: {name: c}\n",
       {"c.yaml:1:1: kind: is required; " + accepted,
        "c.yaml:1:13: apiVersion: unsupported apiVersion \"kuberhealthy.github.io/v3\"; " +
            accepted}},
      {"KindNotInApiVersion",
       "apiVersion: kuberhealthy.github.io/v2\nkind: KuberhealthyCheck\nmetadata: {name: c}\n",
       {"c.yaml:2:7: kind: unsupported kind \"KuberhealthyCheck\" for apiVersion "
        "kuberhealthy.github.io/v2; " +
        accepted}},
      {"UnknownTopLevelKey",
       v1 + "spec:\n" + pod + "specs: {}\n",
       {"c.yaml:6:1: specs: unknown field \"specs\" (allowed: apiVersion, kind, metadata, spec "
        "or status)"}},
      {"NameMissing",
       "apiVersion: comcast.github.io/v1\nkind: KuberhealthyCheck\nmetadata:\n"
       "  namespace: ops\nspec:\n" +
           pod,
       {"c.yaml:4:3: metadata.name: is required"}},
      {"NameInvalid",
       "apiVersion: comcast.github.io/v1\nkind: KuberhealthyCheck\n"
       "metadata: {name: My_Check}\nspec:\n" +
           pod,
       {"c.yaml:3:18: metadata.name: invalid name \"My_Check\": use lower-case letters, digits, "
        "'-' and '.', starting and ending with a letter or digit, at most 253 characters (a "
        "DNS-1123 subdomain)"}},
      {"NamespaceInvalid",
       "apiVersion: comcast.github.io/v1\nkind: KuberhealthyCheck\n"
       "metadata: {name: c, namespace: a.b}\nspec:\n" +
           pod,
       {"c.yaml:3:32: metadata.namespace: invalid namespace \"a.b\": use lower-case letters, "
        "digits and '-', starting and ending with a letter or digit, at most 63 characters (a "
        "DNS-1123 label)"}},
      {"MetadataNotAMapping",
       "apiVersion: comcast.github.io/v1\nkind: KuberhealthyCheck\n"
       "metadata: c\nspec:\n" +
           pod,
       {"c.yaml:3:11: metadata: must be a mapping with name and namespace, found \"c\""}},
      {"SpecMissing", v1, {"c.yaml:1:1: spec: is required"}},
      {"DurationInvalid",
       v1 + "spec:\n  runInterval: 6x\n" + pod,
       {"c.yaml:5:16: spec.runInterval: invalid duration \"6x\": unknown unit \"x\" (use ns, us, "
        "ms, s, m or h)"}},
      {"DurationNotPositive",
       v1 + "spec:\n  timeout: 0s\n" + pod,
       {"c.yaml:5:12: spec.timeout: must be greater than 0, found \"0s\""}},
      {"JobHasNoRunInterval",
       job + "spec:\n  runInterval: 1m\n" + pod,
       {"c.yaml:5:16: spec.runInterval: is not allowed in a KuberhealthyJob: a job runs once "
        "(use a KuberhealthyCheck to run on an interval)"}},
      {"SingleRunOnlyNotBool",
       v3 + "spec:\n  singleRunOnly: \"true\"\n  podSpec: {spec: {containers: [{name: m, "
            "command: [x]}]}}\n",
       {"c.yaml:5:18: spec.singleRunOnly: must be true or false without quotes, found \"true\""}},
      {"UnknownSpecKeyDidYouMean",
       v1 + "spec:\n  runinterval: 1m\n" + pod,
       {"c.yaml:5:3: spec.runinterval: unknown field \"runinterval\" (did you mean "
        "\"runInterval\"?)"}},
      {"SpecKeyOfOtherKind",
       v1 + "spec:\n  singleRunOnly: true\n" + pod,
       {"c.yaml:5:3: spec.singleRunOnly: unknown field \"singleRunOnly\" (allowed: runInterval, "
        "timeout, podSpec, extraAnnotations, extraLabels, probe or heartbeat)"}},
      {"ExtraLabelsNotStrings",
       v1 + "spec:\n  extraLabels: {a: [1]}\n" + pod,
       {"c.yaml:5:20: spec.extraLabels.a: must be a string, found a list"}},
      {"ExtraAnnotationsNotAMapping",
       v1 + "spec:\n  extraAnnotations: [a]\n" + pod,
       {"c.yaml:5:21: spec.extraAnnotations: must be a mapping of strings to strings, found a "
        "list"}},
      {"PodSpecMissing", v1 + "spec:\n  timeout: 1m\n", {"c.yaml:5:3: spec.podSpec: is required"}},
      {"V3ContainersAtV1Level",
       v3 + "spec:\n  podSpec:\n    containers: []\n",
       {"c.yaml:6:5: spec.podSpec.containers: must be at spec.podSpec.spec.containers for "
        "apiVersion kuberhealthy.github.io/v2 (HealthCheck); spec.podSpec holds only metadata and "
        "spec"}},
      {"V1PodSpecAtV3Level",
       v1 + "spec:\n  podSpec:\n    spec: {containers: []}\n",
       {"c.yaml:6:11: spec.podSpec.spec: is the HealthCheck (kuberhealthy.github.io/v2) layout; "
        "for comcast.github.io/v1 put the pod fields (containers, ...) directly under "
        "spec.podSpec"}},
      {"V1PodMetadata",
       v1 + "spec:\n  podSpec:\n    metadata: {labels: {a: b}}\n    containers: [{name: m, "
            "command: [x]}]\n",
       {"c.yaml:6:15: spec.podSpec.metadata: is the HealthCheck (kuberhealthy.github.io/v2) "
        "layout; for comcast.github.io/v1 set pod labels and annotations with spec.extraLabels "
        "and spec.extraAnnotations"}},
      {"V3PodSpecMissing",
       v3 + "spec:\n  podSpec:\n    metadata: {labels: {a: b}}\n",
       {"c.yaml:6:5: spec.podSpec.spec: is required"}},
      {"ContainersMissing",
       v1 + "spec:\n  podSpec: {restartPolicy: Never}\n",
       {"c.yaml:5:12: spec.podSpec.containers: is required (list at least one container)"}},
      {"ContainersNotAList",
       v1 + "spec:\n  podSpec: {containers: {name: m}}\n",
       {"c.yaml:5:25: spec.podSpec.containers: must be a list of containers, found a mapping"}},
      {"ContainersEmpty",
       v1 + "spec:\n  podSpec: {containers: []}\n",
       {"c.yaml:5:25: spec.podSpec.containers: must list at least one container"}},
      {"ContainerNameMissing",
       v1 + "spec:\n  podSpec: {containers: [{command: [x]}]}\n",
       {"c.yaml:5:26: spec.podSpec.containers[0].name: is required"}},
      {"ContainerNameDuplicate",
       v1 + "spec:\n  podSpec:\n    initContainers: [{name: m, command: [x]}]\n"
            "    containers: [{name: m, command: [y]}]\n",
       {"c.yaml:7:25: spec.podSpec.containers[0].name: duplicate container name \"m\" (already "
        "used by spec.podSpec.initContainers[0].name; names must be unique in the pod)"}},
      {"CommandNotAList",
       v1 + "spec:\n  podSpec: {containers: [{name: m, command: bash run.sh}]}\n",
       {"c.yaml:5:45: spec.podSpec.containers[0].command: must be a list of strings, e.g. "
        "[\"bash\", \"run.sh\"], found \"bash run.sh\""}},
      {"ArgNotAString",
       v1 + "spec:\n  podSpec: {containers: [{name: m, command: [x], args: [{a: 1}]}]}\n",
       {"c.yaml:5:57: spec.podSpec.containers[0].args[0]: must be a string, found a mapping"}},
      {"CommandRequiredInLocalMode",
       v1 + "spec:\n  podSpec: {containers: [{name: m, image: img, command: []}]}\n",
       {"c.yaml:5:57: spec.podSpec.containers[0].command: " + need_command}},
      {"EnvNotAList",
       v1 + "spec:\n  podSpec: {containers: [{name: m, command: [x], env: {A: b}}]}\n",
       {"c.yaml:5:55: spec.podSpec.containers[0].env: must be a list of {name, value} entries, "
        "found a mapping"}},
      {"EnvNameMissing",
       v1 + "spec:\n  podSpec: {containers: [{name: m, command: [x], env: [{value: v}]}]}\n",
       {"c.yaml:5:56: spec.podSpec.containers[0].env[0].name: is required"}},
      {"EnvValueFromInLocalMode",
       v1 + "spec:\n  podSpec: {containers: [{name: m, command: [x], env: [{name: A, valueFrom: "
            "{secretKeyRef: {name: s, key: k}}}]}]}\n",
       {"c.yaml:5:77: spec.podSpec.containers[0].env[0].valueFrom: cannot be resolved in local "
        "mode (it reads from the Kubernetes API); use value"}},
      {"EnvValueFromOutsideLocalMode",
       v1 + "spec:\n  podSpec: {containers: [{name: m, env: [{name: A, valueFrom: {}}]}]}\n",
       {},
       false},
      {"RunAsUserNegative",
       v1 + "spec:\n  podSpec:\n    securityContext: {runAsUser: -1}\n    containers: [{name: m, "
            "command: [x]}]\n",
       {"c.yaml:6:34: spec.podSpec.securityContext.runAsUser: must be an integer >= 0, found "
        "\"-1\""}},
      {"WorkingDirNotAString",
       v1 + "spec:\n  podSpec: {containers: [{name: m, command: [x], workingDir: [a]}]}\n",
       {"c.yaml:5:62: spec.podSpec.containers[0].workingDir: must be a string, found a list"}},
      {"EveryProblemAtOnce",
       v1 + "spec:\n  runInterval: soon\n  timout: 1m\n  podSpec: {containers: [{name: m}]}\n",
       {"c.yaml:5:16: spec.runInterval: invalid duration \"soon\": expected a number",
        "c.yaml:6:3: spec.timout: unknown field \"timout\" (allowed: runInterval, timeout, "
        "podSpec, extraAnnotations, extraLabels, probe or heartbeat)",
        "c.yaml:7:26: spec.podSpec.containers[0].command: is required in local mode: Sonde runs "
        "the container's command as a local process and cannot use the entrypoint of an image; "
        "set command (and args) to a program on this machine, e.g. command: [\"bash\", "
        "\"run.sh\"]"}},
      // Heartbeat checks (Sonde's extension).
      {"HeartbeatValid", v1 + "spec:\n  runInterval: 1h\n  heartbeat: {grace: 5m}\n", {}},
      {"HeartbeatCronValid",
       v3 + "spec:\n  heartbeat: {schedule: \"30 2 * * *\", timezone: Europe/Berlin}\n",
       {}},
      {"HeartbeatNotAMapping",
       v1 + "spec:\n  heartbeat: yes\n",
       {"c.yaml:5:14: spec.heartbeat: must be a mapping such as {grace: 5m}, found \"yes\""}},
      {"HeartbeatWithPodSpec",
       v1 + "spec:\n  heartbeat: {}\n" + pod,
       {"c.yaml:6:12: spec.podSpec: is not allowed in a heartbeat check: Sonde starts nothing, "
        "the job reports to the check's heartbeat URL"}},
      {"HeartbeatInJob",
       job + "spec:\n  heartbeat: {grace: 1m}\n",
       {"c.yaml:5:14: spec.heartbeat: is not allowed in a KuberhealthyJob: a heartbeat is "
        "expected again and again (use a KuberhealthyCheck or a HealthCheck)"}},
      {"HeartbeatBadCron",
       v1 + "spec:\n  heartbeat: {schedule: \"0 25 * * *\"}\n",
       {"c.yaml:5:25: spec.heartbeat.schedule: invalid cron expression \"0 25 * * *\": hour: "
        "25 is out of range 0-23"}},
      {"HeartbeatScheduleAndInterval",
       v1 + "spec:\n  runInterval: 1h\n  heartbeat: {schedule: \"@daily\"}\n",
       {"c.yaml:5:16: spec.runInterval: cannot be combined with spec.heartbeat.schedule: a "
        "scheduled heartbeat is due at the schedule's instants; remove one of them"}},
      {"HeartbeatUnknownZone",
       v1 + "spec:\n  heartbeat:\n    schedule: \"@daily\"\n    timezone: Europe/Berln\n",
       {"c.yaml:7:15: spec.heartbeat.timezone: unknown time zone \"Europe/Berln\" (not in the "
        "tz database, e.g. Europe/Berlin or UTC)"}},
      {"HeartbeatZoneWithoutSchedule",
       v1 + "spec:\n  heartbeat: {timezone: UTC}\n",
       {"c.yaml:5:25: spec.heartbeat.timezone: needs spec.heartbeat.schedule (it is the "
        "schedule's zone)"}},
      {"HeartbeatBadFields",
       v1 + "spec:\n  heartbeat: {grace: 0s, reportsPerMinute: 0, gracePeriod: 1m}\n",
       {"c.yaml:5:22: spec.heartbeat.grace: must be greater than 0, found \"0s\"",
        "c.yaml:5:44: spec.heartbeat.reportsPerMinute: must be an integer >= 1, found \"0\"",
        "c.yaml:5:47: spec.heartbeat.gracePeriod: unknown field \"gracePeriod\" (allowed: "
        "grace, schedule, timezone, reportsPerMinute or minRecordInterval)"}},
  };
}

class CheckValidationTest : public testing::TestWithParam<Case> {};

TEST_P(CheckValidationTest, ReportsExactError) {
  const Case& c = GetParam();
  const LoadResult r = ParseChecks(c.yaml, "c.yaml", LoadOptions{.local_mode = c.local_mode});
  std::vector<std::string> got;
  for (const ConfigError& e : r.errors) got.push_back(e.ToString());
  EXPECT_EQ(got, c.want);
  EXPECT_EQ(r.checks.size(), c.want.empty() ? 1u : 0u);
}

INSTANTIATE_TEST_SUITE_P(Rules, CheckValidationTest, testing::ValuesIn(Cases()),
                         [](const testing::TestParamInfo<Case>& param) {
                           return param.param.name;
                         });

}  // namespace
}  // namespace sonde
