// The `sonde` command: serve, status, run, validate, version.
#include <CLI/CLI.hpp>
#include <iostream>

#include "cli/client_commands.hpp"
#include "cli/logging.hpp"
#include "cli/serve.hpp"
#include "cli/serve_settings.hpp"
#include "sonde_version.hpp"

int main(int argc, char** argv) {
  CLI::App app{"Sonde: synthetic health checks, Kuberhealthy-compatible"};
  app.require_subcommand(1);

  sonde::ServeFlags flags;
  auto* serve = app.add_subcommand("serve", "Run the daemon: schedule checks, serve the status page");
  sonde::AddServeFlags(*serve, flags);

  std::string server = sonde::DefaultServer();
  bool as_json = false;
  auto* status = app.add_subcommand("status", "Show every check's state from a running daemon");
  status->add_option("--server", server, "Daemon base URL (env SONDE_SERVER)");
  status->add_flag("--json", as_json, "Print the daemon's /json document");

  std::string check;
  auto* run = app.add_subcommand("run", "Start a check now: sonde run NAMESPACE/NAME");
  run->add_option("check", check, "NAMESPACE/NAME")->required();
  run->add_option("--server", server, "Daemon base URL (env SONDE_SERVER)");

  std::vector<std::string> paths;
  auto* validate = app.add_subcommand("validate", "Check YAML files and directories for problems");
  validate->add_option("paths", paths, "Files or directories")->required();

  auto* version = app.add_subcommand("version", "Print the version");

  CLI11_PARSE(app, argc, argv);

  if (*serve) {
    auto settings = sonde::ResolveServeSettings(flags);
    if (!settings.ok()) {
      std::cerr << "sonde serve: " << settings.error() << "\n";
      return 2;
    }
    if (auto st = sonde::SetUpLogging(settings.value().log_format, settings.value().log_level);
        !st.ok()) {
      std::cerr << "sonde serve: " << st.message() << "\n";
      return 2;
    }
    return sonde::RunDaemon(settings.value());
  }
  if (*status) return sonde::StatusCommand(server, as_json);
  if (*run) return sonde::RunCommand(server, check);
  if (*validate) return sonde::ValidateCommand(paths);
  if (*version) std::cout << "sonde " << SONDE_VERSION << "\n";
  return 0;
}
