// Parsing the command line: CLI11's own errors ("A subcommand is required", "The following
// arguments were not expected: x --dbb") become usage Errors in the house format, with a hint.
#pragma once

#include <CLI/CLI.hpp>

#include "src/cli/commands.h"

namespace auditpitr::cli {

/// The options every command accepts before or after its name: -c/--config, -v/--verbose, --json.
/// Call before adding the subcommands (they inherit the fallthrough to these options).
void add_global_options(CLI::App& app, GlobalOptions& global);

/// Parses argv. Returns false when help or the version was printed (exit 0); throws a usage Error
/// for any mistake on the command line.
bool parse_command_line(CLI::App& app, const GlobalOptions& global, int argc, char** argv);

/// Whether --json was given, wherever it stands (before "--"); read from argv itself, so that a
/// command line that does not parse still gets its error as JSON.
bool json_requested(int argc, char** argv);

}  // namespace auditpitr::cli
