// auditpitr state TABLE KEY --at TIME: the row as it was at TIME.
#include "replay/log/time_parse.h"
#include "src/cli/cli_support.h"
#include "src/error.h"
#include "src/ops/state.h"

namespace auditpitr::cli {
namespace {

struct StateArgs {
  bool json = false;
  std::string audit_dir, at, table, key;
  bool strict = false;
};

int run_state(const GlobalOptions& global, const StateArgs& args) {
  Config config = load(global);
  ops::StateOptions options;
  options.audit_dir = args.audit_dir;
  options.table = args.table;
  options.key = args.key;
  options.at = replay::parse_cli_time(args.at, "--at");
  options.strict = args.strict;
  Output out(args.json);
  pg::PosixProcessRunner runner;
  ops::StateReport report = ops::row_state(config, options, runner, reporter_for(out));
  if (args.json) out.json(ops::state_json(report));
  else print_report(out, ops::state_text(report));
  return 0;
}

}  // namespace

void add_state_command(CLI::App& app, const GlobalOptions& global, Action& action) {
  auto args = std::make_shared<StateArgs>();
  CLI::App* cmd = app.add_subcommand("state", "Show one row as it was at a moment: backup plus logged changes");
  set_details(cmd,
              "The row TABLE KEY (KEY: its primary key) of the [audit] database as it was at --at TIME: its values\n"
              "in the newest backup at or before TIME (only that table's data is read from the checked dump,\n"
              "nothing is restored), then the changes the audit logs record from the backup's snapshot up to\n"
              "TIME folded in. Each column says where its value comes from: the backup (unchanged since, as\n"
              "far as the logs say), a logged event (which one, file:line), or nothing (a row created after\n"
              "the backup whose creation did not log that column: not vouched for).\n"
              "Status: existed, deleted (the soft-delete column set) or absent (did not exist at TIME).\n"
              "Times: RFC 3339 (2025-01-23T14:05:30Z), local '2025-01-23 14:05:30' or a stamp 20250123_140530.\n"
              "Examples:\n"
              "  auditpitr state portfolios 1 --at '2025-01-23 14:05:00'\n"
              "  auditpitr state categories 4 --at 2025-01-23T17:05:00Z --json");
  cmd->add_option("table", args->table, "the row's table")->required();
  cmd->add_option("key", args->key, "the row's primary key")->required();
  cmd->add_option("--at", args->at, "the moment (RFC 3339, local, or a stamp)")->required();
  cmd->add_flag("--json", args->json, "print one JSON object (docs/state.md)");
  cmd->add_option("--audit-dir", args->audit_dir, "read the logs from DIR instead of [audit] dir");
  cmd->add_flag("--strict", args->strict, "stop at the first malformed line (exit 3) instead of skipping it");
  cmd->callback([&global, &action, args] { action = [&global, args] { return run_state(global, *args); }; });
}

}  // namespace auditpitr::cli
