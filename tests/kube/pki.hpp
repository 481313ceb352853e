// Test support: the certificates and keys a throw-away Kubernetes cluster needs, made with the
// `openssl` command line in a directory: a CA, the API server's serving certificate, the
// service-account RSA key pair and a client certificate in group system:masters.
// Thread safety: stateless. Failure: a Status naming the openssl step and its stderr.
#pragma once

#include <string>

#include "core/result.hpp"

namespace sonde::kube {

// File paths inside the directory MakeClusterPki wrote to.
struct ClusterPki {
  std::string ca_cert;      // ca.crt: trust anchor for clients and client certificates
  std::string ca_key;       // ca.key: kube-controller-manager's CSR signer
  std::string server_cert;  // server.crt: SANs 127.0.0.1, localhost, kubernetes.default.svc…
  std::string server_key;   //
  std::string service_account_key;  // sa.key: RSA, signs service-account tokens
  std::string service_account_pub;  // sa.pub: verifies them
  std::string client_cert;          // client.crt: CN=sonde-client-cert, O=system:masters
  std::string client_key;           //
};

// Creates the files in `dir` (which must exist). Keys are unencrypted; certificates last 2 days.
Result<ClusterPki> MakeClusterPki(const std::string& dir);

}  // namespace sonde::kube
