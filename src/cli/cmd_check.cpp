// auditpitr check (being built).
#include "src/cli/commands.h"

namespace auditpitr::cli {

void add_check_command(CLI::App& app, const GlobalOptions&, Action&) { app.add_subcommand("check", "check"); }

}  // namespace auditpitr::cli
