// auditpitr replay: apply the audit events of a window to the database, exactly once.
#include <unistd.h>

#include "replay/log/time_parse.h"
#include "src/cli/cli_support.h"
#include "src/error.h"
#include "src/ops/replay.h"

namespace auditpitr::cli {
namespace {

struct ReplayArgs {
  bool json = false;
  std::string to, from, into, audit_dir, sql_file;
  std::vector<std::string> tables, users;
  bool dry_run = false;
  std::string on_conflict = "skip";
  int batch = static_cast<int>(ops::kDefaultBatchEvents);
  bool no_fold = false;
};

int run_replay(const GlobalOptions& global, const ReplayArgs& args) {
  Config config = load(global);
  ops::ReplayOptions options;
  options.to = replay::parse_cli_time(args.to, "--to");
  if (!args.from.empty()) options.from = replay::parse_cli_time(args.from, "--from");
  options.into = args.into;
  options.audit_dir = args.audit_dir;
  options.tables.insert(args.tables.begin(), args.tables.end());
  options.users.insert(args.users.begin(), args.users.end());
  options.dry_run = args.dry_run;
  options.sql_file = args.sql_file;
  if (options.dry_run && !options.sql_file.empty())
    throw usage_error("--dry-run and --sql do not go together", "--sql applies nothing anyway");
  options.on_conflict = args.on_conflict == "fail" ? replay::ConflictPolicy::fail : replay::ConflictPolicy::skip;
  options.batch_events = static_cast<std::size_t>(args.batch);
  options.fold = !args.no_fold;
  options.count_first = ::isatty(2) != 0;
  Output out(args.json);
  ops::ReplayReport report = ops::run_replay(config, options, reporter_for(out));
  if (args.json) out.json(ops::replay_json(report));
  else print_report(out, ops::replay_text(report));
  return 0;
}

}  // namespace

void add_replay_command(CLI::App& app, const GlobalOptions& global, Action& action) {
  auto args = std::make_shared<ReplayArgs>();
  CLI::App* cmd =
      app.add_subcommand("replay", "Apply the audit logs' events of a window to the database, exactly once");
  set_details(cmd,
              "Apply the change events of create/update/delete.log (rotations and .gz included) whose time is\n"
              "after --from and up to --to to the [audit] database (or --into DBNAME on the same server),\n"
              "mapped by the conventions and the rules file. Inserts of existing keys update, updates and\n"
              "deletes of missing rows are conflicts, logged old values are checked (drift). Progress is\n"
              "recorded in the database (schema auditpitr) with each batch: an interrupted replay run again\n"
              "continues where it stopped, and a finished one changes nothing. docs/replay.md has the details.\n"
              "--from defaults to the snapshot time of the backup auditpitr restored into the database, minus\n"
              "[audit] skew_margin_seconds. Times are RFC 3339 (2025-01-23T14:05:30Z), local\n"
              "'2025-01-23 14:05:30' (TZ honoured) or a backup stamp 20250123_140530 (local). Examples:\n"
              "  auditpitr replay --to '2025-01-23 14:05:00'\n"
              "  auditpitr replay --from 20250123_020000 --to 2025-01-23T14:05:00Z --into portfolio_copy\n"
              "  auditpitr replay --to 20250123_140500 --dry-run --table portfolios --user 42\n"
              "  auditpitr replay --from 20250123_020000 --to 20250123_140500 --sql replay.sql");
  cmd->add_option("--to", args->to, "apply events up to TIME (inclusive)")->required();
  cmd->add_option("--from", args->from, "apply events after TIME (default: the restored backup's snapshot)");
  cmd->add_option("--into", args->into, "apply to database DBNAME on the [audit] database's server");
  cmd->add_option("--audit-dir", args->audit_dir, "read the logs from DIR instead of [audit] dir");
  cmd->add_option("--table", args->tables, "apply only changes of table T (repeatable)");
  cmd->add_option("--user", args->users, "apply only events of user U (the rules' user_field; repeatable)");
  cmd->add_flag("--dry-run", args->dry_run, "apply and roll back: report what would happen, change nothing");
  cmd->add_option("--sql", args->sql_file, "write an SQL script for psql to FILE instead of applying");
  cmd->add_option("--on-conflict", args->on_conflict, "skip: leave conflicting events out; fail: stop (exit 3)")
      ->capture_default_str()
      ->check(CLI::IsMember({"skip", "fail"}));
  cmd->add_option("--batch", args->batch, "events per transaction")->capture_default_str()->check(CLI::PositiveNumber);
  cmd->add_flag("--no-fold", args->no_fold,
                "apply every change with its own statement instead of each row's net change (slower; the same "
                "result: for comparison)");
  cmd->add_flag("--json", args->json, "print one JSON object");
  cmd->callback([&global, &action, args] { action = [&global, args] { return run_replay(global, *args); }; });
}

}  // namespace auditpitr::cli
