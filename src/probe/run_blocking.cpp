#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <exception>

#include "probe/probe.hpp"

namespace sonde {

Observation RunProbeBlocking(const Probe& probe, Duration timeout) {
  boost::asio::io_context io;
  Observation out;
  boost::asio::co_spawn(io, probe.Run(timeout), [&](std::exception_ptr e, Observation observation) {
    if (e) {
      // A probe bug, not a network failure; still a value for the caller.
      try {
        std::rethrow_exception(e);
      } catch (const std::exception& ex) {
        out.error = probe.Target() + ": internal error: " + ex.what();
      }
      return;
    }
    out = std::move(observation);
  });
  io.run();
  return out;
}

}  // namespace sonde
