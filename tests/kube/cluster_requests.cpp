// TestCluster's client side: kubeconfigs, requests through curl, Apply and CRD waits.
#include <charconv>
#include <cstdio>
#include <fstream>
#include <thread>

#include "kube/manifest.hpp"
#include "kube/test_cluster.hpp"

namespace sonde::kube {
namespace {

namespace json = boost::json;
using Clock = std::chrono::steady_clock;

// Marks the status code curl appends after the body (-w), so a body's own last line is safe.
constexpr std::string_view kStatusMarker = "\n--sonde-http-status:";

std::string Seconds(std::chrono::milliseconds ms) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.3f", static_cast<double>(ms.count()) / 1000.0);
  return buf;
}

// The API's own explanation in a Status object ("" when the body is not one).
std::string ApiMessage(const KubeResponse& r) {
  const json::value v = r.Json();
  if (const auto* o = v.if_object()) {
    if (const auto* m = o->if_contains("message"); m && m->is_string()) {
      return std::string(m->get_string());
    }
  }
  return r.body.substr(0, 300);
}

std::string Describe(std::string_view method, std::string_view path, const KubeResponse& r) {
  return std::string(method) + " " + std::string(path) + ": HTTP " + std::to_string(r.status) +
         ": " + ApiMessage(r);
}

const json::value* At(const json::value& v, std::initializer_list<std::string_view> keys) {
  const json::value* cur = &v;
  for (auto k : keys) {
    const auto* o = cur->if_object();
    cur = o != nullptr ? o->if_contains(k) : nullptr;
    if (cur == nullptr) return nullptr;
  }
  return cur;
}

bool IsEstablished(const json::value& crd) {
  const json::value* conditions = At(crd, {"status", "conditions"});
  if (conditions == nullptr || !conditions->is_array()) return false;
  for (const auto& c : conditions->get_array()) {
    const json::value* type = At(c, {"type"});
    const json::value* status = At(c, {"status"});
    if (type && status && type->is_string() && status->is_string() &&
        type->get_string() == "Established" && status->get_string() == "True") {
      return true;
    }
  }
  return false;
}

// "/apis/<group>/<first served version>/<plural>" of a CRD; "" when the spec lacks them.
std::string CustomResourceListPath(const json::value& crd) {
  const json::value* group = At(crd, {"spec", "group"});
  const json::value* plural = At(crd, {"spec", "names", "plural"});
  const json::value* versions = At(crd, {"spec", "versions"});
  if (!group || !plural || !versions || !group->is_string() || !plural->is_string() ||
      !versions->is_array()) {
    return "";
  }
  for (const auto& v : versions->get_array()) {
    const json::value* name = At(v, {"name"});
    const json::value* served = At(v, {"served"});
    if (name && name->is_string() && served && served->is_bool() && served->get_bool()) {
      return "/apis/" + std::string(group->get_string()) + "/" + std::string(name->get_string()) +
             "/" + std::string(plural->get_string());
    }
  }
  return "";
}

}  // namespace

json::value KubeResponse::Json() const {
  boost::system::error_code ec;
  json::value v = json::parse(body, ec);
  return ec ? json::value(nullptr) : v;
}

Status TestCluster::WriteKubeconfig(const std::string& path, const KubeconfigAuth& auth) const {
  std::string user;
  if (auth.client_cert) {
    user = "    client-certificate: " + pki_.client_cert + "\n    client-key: " + pki_.client_key;
  } else {
    const std::string t = token(auth.user);
    if (t.empty()) return Status::Error("WriteKubeconfig: no token for user " + auth.user);
    user = "    token: " + t;
  }
  std::ofstream out(path);
  out << "apiVersion: v1\nkind: Config\nclusters:\n- name: sonde-test\n  cluster:\n"
      << "    server: " << server_ << "\n    certificate-authority: " << pki_.ca_cert << "\n"
      << "users:\n- name: " << auth.user << "\n  user:\n"
      << user << "\n"
      << "contexts:\n- name: sonde-test\n  context:\n    cluster: sonde-test\n"
      << "    user: " << auth.user << "\n    namespace: default\n"
      << "current-context: sonde-test\n";
  out.close();
  return out ? Status::Ok() : Status::Error("cannot write " + path);
}

