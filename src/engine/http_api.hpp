// The daemon's HTTP surface: the Kuberhealthy endpoints (status pages, report paths,
// /api/run, /api/logs, /healthz) mapped onto the engine. Request in, response out: the
// server does the I/O. Runs on the engine's executor; not thread-safe.
#pragma once

#include "engine/engine.hpp"
#include "runner/runner.hpp"
#include "server/http_types.hpp"

namespace sonde {

class HttpApi {
 public:
  // Borrows both; they must outlive this object.
  HttpApi(Engine& engine, const Runner& runner) : engine_(engine), runner_(runner) {}

  HttpResponse Handle(const HttpRequest& request);

 private:
  HttpResponse StatusPage(const HttpRequest& request, bool v3);
  HttpResponse Report(const HttpRequest& request);
  HttpResponse RunNow(const HttpRequest& request);
  HttpResponse Logs(const HttpRequest& request);
  HttpResponse Healthz();

  Engine& engine_;
  const Runner& runner_;
};

}  // namespace sonde
