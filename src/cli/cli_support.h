// Helpers shared by the subcommand files: loading the config, an Output-backed Reporter.
#pragma once

#include "src/cli/commands.h"
#include "src/cli/output.h"
#include "src/config/config.h"
#include "src/ops/reporter.h"

namespace auditpitr::cli {

Config load(const GlobalOptions& global);
ops::Reporter reporter_for(const Output& out);

}  // namespace auditpitr::cli
