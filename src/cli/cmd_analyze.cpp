// auditpitr analyze: what the audit logs hold and what a recovery from them would miss.
#include "replay/log/time_parse.h"
#include "src/cli/cli_support.h"
#include "src/error.h"
#include "src/ops/analyze.h"

namespace auditpitr::cli {
namespace {

struct AnalyzeArgs {
  bool json = false;
  std::string audit_dir;
  std::string backup;
  std::string since, until;
  bool strict = false;
  int gap_minutes = 60;
  int burst_window_seconds = 60;
  int burst_events = 30;
};

int run_analyze(const GlobalOptions& global, const AnalyzeArgs& args) {
  Config config = load(global);
  ops::AnalyzeOptions options;
  options.audit_dir = args.audit_dir;
  options.backup = args.backup;
  options.strict = args.strict;
  if (!args.since.empty()) options.since = replay::parse_cli_time(args.since, "--since");
  if (!args.until.empty()) options.until = replay::parse_cli_time(args.until, "--until");
  if (options.since && options.until && *options.until < *options.since)
    throw usage_error("--until " + args.until + " is before --since " + args.since, "swap them");
  options.gap_threshold = std::chrono::minutes(args.gap_minutes);
  options.burst_window = std::chrono::seconds(args.burst_window_seconds);
  options.burst_events = static_cast<uint64_t>(args.burst_events);
  Output out(args.json);
  ops::AnalyzeReport report = ops::analyze_audit(config, options, reporter_for(out));
  if (args.json) {
    out.json(ops::analyze_json(report));
    return 0;
  }
  print_report(out, ops::analyze_text(report));
  return 0;
}

}  // namespace

void add_analyze_command(CLI::App& app, const GlobalOptions& global, Action& action) {
  auto args = std::make_shared<AnalyzeArgs>();
  CLI::App* cmd =
      app.add_subcommand("analyze", "Report what the audit logs hold and what a recovery from them would miss");
  set_details(cmd,
              "Read the audit logs of [audit] dir (create/update/delete.log with their rotations and .gz, and\n"
              "error.log) and report: per file its lines, events, time span and malformed lines; per operation\n"
              "its count and what it maps to; gaps and bursts; and the column coverage of the [audit]\n"
              "database: which columns logged events write, which only at creation (later changes are\n"
              "not logged), which never, and which tables have no create events at all.\n"
              "The tables and columns come from the [audit] database, or with --backup from a backup's\n"
              "manifest: the server is then not contacted (an incident with the database down, a laptop\n"
              "with a copy of the logs and the backups).\n"
              "--since/--until limit the operations, timeline and coverage to a window of time, e.g. since a\n"
              "backup: what a recovery from it would replay. Times are RFC 3339 (2025-01-23T14:05:30Z,\n"
              "2025-01-23T11:05:30-03:00), local '2025-01-23 14:05:30' (TZ honoured) or a backup stamp\n"
              "20250123_140530 (local). Examples:\n"
              "  auditpitr analyze --audit-dir /mnt/copy-of-audit --json\n"
              "  auditpitr analyze --backup latest\n"
              "  auditpitr analyze --since 20250123_140530 --until '2025-01-23 18:00:00'");
  cmd->add_flag("--json", args->json, "print one JSON object");
  cmd->add_option("--audit-dir", args->audit_dir, "read the logs from DIR instead of [audit] dir");
  cmd->add_option("--backup", args->backup, "take the schema from backup STAMP (or latest), not from the server");
  cmd->add_option("--since", args->since, "only events at or after TIME (RFC 3339, local, or a stamp)");
  cmd->add_option("--until", args->until, "only events at or before TIME");
  cmd->add_flag("--strict", args->strict, "stop at the first malformed line (exit 3) instead of counting it");
  cmd->add_option("--gap-minutes", args->gap_minutes, "report silences longer than this")
      ->capture_default_str()
      ->check(CLI::PositiveNumber);
  cmd->add_option("--burst-window", args->burst_window_seconds, "burst window in seconds")
      ->capture_default_str()
      ->check(CLI::PositiveNumber);
  cmd->add_option("--burst-events", args->burst_events, "events in one window that make a burst")
      ->capture_default_str()
      ->check(CLI::PositiveNumber);
  cmd->callback([&global, &action, args] { action = [&global, args] { return run_analyze(global, *args); }; });
}

}  // namespace auditpitr::cli
