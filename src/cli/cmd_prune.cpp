// auditpitr prune (being built).
#include "src/cli/commands.h"

namespace auditpitr::cli {

void add_prune_command(CLI::App& app, const GlobalOptions&, Action&) { app.add_subcommand("prune", "prune"); }

}  // namespace auditpitr::cli
