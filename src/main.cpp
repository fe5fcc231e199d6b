// auditpitr's entry point: CLI11 wiring, and the one place where Errors become exit codes.
#include <iostream>

#include "src/cli/cli_support.h"
#include "src/cli/command_line.h"
#include "src/error.h"
#include "src/util/heap.h"
#include "src/util/interrupt.h"

using namespace auditpitr;

namespace {

// A failure once SIGINT/SIGTERM arrived is the stop's doing (a cancelled query, a stopped child):
// it is reported as the stop, exit 130 or 143, the failure itself as the cause.
Error as_stop_if_interrupted(const Error& e) {
  if (!interrupt_requested() || e.kind() == ErrorKind::interrupted || e.kind() == ErrorKind::terminated) return e;
  return stop_error(e.what());
}

// On stderr always; under --json also on stdout, as the one document a script reads there.
int report(const Error& raised, bool verbose, bool json) {
  Error e = as_stop_if_interrupted(raised);
  std::cerr << "auditpitr: " << e.what() << "\n";
  if (!e.hint().empty()) std::cerr << "HINT: " << e.hint() << "\n";
  if (verbose && !e.cause().empty()) std::cerr << "cause: " << e.cause() << "\n";
  if (json) cli::json_error(e);
  return exit_code(e.kind());
}

}  // namespace

int main(int argc, char** argv) {
  install_interrupt_handlers();
  CLI::App app{
      "auditpitr keeps a PostgreSQL application's data safe: verified backups, safe restores,\n"
      "and point-in-time recovery from the application's own audit logs.\n",
      "auditpitr"};
  app.require_subcommand(1);
  app.set_version_flag("--version", "auditpitr 0.1.0");
  cli::GlobalOptions global;
  cli::add_global_options(app, global);
  app.footer(std::string(cli::kExitCodesHelp) +
             "\nRun 'auditpitr COMMAND --help' for a command's options; docs/ has the details.\n"
             "Start here: 'auditpitr demo' tries everything on a throwaway server with sample data.");

  cli::Action action;
  // In the order a user needs them: the help lists them so.
  cli::add_backup_command(app, global, action);
  cli::add_status_command(app, global, action);
  cli::add_list_command(app, global, action);
  cli::add_check_command(app, global, action);
  cli::add_restore_command(app, global, action);
  cli::add_recover_command(app, global, action);
  cli::add_verify_command(app, global, action);
  cli::add_analyze_command(app, global, action);
  cli::add_replay_command(app, global, action);
  cli::add_kept_command(app, global, action);
  cli::add_drill_command(app, global, action);
  cli::add_prune_command(app, global, action);
  cli::add_schedule_command(app, global, action);
  cli::add_push_command(app, global, action);
  cli::add_pull_command(app, global, action);
  cli::add_export_command(app, global, action);
  cli::add_demo_command(app, global, action);
  cli::add_history_command(app, global, action);
  cli::add_changes_command(app, global, action);
  cli::add_state_command(app, global, action);
  cli::add_lost_command(app, global, action);
  for (CLI::App* command : app.get_subcommands([](CLI::App*) { return true; })) command->group("Commands");

  bool json = cli::json_requested(argc, argv);  // known even when parsing fails
  try {
    if (!cli::parse_command_line(app, global, argc, argv)) return 0;  // --help or --version
    if (app.got_subcommand("lost")) keep_freed_heap();                // its fold grows the heap by hundreds of MB
    return action ? action() : 0;
  } catch (const Error& e) {
    return report(e, global.verbose, json);
  } catch (const std::exception& e) {
    return report(runtime_error(std::string("unexpected error: ") + e.what()), global.verbose, json);
  }
}
