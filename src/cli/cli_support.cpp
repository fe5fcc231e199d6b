// load() and reporter_for().
#include "src/cli/cli_support.h"

#include "src/util/format.h"
#include "src/util/fs.h"

namespace auditpitr::cli {

Config load(const GlobalOptions& global) {
  Config config = load_config(global.config_path);
  if (!global.identity_path.empty()) {
    config.identity_file = absolute_path(global.identity_path);
    config.identity_origin = "--identity";
  }
  return config;
}

std::string command_hint(const GlobalOptions& global, const std::string& args) {
  GlobalOptions defaults;
  std::string config = global.config_path == defaults.config_path ? "" : " -c " + shell_word(global.config_path);
  return "auditpitr" + config + " " + args;
}

ops::Reporter reporter_for(const Output& out) {
  ops::Reporter r;
  r.info = [&out](const std::string& t) { out.info(t); };
  r.success = [&out](const std::string& t) { out.success(t); };
  r.warning = [&out](const std::string& t) { out.warning(t); };
  r.progress = [&out](const std::string& t) { t.empty() ? out.clear_progress() : out.progress(t); };
  return r;
}

void print_line(const Output& out, const ops::ReportLine& line) {
  std::string text = printable(line.text);  // reports quote the logs
  switch (line.kind) {
    case ops::ReportLine::Kind::heading:
      out.line();
      out.line(out.bold(text));
      break;
    case ops::ReportLine::Kind::info: out.info(text); break;
    case ops::ReportLine::Kind::warning: out.warning(text); break;
    case ops::ReportLine::Kind::plain: out.line(text); break;
  }
}

void print_report(const Output& out, const std::vector<ops::ReportLine>& lines) {
  for (const auto& line : lines) print_line(out, line);
}

const char* const kExitCodesHelp =
    "Exit codes: 0 ok, 1 runtime error, 2 usage or configuration error, 3 verification mismatch\n"
    "or damaged backup, 4 refused (destructive action without confirmation), 130 interrupted (Ctrl-C),\n"
    "143 terminated (SIGTERM).";

// The options every command takes are the main app's (CLI11 lists them only there): named here
// too, so that 'auditpitr list --help' says how to point it at a configuration. Exit codes: main help.
void set_details(CLI::App* command, const std::string& details) {
  command->footer(details +
                  "\nAlso, before or after the command's name: -c,--config FILE (default auditpitr.toml), "
                  "-v,--verbose, --identity FILE (encrypted backups).");
}

}  // namespace auditpitr::cli
