// auditpitr recover: thin wiring over ops::plan_recover / run_recover. Decided here: the
// confirmation of --in-place (a typed 'yes' on a terminal, or --yes) and the exit code.
#include <unistd.h>

#include "replay/log/time_parse.h"
#include "src/cli/cli_support.h"
#include "src/error.h"
#include "src/ops/recover.h"
#include "src/pg/process_runner.h"

namespace auditpitr::cli {
namespace {

struct RecoverArgs {
  std::string to, db, into, audit_dir;
  bool in_place = false, yes = false, json = false;
  std::string on_conflict = "skip";
};

void confirm(const Output& out, const ops::RecoverPlan& plan, bool yes) {
  if (yes || !plan.options.in_place) return;
  if (!stdin_is_terminal())
    throw refused_error("refusing to replace '" + plan.database->dbname + "' without confirmation: nothing was changed",
                        "run it in a terminal and type 'yes', or pass --yes (scripts)");
  std::string question = "\nThis replaces the database '" + plan.database->dbname + "' with its state at " +
                         ops::display_time(plan.options.to) + ",\nrebuilt from backup " + plan.backup.stamp +
                         " and the audit logs, once verified.\nThe current database is kept as '" + plan.kept_dbname +
                         "'.";
  if (!out.confirmed(question)) throw refused_error("recover cancelled: nothing was changed");
}

int run_recover(const GlobalOptions& global, const RecoverArgs& args) {
  Config config = load(global);
  ops::RecoverOptions options;
  options.to = replay::parse_cli_time(args.to, "--to");
  options.alias = args.db;
  options.into = args.into;
  options.in_place = args.in_place;
  options.audit_dir = args.audit_dir;
  options.on_conflict = args.on_conflict == "fail" ? replay::ConflictPolicy::fail : replay::ConflictPolicy::skip;
  options.progress_total = ::isatty(2) != 0;
  Output out(args.json);
  ops::RecoverPlan plan = ops::plan_recover(config, options);
  confirm(out, plan, args.yes);
  pg::PosixProcessRunner runner;
  ops::RecoverReport report = ops::run_recover(config, plan, runner, reporter_for(out));
  if (args.json) out.json(ops::recover_json(report));
  else print_report(out, ops::recover_text(report));
  return report.ok() ? 0 : 3;
}

}  // namespace

void add_recover_command(CLI::App& app, const GlobalOptions& global, Action& action) {
  auto args = std::make_shared<RecoverArgs>();
  CLI::App* cmd = app.add_subcommand(
      "recover",
      "Point-in-time recovery: the nearest backup before TIME, the audit logs replayed up to TIME, verified");
  set_details(cmd,
              "Restore the newest backup taken at or before TIME into a new database, replay the audit logs\n"
              "from its snapshot up to TIME, and verify the result against the backup's figures and the logged\n"
              "changes (independently of the replay). The report says what was applied, what was verified per\n"
              "table and column, and what the logs could not bring back. The configured database is never\n"
              "touched, unless --in-place: then the verified result replaces it through restore's safe swap\n"
              "(the old one kept as <dbname>_before_restore_<STAMP of TIME>; asks for a typed 'yes', or --yes).\n"
              "Interrupted, run the same command again: it resumes. Exit 3 when verification fails.\n"
              "Times are RFC 3339 (2025-01-23T14:05:30Z, or with an offset), local '2025-01-23 14:05:30'\n"
              "(TZ honoured) or a stamp 20250123_140530 (local). docs/recover.md has the details. Examples:\n"
              "  auditpitr recover --to '2025-01-23 14:05:00'           # into portfolio_db_pitr_20250123_140500\n"
              "  auditpitr recover --to 2025-01-23T12:05:00Z --into portfolio_check --json\n"
              "  auditpitr recover --to 20250123_140500 --in-place --yes");
  cmd->add_option("--to", args->to, "the moment to recover (inclusive)")->required();
  cmd->add_option("--db", args->db, "database alias (default and only choice: the [audit] database)");
  cmd->add_option("--into", args->into, "build the recovery in database NEWDB (must not exist)");
  cmd->add_flag("--in-place", args->in_place, "replace the configured database once verified (asks first)");
  cmd->add_flag("-y,--yes", args->yes, "do not ask for confirmation (--in-place)");
  cmd->add_option("--audit-dir", args->audit_dir, "read the logs from DIR instead of [audit] dir");
  cmd->add_option("--on-conflict", args->on_conflict, "skip: leave conflicting events out; fail: stop (exit 3)")
      ->capture_default_str()
      ->check(CLI::IsMember({"skip", "fail"}));
  cmd->add_flag("--json", args->json, "print one JSON object");
  cmd->callback([&global, &action, args] { action = [&global, args] { return run_recover(global, *args); }; });
}

}  // namespace auditpitr::cli
