// auditpitr history TABLE KEY: every logged event that touched one row.
#include "replay/log/time_parse.h"
#include "src/cli/cli_support.h"
#include "src/error.h"
#include "src/ops/history.h"

namespace auditpitr::cli {
namespace {

struct HistoryArgs {
  bool json = false;
  std::string audit_dir, backup, since, until;
  std::string table, key;
  bool strict = false;
};

int run_history(const GlobalOptions& global, const HistoryArgs& args) {
  Config config = load(global);
  ops::HistoryOptions options;
  options.audit_dir = args.audit_dir;
  options.backup = args.backup;
  options.table = args.table;
  options.key = args.key;
  options.strict = args.strict;
  if (!args.since.empty()) options.since = replay::parse_cli_time(args.since, "--since");
  if (!args.until.empty()) options.until = replay::parse_cli_time(args.until, "--until");
  if (options.since && options.until && *options.until < *options.since)
    throw usage_error("--until " + args.until + " is before --since " + args.since, "swap them");
  Output out(args.json);
  ops::HistoryReport report = ops::history(config, options);
  if (args.json) out.json(ops::history_json(report));
  else print_report(out, ops::history_text(report));
  return report.entries.empty() ? 1 : 0;
}

}  // namespace

void add_history_command(CLI::App& app, const GlobalOptions& global, Action& action) {
  auto args = std::make_shared<HistoryArgs>();
  CLI::App* cmd = app.add_subcommand("history", "Show every logged event that touched one row");
  set_details(cmd,
              "Read the audit logs of [audit] dir once and list, in time order, every event that touched the\n"
              "row TABLE KEY (KEY: its primary key): time (UTC), operation, action, acting user (the rules'\n"
              "user_field), the values set (with the 'from' values the log carries, as from→to), file:line.\n"
              "Rows reached through a fan-out (one bulk reorder line naming many rows) are found too, and a\n"
              "delete of a parent that cascades to the row (the mapping's cascades) is shown as\n"
              "cascade_delete/cascade_soft_delete with the path from the parent to the row.\n"
              "Only the logs are read: the tables come from the [audit] database, or with --backup from a\n"
              "backup's manifest (the server is then not contacted). Exit 1 when no event touched the row.\n"
              "Times: RFC 3339 (2025-01-23T14:05:30Z), local '2025-01-23 14:05:30' or a stamp 20250123_140530.\n"
              "Examples:\n"
              "  auditpitr history categories 4\n"
              "  auditpitr history sections 3 --since '2025-01-15 09:00:00' --json\n"
              "  auditpitr history projects 17 --backup latest --audit-dir /mnt/copy-of-audit");
  cmd->add_option("table", args->table, "the row's table")->required();
  cmd->add_option("key", args->key, "the row's primary key")->required();
  cmd->add_flag("--json", args->json, "print one JSON object (docs/history.md)");
  cmd->add_option("--audit-dir", args->audit_dir, "read the logs from DIR instead of [audit] dir");
  cmd->add_option("--backup", args->backup, "take the schema from backup STAMP (or latest), not from the server");
  cmd->add_option("--since", args->since, "only events at or after TIME");
  cmd->add_option("--until", args->until, "only events at or before TIME");
  cmd->add_flag("--strict", args->strict, "stop at the first malformed line (exit 3) instead of skipping it");
  cmd->callback([&global, &action, args] { action = [&global, args] { return run_history(global, *args); }; });
}

}  // namespace auditpitr::cli
