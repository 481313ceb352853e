// The `sonde` command: serve, status, run, validate, version.
#include <CLI/CLI.hpp>
#include <iostream>

#include "cli/check_command.hpp"
#include "cli/client_commands.hpp"
#include "cli/logging.hpp"
#include "cli/report_command.hpp"
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

  size_t limit = 20;
  auto* history = app.add_subcommand("history", "A check's runs, newest first: sonde history NS/NAME");
  history->add_option("check", check, "NAMESPACE/NAME")->required();
  history->add_option("--limit", limit, "How many runs [20]");
  history->add_option("--server", server, "Daemon base URL (env SONDE_SERVER)");
  history->add_flag("--json", as_json, "Print the API's JSON");

  std::string event_check;
  auto* events = app.add_subcommand("events", "Downtime events, newest first: sonde events [NS/NAME]");
  events->add_option("check", event_check, "NAMESPACE/NAME (default: every check)");
  events->add_option("--server", server, "Daemon base URL (env SONDE_SERVER)");
  events->add_flag("--json", as_json, "Print the API's JSON");

  std::vector<std::string> paths;
  auto* validate = app.add_subcommand("validate", "Check YAML files and directories for problems");
  validate->add_option("paths", paths, "Files or directories")->required();

  std::string check_kind;
  bool list_checks = false;
  auto* check_cmd = app.add_subcommand(
      "check", "Run a bundled Kuberhealthy-compatible check (configured by env): sonde check KIND");
  check_cmd->add_option("kind", check_kind,
                        "http, http-content, network-connection, ssl-expiry, ssl-handshake, dns");
  check_cmd->add_flag("--list", list_checks, "List the bundled checks");

  sonde::ReportOptions report_options;
  auto* report = app.add_subcommand(
      "report", "Run a job and report it to a heartbeat check: sonde report --url URL -- CMD ARGS");
  report->add_option("--url", report_options.url, "The check's heartbeat URL (sonde status)")
      ->required();
  report->add_option("--tail-bytes", report_options.tail_bytes,
                     "Output bytes sent with a failure [2000]");
  report->add_option("command", report_options.command, "The job and its arguments, after --")
      ->required();

  auto* rotate = app.add_subcommand(
      "rotate-url", "Give a heartbeat check a new URL (the old one stops working): NS/NAME");
  rotate->add_option("check", check, "NAMESPACE/NAME")->required();
  rotate->add_option("--server", server, "Daemon base URL (env SONDE_SERVER)");

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
  if (*history) return sonde::HistoryCommand(server, check, limit, as_json);
  if (*events) return sonde::EventsCommand(server, event_check, as_json);
  if (*validate) return sonde::ValidateCommand(paths);
  if (*check_cmd) return sonde::CheckCommand(check_kind, list_checks);
  if (*report) return sonde::ReportCommand(report_options);
  if (*rotate) return sonde::RotateUrlCommand(server, check);
  if (*version) std::cout << "sonde " << SONDE_VERSION << "\n";
  return 0;
}
