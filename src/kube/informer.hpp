// An informer: keeps a local copy of one resource collection current with list + watch, so
// that read paths (the status page, /metrics) make no API call. It resumes a dropped watch
// from the last resourceVersion it saw (bookmarks keep that fresh), relists on 410 Gone, and
// backs off with jitter while the server fails.
//
// Thread safety: not thread-safe; lives on the client's executor. Handlers run there too.
// Ownership: borrows the client, which must outlive the informer's loop (Stop() it first or
// destroy the io_context after both).
// Failure: never stops on errors; the last one is kept in last_error() for the status page.
#pragma once

#include <boost/asio/any_io_executor.hpp>
#include <boost/json/object.hpp>
#include <functional>
#include <map>
#include <memory>
#include <string>

#include "kube/kube_client.hpp"

namespace sonde::kube {

struct InformerOptions {
  std::string path;            // collection: "/apis/comcast.github.io/v1/khchecks", or namespaced
  std::string label_selector;  // "" for all
  size_t page_size = 500;
  Duration min_backoff = std::chrono::seconds(1);
  Duration max_backoff = std::chrono::seconds(30);
  // The server ends each watch after timeoutSeconds in [watch_seconds, 2*watch_seconds), as
  // client-go does, so replicas do not all re-watch at once.
  int watch_seconds = 300;
};

struct InformerHandlers {
  std::function<void(const boost::json::object&)> upsert;  // added, or changed
  std::function<void(const boost::json::object&)> remove;  // deleted: its last known state
  std::function<void()> synced;                            // after each complete (re)list
};

struct InformerStats {
  uint64_t lists = 0;    // complete lists, the first included
  uint64_t watches = 0;  // watch requests started
  uint64_t gone = 0;     // 410 Gone answers (each forces a relist)
  uint64_t errors = 0;   // failed requests (each followed by a back-off)
};

class Informer {
 public:
  Informer(KubeClient& client, InformerOptions options, InformerHandlers handlers);
  ~Informer();  // stops the loop
  Informer(const Informer&) = delete;
  Informer& operator=(const Informer&) = delete;

  void Start(boost::asio::any_io_executor executor);
  // Cancels the request in flight; no handler runs afterwards.
  void Stop();

  bool synced() const;  // a complete list has been received
  // The cache, keyed "namespace/name" ("name" for cluster-scoped objects).
  const std::map<std::string, boost::json::object>& objects() const;
  const boost::json::object* Find(const std::string& key) const;
  const InformerStats& stats() const;
  const std::string& last_error() const;  // "" after a success
  // The collection's resource: the last segment of the path ("pods", "khchecks").
  std::string resource() const;

 private:
  struct State;
  std::shared_ptr<State> state_;
};

// "namespace/name" or "name" of an object; "" without metadata.name.
std::string ObjectKey(const boost::json::object& object);
// metadata.resourceVersion, or "".
std::string ResourceVersion(const boost::json::object& object);

}  // namespace sonde::kube
