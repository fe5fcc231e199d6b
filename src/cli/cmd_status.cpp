// auditpitr status: thin wiring over ops::collect_status; one line per check, OK or ATTENTION,
// exit 3 when something needs attention; --metrics FILE for node_exporter's textfile collector.
#include <ctime>
#include <memory>

#include "src/cli/cli_support.h"
#include "src/ops/status.h"
#include "src/util/fs.h"

namespace auditpitr::cli {
void print_status(const Output& out, const ops::StatusReport& report) {
  out.line(out.bold("auditpitr status of " + report.backup_dir));
  for (const auto& l : ops::status_lines(report)) {
    std::string tag = l.info ? pad("-", 10) : l.ok ? out.green(pad("OK", 10)) : out.red(pad("ATTENTION", 10));
    out.line(tag + printable(l.text));
  }
  std::size_t n = report.attention().size();
  out.line();
  out.line(n == 0 ? "Healthy." : count_text(n, "thing") + " need" + (n == 1 ? "s" : "") + " attention (exit 3).");
}

namespace {

struct StatusArgs {
  bool json = false;
  std::string metrics;
};

int run_status(const GlobalOptions& global, const StatusArgs& args) {
  Config config = load(global);
  Output out(args.json);
  ops::StatusReport report = ops::collect_status(config, std::time(nullptr));
  // Written before anything is printed: a scrape sees the state even when stdout is a closed pipe.
  if (!args.metrics.empty()) write_file_atomically(absolute_path(args.metrics), ops::status_metrics(report), 0644);
  if (args.json) out.json(ops::status_json(report));
  else print_status(out, report);
  return report.healthy() ? 0 : 3;
}

}  // namespace

void add_status_command(CLI::App& app, const GlobalOptions& global, Action& action) {
  auto args = std::make_shared<StatusArgs>();
  CLI::App* cmd = app.add_subcommand("status", "Is everything in order? Backups, their age, space, audit logs");
  set_details(cmd,
              "One line per check, OK or ATTENTION: per database the newest complete backup and its age\n"
              "([status] max_backup_age), the last backup, drill and push, the backup folder's free space\n"
              "against the next backup (as large as the last), and whether the audit logs cover the time\n"
              "since the newest backup ([status] max_log_lag, unread log files). Reads only files: no server\n"
              "is contacted. Exit 0 when healthy, 3 when something needs attention. docs/status.md.\n"
              "Example (cron, for node_exporter's textfile collector):\n"
              "  auditpitr status --metrics /var/lib/node_exporter/textfile/auditpitr.prom");
  cmd->add_flag("--json", args->json, "print one JSON object");
  cmd->add_option("--metrics", args->metrics,
                  "also write the status as Prometheus text format to FILE (atomically, mode 0644)");
  cmd->callback([&global, &action, args] { action = [&global, args] { return run_status(global, *args); }; });
}

}  // namespace auditpitr::cli
