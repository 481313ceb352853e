// The dns check (kuberhealthy/dns-resolution-check, the "dns-status" checks): HOSTNAME must
// resolve. Sonde sends one query of RECORD_TYPE (default A) to DNS_SERVER (host or host:port;
// default the first nameserver of /etc/resolv.conf) and, when EXPECTED_ANSWER is set, requires
// it among the answers. These three variables are Sonde extensions; HOSTNAME defaults, as in
// Kuberhealthy, to kubernetes.default.
//
// With DNS_POD_SELECTOR (a label selector) the check asks each Ready pod it selects in NAMESPACE
// (blank: every namespace), as Kuberhealthy's dns-status-internal does with k8s-app=kube-dns
// in kube-system. Kuberhealthy reads the addresses of the Endpoints the selector picks (kube-dns'
// Endpoints carry the same label as its pods), sends to port 53 and stops at the first failing
// server; Sonde asks the Ready pods themselves on their UDP container port (53 when they name
// none) and reports every failing one. Kuberhealthy's wait for its node to be 3 minutes old
// (NODE_NAME) is not done.
#include "checks/check_kinds.hpp"
#include "checks/env_reader.hpp"
#include "checks/kube_session.hpp"
#include "core/clock.hpp"
#include "kube/json_fields.hpp"
#include "probe/dns_probe.hpp"

namespace sonde::checks_internal {
namespace {

using kube::internal::ArrayAt;
using kube::internal::IntAt;
using kube::internal::ObjectAt;
using kube::internal::StringAt;
namespace json = boost::json;

struct DnsQuery {
  std::string host, type, server, expected;
};

// One query judged: no errors when it passed.
CheckOutcome Query(const DnsQuery& q, Duration budget) {
  auto probe = MakeDnsProbe({.name = q.host, .type = q.type, .server = q.server});
  if (!probe.ok()) return {{(q.server.empty() ? "" : "DNS_SERVER: ") + probe.error()}, true};
  const Observation o = RunProbeBlocking(*probe.value(), budget);
  std::vector<Condition> conditions =
      MustParse({"[DNS_RCODE] == NOERROR", "len([DNS_ANSWERS]) > 0"});
  if (!q.expected.empty()) {
    // Quoted, so that the value is taken literally whatever it contains.
    auto c = Condition::Parse("[DNS_ANSWERS] == \"" + q.expected + "\"");
    if (!c.ok()) return {{"EXPECTED_ANSWER \"" + q.expected + "\": " + c.error()}, true};
    conditions.push_back(c.value());
  }
  if (EvaluateConditions(conditions, o, SystemClock().Now()).empty()) return {};
  const std::string down = "DNS Status check determined that " + q.host + " is DOWN: ";
  if (!o.connected) return {{down + o.error}};
  const std::string who = probe.value()->Target();
  if (o.dns_rcode != "NOERROR") return {{down + who + " answered " + o.dns_rcode}};
  if (o.dns_answers.empty())
    return {{down + who + " answered NOERROR with no " + q.type + " records"}};
  return {{"DNS Status check: " + who + " answered " + o.body + ", expected " + q.expected}};
}

// The UDP port a DNS pod serves on: its first UDP container port, else 53.
int64_t DnsPort(const json::object& pod) {
  const json::object* spec = ObjectAt(pod, "spec");
  const json::array* containers = spec ? ArrayAt(*spec, "containers") : nullptr;
  for (size_t c = 0; containers && c < containers->size(); ++c) {
    const json::array* ports =
        (*containers)[c].is_object() ? ArrayAt((*containers)[c].get_object(), "ports") : nullptr;
    for (size_t p = 0; ports && p < ports->size(); ++p) {
      if (!(*ports)[p].is_object()) continue;
      const json::object& port = (*ports)[p].get_object();
      const std::string protocol = StringAt(port, "protocol");
      if (protocol.empty() || protocol == "UDP") return IntAt(port, "containerPort").value_or(53);
    }
  }
  return 53;
}

bool Ready(const json::object& pod) {
  const json::object* status = ObjectAt(pod, "status");
  if (status == nullptr || StringAt(*status, "phase") != "Running") return false;
  const json::array* conditions = ArrayAt(*status, "conditions");
  for (size_t i = 0; conditions && i < conditions->size(); ++i) {
    if ((*conditions)[i].is_object() &&
        StringAt((*conditions)[i].get_object(), "type") == "Ready") {
      return StringAt((*conditions)[i].get_object(), "status") == "True";
    }
  }
  return false;
}

// "ip:port" of every Ready pod the selector picks, or the failure (Kuberhealthy's words).
Result<std::vector<std::string>> DnsServers(const CheckEnv& env, const std::string& ns,
                                            const std::string& selector, Duration budget) {
  using Out = Result<std::vector<std::string>>;
  auto session = KubeSession::Open(env, budget);
  if (!session.ok()) return Out::Error(session.error());
  auto pods =
      session.value()->List((ns.empty() ? "/api/v1/pods" : "/api/v1/namespaces/" + ns + "/pods") +
                            "?labelSelector=" + QueryEscape(selector));
  if (!pods.ok()) {
    return Out::Error("DNS status check unable to get dns pods from cluster: " + pods.error());
  }
  const std::string where = " with label " + selector + (ns.empty() ? "" : " in namespace " + ns);
  if (pods.value().empty()) return Out::Error("No DNS pods found" + where);
  std::vector<std::string> servers;
  for (const json::object& pod : pods.value()) {
    const json::object* status = ObjectAt(pod, "status");
    const std::string ip = status ? StringAt(*status, "podIP") : "";
    if (!Ready(pod) || ip.empty()) continue;
    servers.push_back((ip.find(':') != std::string::npos ? "[" + ip + "]" : ip) + ":" +
                      std::to_string(DnsPort(pod)));
  }
  if (servers.empty()) {
    return Out::Error("No ready DNS pods found" + where + " (" +
                      std::to_string(pods.value().size()) + " not ready)");
  }
  return servers;
}

}  // namespace

CheckOutcome RunDnsCheck(const CheckEnv& env, Duration budget) {
  EnvReader in(env);
  DnsQuery q;
  q.host = in.String("HOSTNAME", "kubernetes.default");
  q.type =
      in.OneOf("RECORD_TYPE", "A", {"A", "AAAA", "CNAME", "MX", "NS", "TXT", "PTR", "SRV", "SOA"});
  q.server = in.String("DNS_SERVER", "");
  q.expected = in.String("EXPECTED_ANSWER", "");
  const std::string selector = in.String("DNS_POD_SELECTOR", "");
  if (!selector.empty() && !q.server.empty()) {
    in.Problem(
        "DNS_SERVER and DNS_POD_SELECTOR exclude each other: the selector picks the servers");
  }
  if (!in.ok()) return in.Outcome();
  if (selector.empty()) return Query(q, budget);

  const auto end = std::chrono::steady_clock::now() + budget;
  auto servers = DnsServers(env, in.String("NAMESPACE", ""), selector, budget);
  if (!servers.ok()) {
    return {{servers.error()}, servers.error().starts_with("cannot find the Kubernetes API")};
  }
  CheckOutcome out;
  for (const std::string& server : servers.value()) {
    q.server = server;
    const Duration left =
        std::chrono::duration_cast<Duration>(end - std::chrono::steady_clock::now());
    CheckOutcome one = Query(q, std::max(left, Duration(std::chrono::milliseconds(1))));
    out.errors.insert(out.errors.end(), one.errors.begin(), one.errors.end());
  }
  return out;
}

}  // namespace sonde::checks_internal
