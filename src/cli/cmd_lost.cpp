// auditpitr lost: the divergence between the audit logs and the live database; --restore brings
// the rows back (after a typed yes or --yes), --sql writes the same as a script.
#include "src/cli/cli_support.h"
#include "src/error.h"
#include "src/ops/lost.h"
#include "src/pg/process_runner.h"

namespace auditpitr::cli {
namespace {

/// The text report, printed as it is made: thousands of findings are tens of megabytes of text.
void print_lost(const Output& out, const ops::LostReport& report) {
  ops::lost_text(report, [&out](const ops::ReportLine& line) { print_line(out, line); });
}

struct LostArgs {
  bool json = false, strict = false, restore = false, yes = false;
  std::string audit_dir, since, sql;
  std::vector<std::string> tables, users;
};

void confirm(const Output& out, const ops::LostReport& report, bool yes) {
  if (yes) return;
  std::string what = std::to_string(report.rows.size()) + " row(s) of '" + report.database + "'";
  if (!stdin_is_terminal())
    throw refused_error("refusing to write " + what + " without confirmation: nothing was changed",
                        "run it in a terminal and type 'yes', or pass --yes (scripts); --sql FILE writes a script");
  std::string question =
      "\nThis writes back " + what + " listed above, in one transaction.\nEvery other row is left as it is.";
  if (!out.confirmed(question)) throw refused_error("lost --restore cancelled: nothing was changed");
}

int run_lost(const GlobalOptions& global, const LostArgs& args) {
  Config config = load(global);
  ops::LostOptions options;
  options.audit_dir = args.audit_dir;
  options.since = args.since;
  options.tables = args.tables;
  options.users = args.users;
  options.strict = args.strict;
  Output out(args.json);
  pg::PosixProcessRunner runner;
  ops::LostReport report = ops::find_lost(config, options, runner, reporter_for(out));
  if (!args.sql.empty()) ops::write_lost_sql(report, args.sql);
  if (args.restore && !report.rows.empty()) {
    if (!args.json) print_lost(out, report);
    confirm(out, report, args.yes);
    ops::restore_lost(config, report);
    if (!args.json) {
      out.line("Brought back " + std::to_string(report.rows.size()) + " row(s) into '" + report.database +
               "' in one transaction.");
      return 0;
    }
  }
  if (args.json) out.json_streamed([&report](const auto& write) { ops::lost_json(report, write); });
  else print_lost(out, report);
  bool settled = report.rows.empty() || report.restored || !args.sql.empty();
  return settled ? 0 : 3;
}

}  // namespace

void add_lost_command(CLI::App& app, const GlobalOptions& global, Action& action) {
  auto args = std::make_shared<LostArgs>();
  CLI::App* cmd = app.add_subcommand("lost", "Find rows the database lost behind the logs' back, and bring them back");
  set_details(cmd,
              "Compare the live [audit] database with what its newest backup and the audit logs after it say it\n"
              "should hold, and list, each with the event (or backup) that proves it:\n"
              "  missing           the logs say the row exists (created or changed, not deleted); it is gone\n"
              "  changed           a column differs from its logged value, and no later logged event explains it\n"
              "  deleted_unlogged  a row of the backup the logs never touched, gone without a logged delete\n"
              "Absences a logged delete's cascade explains are not losses. Nothing is written, except with\n"
              "--restore: the rows (parents first) are written back in one transaction after a typed 'yes'\n"
              "(or --yes), values from the logs where they carry them, from the backup otherwise; every other\n"
              "row is left alone, and a second run finds nothing. --sql FILE writes the same as a script.\n"
              "--since STAMP takes that backup as the baseline, --since TIME the newest backup at or before it.\n"
              "Exit: 0 nothing lost (or brought back / written to --sql), 3 rows are lost, 4 refused.\n"
              "Examples:\n"
              "  auditpitr lost\n"
              "  auditpitr lost --table projects --user user-bob --json\n"
              "  auditpitr lost --sql lost.sql        # review, then psql -f lost.sql\n"
              "  auditpitr lost --restore");
  cmd->add_option("--since", args->since, "baseline: backup STAMP, or the newest backup at or before TIME");
  cmd->add_option("--table", args->tables, "only this table (repeatable)");
  cmd->add_option("--user", args->users, "only rows whose proving event is this user's (repeatable)");
  cmd->add_flag("--restore", args->restore, "write the lost rows back (one transaction, asks first)");
  cmd->add_flag("--yes", args->yes, "do not ask before --restore (scripts)");
  cmd->add_option("--sql", args->sql, "write the statements that bring the rows back to FILE (one transaction)");
  cmd->add_flag("--json", args->json, "print one JSON object (docs/lost.md)");
  cmd->add_option("--audit-dir", args->audit_dir, "read the logs from DIR instead of [audit] dir");
  cmd->add_flag("--strict", args->strict, "stop at the first malformed line (exit 3) instead of skipping it");
  cmd->callback([&global, &action, args] { action = [&global, args] { return run_lost(global, *args); }; });
}

}  // namespace auditpitr::cli
