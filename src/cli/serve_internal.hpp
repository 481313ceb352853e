// Internal to the cli module: what the local daemon (serve.cpp) and the operator
// (serve_kube.cpp) share.
#pragma once

#include <string>

#include "cli/serve.hpp"
#include "core/result.hpp"

namespace sonde {

std::string HostName();
// The base URL checkers report to: --reporting-url, else derived from the listen address (a
// wildcard address is reached through loopback).
std::string ReportingBase(const ServeSettings& s, const std::string& host, uint16_t port);
// Writes `url` to `path` atomically (for scripts and tests waiting for the daemon).
Status WriteReadyFile(const std::string& path, const std::string& url);
// Operator mode (serve_kube.cpp).
int RunKubeDaemon(const ServeSettings& settings);

}  // namespace sonde
