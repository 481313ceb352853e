// Test support: a TLS-terminating HTTP/1.1 proxy between Sonde and a real kube-apiserver that
// injects what a healthy server never does on demand: a watch dropped mid-stream, 410 Gone
// on a watch resume, 429 and 500 answers, a server gone for a while. Everything else is
// relayed unchanged and streamed (watches included).
//
// Thread safety: the proxy runs on its own thread; every public method may be called from
// the test thread at any time.
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <string>

namespace sonde::testing {

struct FaultProxyOptions {
  std::string upstream_host = "127.0.0.1";
  uint16_t upstream_port = 0;
  std::string ca_file;    // verifies the upstream
  std::string cert_file;  // served to clients (the API server's own certificate will do)
  std::string key_file;
};

class FaultProxy {
 public:
  explicit FaultProxy(FaultProxyOptions options);  // listens on 127.0.0.1:<free port>
  ~FaultProxy();
  FaultProxy(const FaultProxy&) = delete;
  FaultProxy& operator=(const FaultProxy&) = delete;

  uint16_t port() const;
  std::string url() const { return "https://127.0.0.1:" + std::to_string(port()); }

  // Closes every watch stream relayed now, mid-stream.
  void DropWatches();
  // The next `count` requests whose target contains `path_part` (and whose method is
  // `method`, or any when empty) get `status` with a Kubernetes Status body, and a
  // Retry-After of `retry_after_seconds` when it is not negative.
  void FailNext(int count, int status, std::string path_part, std::string method = "",
                int retry_after_seconds = -1);
  // The next `count` watch requests that resume from a resourceVersion get a 200 stream
  // holding a single ERROR event with a 410 Expired Status, as the real server answers a
  // resourceVersion it no longer has.
  void ExpireNextWatchResumes(int count);
  // While down, connections are accepted and closed at once, and open streams are dropped.
  void SetDown(bool down);

  uint64_t requests() const;  // requests read from clients
  uint64_t watches_relayed() const;
  uint64_t faults_injected() const;

 private:
  struct Impl;
  std::shared_ptr<Impl> impl_;
};

}  // namespace sonde::testing
