// auditpitr demo (being built).
#include "src/cli/commands.h"

namespace auditpitr::cli {

void add_demo_command(CLI::App& app, const GlobalOptions&, Action&) { app.add_subcommand("demo", "demo"); }

}  // namespace auditpitr::cli
