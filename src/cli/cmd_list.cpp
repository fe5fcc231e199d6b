// auditpitr list (being built).
#include "src/cli/commands.h"

namespace auditpitr::cli {

void add_list_command(CLI::App& app, const GlobalOptions&, Action&) { app.add_subcommand("list", "list"); }

}  // namespace auditpitr::cli
