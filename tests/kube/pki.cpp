#include "kube/pki.hpp"

#include <fstream>
#include <vector>

#include "kube/subprocess.hpp"

namespace sonde::kube {
namespace {

constexpr auto kOpensslTimeout = std::chrono::seconds(30);

Status Openssl(const std::string& step, std::vector<std::string> args) {
  args.insert(args.begin(), "openssl");
  auto r = RunCommand(args, "", kOpensslTimeout);
  if (!r.ok()) return Status::Error("openssl (" + step + "): " + r.error());
  if (r.value().exit_code != 0) {
    return Status::Error("openssl (" + step + ") failed: " + r.value().err);
  }
  return Status::Ok();
}

Status WriteFile(const std::string& path, const std::string& text) {
  std::ofstream out(path);
  out << text;
  out.close();
  return out ? Status::Ok() : Status::Error("cannot write " + path);
}

// A P-256 key and a certificate for it signed by the CA, with the extensions in `extensions`.
Status SignedCert(const std::string& dir, const ClusterPki& pki, const std::string& name,
                  const std::string& subject, const std::string& extensions) {
  const std::string key = dir + "/" + name + ".key", csr = dir + "/" + name + ".csr";
  const std::string ext = dir + "/" + name + ".ext";
  if (Status s = WriteFile(ext, extensions); !s.ok()) return s;
  if (Status s = Openssl(name + " key and request",
                         {"req", "-new", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256",
                          "-nodes", "-keyout", key, "-out", csr, "-subj", subject});
      !s.ok()) {
    return s;
  }
  return Openssl(name + " certificate",
                 {"x509", "-req", "-in", csr, "-CA", pki.ca_cert, "-CAkey", pki.ca_key,
                  "-CAcreateserial", "-CAserial", dir + "/ca.srl", "-days", "2", "-sha256",
                  "-extfile", ext, "-out", dir + "/" + name + ".crt"});
}

}  // namespace

Result<ClusterPki> MakeClusterPki(const std::string& dir) {
  using R = Result<ClusterPki>;
  ClusterPki pki{.ca_cert = dir + "/ca.crt",
                 .ca_key = dir + "/ca.key",
                 .server_cert = dir + "/server.crt",
                 .server_key = dir + "/server.key",
                 .service_account_key = dir + "/sa.key",
                 .service_account_pub = dir + "/sa.pub",
                 .client_cert = dir + "/client.crt",
                 .client_key = dir + "/client.key"};
  if (Status s =
          Openssl("CA", {"req",       "-x509",
                         "-newkey",   "ec",
                         "-pkeyopt",  "ec_paramgen_curve:P-256",
                         "-nodes",    "-keyout",
                         pki.ca_key,  "-out",
                         pki.ca_cert, "-days",
                         "2",         "-sha256",
                         "-subj",     "/CN=sonde-test-ca",
                         "-addext",   "basicConstraints=critical,CA:TRUE",
                         "-addext",   "keyUsage=critical,keyCertSign,cRLSign,digitalSignature"});
      !s.ok()) {
    return R::Error(s.message());
  }
  if (Status s = SignedCert(dir, pki, "server", "/CN=kube-apiserver",
                            "basicConstraints=CA:FALSE\n"
                            "keyUsage=critical,digitalSignature,keyEncipherment\n"
                            "extendedKeyUsage=serverAuth\n"
                            "subjectAltName=IP:127.0.0.1,IP:127.0.2.1,DNS:localhost,"
                            "DNS:kubernetes,DNS:kubernetes.default,DNS:kubernetes.default.svc,"
                            "DNS:kubernetes.default.svc.cluster.local\n");
      !s.ok()) {
    return R::Error(s.message());
  }
  if (Status s = SignedCert(dir, pki, "client", "/O=system:masters/CN=sonde-client-cert",
                            "basicConstraints=CA:FALSE\n"
                            "keyUsage=critical,digitalSignature,keyEncipherment\n"
                            "extendedKeyUsage=clientAuth\n");
      !s.ok()) {
    return R::Error(s.message());
  }
  // Service-account tokens are signed with RS256, so this key must be RSA.
  if (Status s =
          Openssl("service-account key", {"genrsa", "-out", pki.service_account_key, "2048"});
      !s.ok()) {
    return R::Error(s.message());
  }
  if (Status s = Openssl(
          "service-account public key",
          {"rsa", "-in", pki.service_account_key, "-pubout", "-out", pki.service_account_pub});
      !s.ok()) {
    return R::Error(s.message());
  }
  return pki;
}

}  // namespace sonde::kube
