// Internal to the checks module: the Kubernetes API as a check uses it, synchronously. A check
// is a short-lived process, so each request runs the KubeClient's coroutine on a private event
// loop until it completes or the run's budget is spent.
//
// Ownership: the session owns its event loop and client. Thread safety: none; one check run.
// Failure: every error names the request and what went wrong: "GET /api/v1/pods: 403
// Forbidden: pods is forbidden: User \"x\" cannot list resource \"pods\" ...".
#pragma once

#include <boost/asio/io_context.hpp>
#include <boost/json/object.hpp>
#include <chrono>
#include <memory>
#include <string>
#include <vector>

#include "checks/bundled_check.hpp"
#include "core/clock.hpp"
#include "kube/kube_client.hpp"

namespace sonde::checks_internal {

class KubeSession {
 public:
  // Finds the cluster as kubectl does: $KUBECONFIG, else the pod's service account (in a
  // checker pod), else ~/.kube/config. `budget` bounds every request made through the session.
  static Result<std::unique_ptr<KubeSession>> Open(const CheckEnv& env, Duration budget);
  ~KubeSession();
  KubeSession(const KubeSession&) = delete;
  KubeSession& operator=(const KubeSession&) = delete;

  // One request; any HTTP status is a Response, transport failures and the budget's end are
  // errors.
  Result<kube::Response> Call(const std::string& method, const std::string& path,
                              const std::string& body = {},
                              const std::string& content_type = "application/json");
  // GET that must answer 200 with a JSON object.
  Result<boost::json::object> Get(const std::string& path);
  // Every item of a collection (`path` may carry a query), following `continue` pages.
  Result<std::vector<boost::json::object>> List(const std::string& path);

  // The namespace of the check's own pod (the service account's, or the kubeconfig
  // context's); "" when unknown.
  const std::string& own_namespace() const { return client_->config().ns; }

 private:
  KubeSession(kube::ClusterConfig config, Duration budget);

  std::chrono::steady_clock::time_point deadline_;
  SystemClock clock_;
  std::unique_ptr<boost::asio::io_context> io_;
  std::unique_ptr<kube::KubeClient> client_;
  bool abandoned_ = false;  // a request outlived the budget and still holds the client
};

// A value for a URL query: everything but RFC 3986's unreserved characters percent-encoded.
std::string QueryEscape(std::string_view value);

}  // namespace sonde::checks_internal
