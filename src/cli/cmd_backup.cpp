// auditpitr backup (being built).
#include "src/cli/commands.h"

namespace auditpitr::cli {

void add_backup_command(CLI::App& app, const GlobalOptions&, Action&) { app.add_subcommand("backup", "backup"); }

}  // namespace auditpitr::cli
