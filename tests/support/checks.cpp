#include "support/checks.hpp"

#include <gtest/gtest.h>

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/json/parse.hpp>

namespace sonde::testing {

std::string CheckYaml(const CheckDef& def) {
  const bool v3 = def.kind == "HealthCheck";
  std::string y = std::string("apiVersion: ") +
                  (v3 ? "kuberhealthy.github.io/v2" : "comcast.github.io/v1") +
                  "\nkind: " + def.kind + "\nmetadata:\n  name: " + def.name +
                  "\n  namespace: " + def.ns + "\nspec:\n";
  if (def.kind != "KuberhealthyJob") y += "  runInterval: " + def.interval + "\n";
  y += "  timeout: " + def.timeout + "\n  podSpec:\n";
  const std::string in = v3 ? "      " : "    ";
  if (v3) y += "    spec:\n";
  y += in + "containers:\n" + in + "  - name: main\n" + in + "    image: example/checker:1\n" + in +
       "    command: [\"/bin/bash\", \"" + def.script + "\"]\n";
  if (!def.env.empty()) {
    y += in + "    env:\n";
    for (const auto& [k, v] : def.env) {
      y += in + "      - name: " + k + "\n" + in + "        value: \"" + v + "\"\n";
    }
  }
  return y;
}

const char* const kReportOkNoHeader = R"(set -e
curl --silent --show-error --fail --location --request POST "$KH_REPORTING_URL" \
  --header 'Content-Type: application/json' --data-raw '{ "OK": true }'
)";

const char* const kReportErrors = R"(set -e
curl -sS --fail -X POST "$KH_REPORTING_URL" -H "kh-run-uuid: $KH_RUN_UUID" \
  -H 'Content-Type: application/json' \
  -d '{"OK": false, "Errors": ["disk /data is full", "db replica lag 30s"]}'
)";

const char* const kSilent = "sleep 30\n";

const char* const kCrash = "echo 'fatal: cannot connect to db:5432' >&2\nexit 3\n";

const char* const kIgnoreTerm = "trap '' TERM\nsleep 300 &\nwait\nsleep 300\n";

const char* const kRecordAndWait = R"(echo "$KH_REPORTING_URL" > "$OUT/$KH_RUN_UUID.tmp"
mv "$OUT/$KH_RUN_UUID.tmp" "$OUT/$KH_RUN_UUID"
sleep 30
)";

boost::json::value GetJson(const DaemonProcess& d, const std::string& path) {
  const ClientResponse r = d.Get(path);
  EXPECT_EQ(r.status, 200) << r.body;
  boost::system::error_code ec;
  boost::json::value v = boost::json::parse(r.body, ec);
  EXPECT_FALSE(ec) << "not JSON: " << r.body;
  return ec ? boost::json::value() : v;
}

boost::json::value CheckDetail(const DaemonProcess& d, const std::string& key) {
  const boost::json::value doc = GetJson(d);
  if (!doc.is_object()) return {};
  const auto& details = doc.as_object().at("CheckDetails").as_object();
  auto it = details.find(key);
  return it == details.end() ? boost::json::value() : it->value();
}

std::string ProbeCheck(const std::string& name, const std::string& interval,
                       const std::string& probe_yaml) {
  return "---\napiVersion: comcast.github.io/v1\nkind: KuberhealthyCheck\nmetadata:\n  name: " +
         name + "\n  namespace: probes\nspec:\n  runInterval: " + interval +
         "\n  timeout: 5s\n  probe:\n" + probe_yaml;
}

uint16_t ClosedPort() {
  boost::asio::io_context io;
  boost::asio::ip::tcp::acceptor a(io, {boost::asio::ip::make_address("127.0.0.1"), 0});
  return a.local_endpoint().port();
}

std::vector<std::string> DetailErrors(const boost::json::value& detail) {
  std::vector<std::string> out;
  if (!detail.as_object().contains("errors")) return out;
  for (const auto& e : detail.at("errors").as_array()) out.emplace_back(e.as_string());
  return out;
}

}  // namespace sonde::testing