Result<KubeResponse> TestCluster::Request(std::string_view method, std::string_view path,
                                          std::string_view body, std::string_view token,
                                          const RequestOptions& options) const {
  using R = Result<KubeResponse>;
  const std::string url = server_ + std::string(path);
  std::vector<std::string> argv = {"curl",       "-sS",
                                   "--cacert",   pki_.ca_cert,
                                   "--max-time", Seconds(options.timeout),
                                   "-X",         std::string(method),
                                   "-H",         "Accept: application/json",
                                   "-w",         std::string(kStatusMarker) + "%{http_code}"};
  if (!token.empty())
    argv.insert(argv.end(), {"-H", "Authorization: Bearer " + std::string(token)});
  if (!body.empty()) {
    argv.insert(argv.end(), {"-H", "Content-Type: " + options.content_type, "--data-binary", "@-"});
  }
  argv.push_back(url);
  // curl keeps the deadline; this one only guards against a curl that hangs.
  auto run = RunCommand(argv, body, options.timeout + std::chrono::seconds(10));
  if (!run.ok()) return R::Error(std::string(method) + " " + url + ": " + run.error());
  const CommandOutput& out = run.value();
  constexpr int kCurlTimedOut = 28;
  if (out.exit_code != 0 && out.exit_code != kCurlTimedOut) {
    return R::Error(std::string(method) + " " + url + ": curl exit " +
                    std::to_string(out.exit_code) + ": " + out.err);
  }
  KubeResponse response{.timed_out = out.exit_code == kCurlTimedOut};
  const size_t marker = out.out.rfind(kStatusMarker);
  if (marker == std::string::npos) {
    response.body = out.out;
    return response;
  }
  response.body = out.out.substr(0, marker);
  const std::string_view code = std::string_view(out.out).substr(marker + kStatusMarker.size());
  std::from_chars(code.data(), code.data() + code.size(), response.status);
  return response;
}

Status TestCluster::Apply(std::string_view yaml) const {
  auto plan = PlanApply(yaml);
  if (!plan.ok()) return Status::Error("Apply: " + plan.error());
  for (ObjectRequest& object : plan.value()) {
    const std::string what = "Apply " + object.kind + " " + object.name + ": ";
    auto created = AdminRequest("POST", object.collection, json::serialize(object.body));
    if (!created.ok()) return Status::Error(what + created.error());
    if (created.value().status == 200 || created.value().status == 201) continue;
    if (created.value().status != 409) {
      return Status::Error(what + Describe("POST", object.collection, created.value()));
    }
    // It exists: replace it, as of the version read now.
    const std::string path = object.collection + "/" + object.name;
    auto current = AdminRequest("GET", path);
    if (!current.ok()) return Status::Error(what + current.error());
    const json::value existing = current.value().Json();
    const json::value* rv = At(existing, {"metadata", "resourceVersion"});
    if (current.value().status != 200 || rv == nullptr || !rv->is_string()) {
      return Status::Error(what + Describe("GET", path, current.value()));
    }
    object.body["metadata"].as_object()["resourceVersion"] = rv->get_string();
    auto replaced = AdminRequest("PUT", path, json::serialize(object.body));
    if (!replaced.ok()) return Status::Error(what + replaced.error());
    if (replaced.value().status != 200) {
      return Status::Error(what + Describe("PUT", path, replaced.value()));
    }
  }
  return Status::Ok();
}

Status TestCluster::WaitForCrdEstablished(std::string_view name,
                                          std::chrono::milliseconds timeout) const {
  const std::string path =
      "/apis/apiextensions.k8s.io/v1/customresourcedefinitions/" + std::string(name);
  const auto deadline = Clock::now() + timeout;
  std::string last = "no answer yet";
  while (Clock::now() < deadline) {
    auto crd = AdminRequest("GET", path);
    if (!crd.ok()) {
      last = crd.error();
    } else if (crd.value().status != 200) {
      last = Describe("GET", path, crd.value());
    } else if (!IsEstablished(crd.value().Json())) {
      last = "not Established yet";
    } else {
      // Established can come a moment before the new resource is served.
      const std::string list = CustomResourceListPath(crd.value().Json());
      if (list.empty()) return Status::Error("CRD " + std::string(name) + " has no served version");
      auto listed = AdminRequest("GET", list);
      if (listed.ok() && listed.value().status == 200) return Status::Ok();
      last = listed.ok() ? Describe("GET", list, listed.value()) : listed.error();
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  return Status::Error("CRD " + std::string(name) + " not established after " +
                       std::to_string(timeout.count()) + " ms: " + last);
}

}  // namespace sonde::kube
