// spec.probe and bundled check images: what loads, and the exact error for each mistake.
#include <gtest/gtest.h>

#include "config/check_loader.hpp"
#include "probe/probe.hpp"
#include "probe/registry.hpp"

namespace sonde {
namespace {

const std::string kHead =
    "apiVersion: comcast.github.io/v1\nkind: KuberhealthyCheck\nmetadata: {name: c}\nspec:\n";

LoadResult Load(const std::string& yaml) {
  static const ProbeRegistry probes = BuiltinProbes();
  LoadOptions options;
  options.probes = &probes;
  options.bundled_check_command = {"/usr/bin/sonde", "check"};
  return ParseChecks(yaml, "c.yaml", options);
}

std::vector<std::string> Errors(const LoadResult& r) {
  std::vector<std::string> out;
  for (const ConfigError& e : r.errors) out.push_back(e.ToString());
  return out;
}

TEST(ProbeConfig, HttpProbeLoadsWithConditionsAndShortDefaultTimeout) {
  const LoadResult r = Load(kHead +
                            "  probe:\n    http: {url: \"http://127.0.0.1:8080/x\"}\n"
                            "    conditions: [\"[STATUS] == 200\", \"[BODY].a == 1\"]\n");
  ASSERT_TRUE(r.errors.empty()) << Errors(r).front();
  ASSERT_EQ(r.checks.size(), 1u);
  const CheckSpec& c = r.checks[0];
  ASSERT_TRUE(c.probe);
  EXPECT_EQ(c.probe.definition->kind, "http");
  EXPECT_EQ(c.probe.definition->conditions.size(), 2u);
  EXPECT_EQ(c.probe.definition->probe->Target(), "GET http://127.0.0.1:8080/x");
  EXPECT_EQ(c.timeout, std::chrono::seconds(10));
  EXPECT_TRUE(c.pod->containers.empty());
}

TEST(ProbeConfig, DefaultConditionsComeFromTheRegistry) {
  const LoadResult r = Load(kHead + "  probe: {http: {url: \"http://127.0.0.1:8080/\"}}\n");
  ASSERT_EQ(r.checks.size(), 1u) << Errors(r).front();
  ASSERT_EQ(r.checks[0].probe.definition->conditions.size(), 1u);
  EXPECT_EQ(r.checks[0].probe.definition->conditions[0].text(), "[STATUS] == 2xx");
}

TEST(ProbeConfig, SameYamlIsTheSameCheck) {
  const std::string yaml = kHead + "  probe: {tcp: {address: \"127.0.0.1:6379\"}}\n";
  EXPECT_EQ(Load(yaml).checks.at(0), Load(yaml).checks.at(0));
  EXPECT_FALSE(Load(yaml).checks.at(0) ==
               Load(kHead + "  probe: {tcp: {address: \"127.0.0.1:6380\"}}\n").checks.at(0));
}

struct BadCase {
  const char* name;
  std::string spec;  // after "spec:\n"; line 5 onwards
  std::vector<std::string> want;
};

class ProbeConfigErrors : public testing::TestWithParam<BadCase> {};

TEST_P(ProbeConfigErrors, SayWhatAndWhere) {
  const LoadResult r = Load(kHead + GetParam().spec);
  EXPECT_EQ(Errors(r), GetParam().want);
  EXPECT_TRUE(r.checks.empty());
}

INSTANTIATE_TEST_SUITE_P(
    Table, ProbeConfigErrors,
    testing::Values(
        BadCase{"UnknownKind",
                "  probe: {htp: {url: x}}\n",
                {"c.yaml:5:11: spec.probe.htp: unknown probe kind \"htp\"; known: http, tcp, "
                 "dns or tls, and conditions"}},
        BadCase{"NoKind",
                "  probe: {conditions: []}\n",
                {"c.yaml:5:10: spec.probe: needs a probe kind: http, tcp, dns or tls"}},
        BadCase{"TwoKinds",
                "  probe: {http: {url: \"http://a/\"}, tcp: {address: \"a:1\"}}\n",
                {"c.yaml:5:37: spec.probe.tcp: a probe has one kind; http is already set"}},
        BadCase{"PodSpecAndProbe",
                "  podSpec: {containers: [{name: m, command: [x]}]}\n"
                "  probe: {tcp: {address: \"a:1\"}}\n",
                {"c.yaml:5:12: spec.podSpec: a check has either spec.podSpec (a checker) or "
                 "spec.probe, not both"}},
        BadCase{"MissingUrl",
                "  probe: {http: {method: GET}}\n",
                {"c.yaml:5:17: spec.probe.http.url: is required, e.g. "
                 "http://127.0.0.1:8080/health"}},
        BadCase{"BadScheme",
                "  probe: {http: {url: \"ftp://x/\"}}\n",
                {"c.yaml:5:23: spec.probe.http: unsupported scheme \"ftp\" (want http or "
                 "https)"}},
        BadCase{"UnknownOption",
                "  probe: {http: {url: \"http://x/\", timeout: 1s}}\n",
                {"c.yaml:5:36: spec.probe.http.timeout: unknown field \"timeout\" (allowed: url, "
                 "method, headers, body, followRedirects, tls, ipFamily or maxBodyBytes)"}},
        BadCase{"BadAddress",
                "  probe: {tcp: {address: \"localhost\"}}\n",
                {"c.yaml:5:26: spec.probe.tcp.address: \"localhost\" is not host:port (IPv6 "
                 "hosts go in brackets)"}},
        BadCase{"ConditionSyntax",
                "  probe:\n    tcp: {address: \"a:1\"}\n    conditions:\n"
                "      - \"[CONNECTED] = true\"\n",
                {"c.yaml:8:9: spec.probe.conditions[0]: column 13: \"[CONNECTED] = true\": "
                 "expected an operator: ==, !=, <, <=, >, >=, =~ or !~"}},
        BadCase{"PlaceholderOfAnotherKind",
                "  probe:\n    tcp: {address: \"a:1\"}\n    conditions: [\"[STATUS] == 200\"]\n",
                {"c.yaml:7:18: spec.probe.conditions[0]: [STATUS] is not available to tcp "
                 "probes; they offer [CONNECTED], [RESPONSE_TIME], [IP] and [BODY]"}}),
    [](const testing::TestParamInfo<BadCase>& p) { return std::string(p.param.name); });

TEST(BundledImages, KuberhealthyCheckImagesRunTheBundledCheck) {
  const LoadResult r =
      Load(kHead +
           "  podSpec:\n    containers:\n      - name: https\n"
           "        image: kuberhealthy/http-check:v1.5.0\n"
           "        env: [{name: CHECK_URL, value: \"http://127.0.0.1:8080/healthz\"}]\n");
  ASSERT_EQ(r.checks.size(), 1u) << Errors(r).front();
  EXPECT_EQ(r.checks[0].pod->containers[0].command,
            (std::vector<std::string>{"/usr/bin/sonde", "check", "http"}));
}

}  // namespace
}  // namespace sonde
