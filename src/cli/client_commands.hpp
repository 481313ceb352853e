// The CLI's client side: commands that talk to a running daemon, and `validate`.
// Each returns the process exit code and prints to stdout (results) or stderr (problems).
#pragma once

#include <string>
#include <vector>

namespace sonde {

// Default server: $SONDE_SERVER, else http://127.0.0.1:8080.
std::string DefaultServer();

// `sonde status`: a table of checks (check, state, last run, duration, first error), or the
// daemon's /json document with `json`. Exit 0 when every check is OK, 1 when any fails,
// 2 when the daemon cannot be reached.
int StatusCommand(const std::string& server, bool json);
// `sonde run NS/NAME`: POST /api/run. Exit 0 on 202.
int RunCommand(const std::string& server, const std::string& check);
// `sonde history NS/NAME`: the check's runs, newest first (at most `limit`).
int HistoryCommand(const std::string& server, const std::string& check, size_t limit, bool json);
// `sonde events [NS/NAME]`: downtime events, newest first, of one check or all.
int EventsCommand(const std::string& server, const std::string& check, bool json);
// `sonde rotate-url NS/NAME`: POST /api/heartbeat/rotate; prints the new URL.
int RotateUrlCommand(const std::string& server, const std::string& check);
// `sonde validate PATH...`: every problem, one per line; exit 1 if any.
int ValidateCommand(const std::vector<std::string>& paths);

}  // namespace sonde
