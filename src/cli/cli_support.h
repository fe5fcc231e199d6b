// Helpers shared by the subcommand files: loading the config, an Output-backed Reporter.
#pragma once

#include "src/cli/commands.h"
#include "src/cli/output.h"
#include "src/config/config.h"
#include "src/ops/analyze.h"
#include "src/ops/reporter.h"
#include "src/ops/status.h"

namespace auditpitr::cli {

Config load(const GlobalOptions& global);
ops::Reporter reporter_for(const Output& out);

/// "auditpitr [-c CONFIG] ARGS" for a hint: -c (shell-quoted) when another file than the default
/// was used, so that the command works as printed. `args` must already be shell-safe.
std::string command_hint(const GlobalOptions& global, const std::string& args);

/// The long help of a subcommand, shown by 'auditpitr COMMAND --help' under its options
/// (the one-line description stays short for the command list).
void set_details(CLI::App* command, const std::string& details);

/// Prints a report made of headings, info, warnings and plain lines (analyze's text report).
void print_report(const Output& out, const std::vector<ops::ReportLine>& lines);
/// One line of a report, as print_report prints each (for reports printed as they are made).
void print_line(const Output& out, const ops::ReportLine& line);

/// status's report: one line per check, OK / ATTENTION (coloured on a terminal), then the verdict
/// (defined in cmd_status.cpp; the demo prints it too).
void print_status(const Output& out, const ops::StatusReport& report);

/// The exit-code summary, once, at the end of the main help (docs/exit-codes.md has the table).
extern const char* const kExitCodesHelp;

}  // namespace auditpitr::cli
