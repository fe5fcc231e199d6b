// auditpitr changes --from TIME --to TIME: what the logs say changed in a window.
#include "replay/log/time_parse.h"
#include "src/cli/cli_support.h"
#include "src/error.h"
#include "src/ops/changes.h"

namespace auditpitr::cli {
namespace {

struct ChangesArgs {
  bool json = false;
  std::string audit_dir, backup, from, to;
  std::vector<std::string> tables, users;
  bool strict = false;
};

int run_changes(const GlobalOptions& global, const ChangesArgs& args) {
  Config config = load(global);
  ops::ChangesOptions options;
  options.audit_dir = args.audit_dir;
  options.backup = args.backup;
  options.tables = args.tables;
  options.users = args.users;
  options.strict = args.strict;
  options.all_rows = args.json;  // the text form lists the first rows of each group only
  options.from = replay::parse_cli_time(args.from, "--from");
  options.to = replay::parse_cli_time(args.to, "--to");
  if (options.to < options.from) throw usage_error("--to " + args.to + " is before --from " + args.from, "swap them");
  Output out(args.json);
  ops::ChangesReport report = ops::changes(config, options);
  if (args.json) out.json_streamed([&report](const auto& write) { ops::changes_json(report, write); });
  else print_report(out, ops::changes_text(report));
  return 0;
}

}  // namespace

void add_changes_command(CLI::App& app, const GlobalOptions& global, Action& action) {
  auto args = std::make_shared<ChangesArgs>();
  CLI::App* cmd = app.add_subcommand("changes", "Show what the audit logs say changed in a window of time");
  set_details(cmd,
              "Read the audit logs of [audit] dir once and list the row changes of events between --from and\n"
              "--to (both included), grouped by table and action (insert, update, delete, soft_delete), with\n"
              "counts and the rows: key, time (UTC), operation, acting user (the rules' user_field), values,\n"
              "file:line. --table and --user (repeatable) keep only those tables or users: '--user alice'\n"
              "answers \"what did alice do\". A bulk reorder line counts once per row it names.\n"
              "The memory used does not grow with the window: --json keeps the rows beyond 4 MB in a\n"
              "temporary file in $TMPDIR (/tmp by default; removed at once, never left behind).\n"
              "Only the logs are read: the tables come from the [audit] database, or with --backup from a\n"
              "backup's manifest (the server is then not contacted).\n"
              "Times: RFC 3339 (2025-01-23T14:05:30Z), local '2025-01-23 14:05:30' or a stamp 20250123_140530.\n"
              "Examples:\n"
              "  auditpitr changes --from '2025-01-15 09:00:00' --to '2025-01-15 18:00:00'\n"
              "  auditpitr changes --from 20250115_090000 --to 2025-01-15T18:00:00Z --user user-bob --json\n"
              "  auditpitr changes --from 2025-01-15T00:00:00Z --to 2025-01-16T00:00:00Z --table categories");
  cmd->add_option("--from", args->from, "start of the window (included)")->required();
  cmd->add_option("--to", args->to, "end of the window (included)")->required();
  cmd->add_option("--table", args->tables, "only this table (repeatable)");
  cmd->add_option("--user", args->users, "only events of this user (repeatable)");
  cmd->add_flag("--json", args->json, "print one JSON object (docs/changes.md)");
  cmd->add_option("--audit-dir", args->audit_dir, "read the logs from DIR instead of [audit] dir");
  cmd->add_option("--backup", args->backup, "take the schema from backup STAMP (or latest), not from the server");
  cmd->add_flag("--strict", args->strict, "stop at the first malformed line (exit 3) instead of skipping it");
  cmd->callback([&global, &action, args] { action = [&global, args] { return run_changes(global, *args); }; });
}

}  // namespace auditpitr::cli
