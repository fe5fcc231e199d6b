// auditpitr analyze: what the audit logs hold and what a recovery from them could (not) rebuild.
// No CLI11 here: src/cli/cmd_analyze.cpp parses options and prints.
#pragma once

#include <chrono>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "replay/log/audit_source.h"
#include "replay/log/log_files.h"
#include "replay/mapping/coverage.h"
#include "replay/mapping/mapping.h"
#include "src/config/config.h"
#include "src/ops/reporter.h"

namespace auditpitr {
class JsonWriter;
}

namespace auditpitr::ops {

/// What reading the logs left out, for the report of every command that reads them: files that
/// look like logs and are not read (a replay may be incomplete), and live files whose last line
/// is still being written (read by a later run).
struct LogsLeftOut {
  std::vector<replay::UnreadFile> unread_files;
  struct Unfinished {
    std::string path;
    uint64_t bytes = 0;
  };
  std::vector<Unfinished> unfinished_lines;
  /// Takes the unfinished lines of `files`.
  void add_unfinished(const std::vector<replay::AuditFileStats>& files);
};

/// The logical logs the command reads, when deciding which other files are reported as unread.
inline const std::vector<std::string_view> kReplayedLogs = {replay::kCreateLog, replay::kUpdateLog, replay::kDeleteLog};
inline const std::vector<std::string_view> kAnalyzedLogs = {replay::kCreateLog, replay::kUpdateLog, replay::kDeleteLog,
                                                            replay::kErrorLog};

struct AnalyzeOptions {
  std::string audit_dir;  ///< overrides [audit] dir when not empty
  /// "STAMP" or "latest": the schema comes from that backup's manifest instead of the database,
  /// so analyze works with the server down or out of reach.
  std::string backup;
  bool strict = false;  ///< a malformed line is fatal (exit 3, naming file:line) instead of counted
  /// Only events in [since, until] feed the operations, timeline, failures and coverage (e.g.
  /// since a backup: what a recovery from it would replay). The file counts cover whole files.
  std::optional<replay::TimePoint> since, until;
  std::chrono::seconds gap_threshold{3600};
  std::chrono::seconds burst_window{60};
  uint64_t burst_events = 30;  ///< a window with at least this many events is a burst
};

struct OperationSummary {
  std::string operation;
  uint64_t events = 0;
  uint64_t changes = 0;  ///< row changes made (fan-out makes several per event)
  uint64_t invalid = 0;
  std::string first_invalid;  ///< "file:line: reason"
  replay::OperationTarget target;
};

struct Gap {
  replay::TimePoint from, to;
  std::string after;   ///< file:line of the event before the gap
  std::string before;  ///< file:line of the event after it
};

/// Consecutive busy windows (burst_events or more events each) as one period.
struct Burst {
  replay::TimePoint start, end;  ///< from the first busy window's start to the last one's end
  uint64_t events = 0;
  uint64_t windows = 0;
  uint64_t peak = 0;  ///< the most events in one window
};

struct AnalyzeReport {
  std::string audit_dir, database, mapping;
  std::string schema_source;  ///< "database 'portfolio'" or "backup 20250115_100000 (manifest)"
  AnalyzeOptions options;
  std::vector<replay::AuditFileStats> files;        ///< create, update, delete.log
  std::vector<replay::AuditFileStats> error_files;  ///< error.log and its rotations; none when absent
  std::map<std::string, uint64_t> error_operations;
  std::vector<OperationSummary> operations;  ///< by name
  uint64_t events = 0, changes = 0;
  std::optional<replay::TimePoint> first, last;
  std::vector<Gap> gaps;
  std::vector<Burst> bursts;
  std::vector<replay::UnmappedField> unmapped;
  std::vector<replay::TableCoverage> coverage;
  LogsLeftOut left_out;
};

/// The work itself, over any event sources (tests feed their own). `errors` may be null.
/// Progress (events read, the time reached) goes to `reporter` about twice a second.
AnalyzeReport analyze_events(replay::AuditEventSource& events, replay::AuditEventSource* errors, replay::Mapper& mapper,
                             const AnalyzeOptions& options, const Reporter& reporter);

/// Reads [audit] from the configuration, loads the rules, reads the catalog of the audit database
/// and analyses dir/{create,update,delete,error}.log. Usage Error (exit 2) for configuration and
/// rules problems, and for a backup without a manifest; runtime Error (exit 1) when the server
/// cannot be reached (with options.backup, it is not contacted).
AnalyzeReport analyze_audit(const Config& config, const AnalyzeOptions& options, const Reporter& reporter);

/// Builds the Mapper for `config`'s [audit] section (used by analyze, later by recover). The
/// target's tables come from the [audit] database, or from the manifest of `backup` (a stamp or
/// "latest") when it is not empty; `described` says which ("database 'portfolio'",
/// "backup 20250115_100000 (manifest)").
replay::Mapper open_mapper(const Config& config, const std::string& backup = {}, std::string* described = nullptr);

/// Usage Error (exit 2) when the configuration has no [audit] section.
void require_audit_section(const Config& config);
/// The audit log folder: `override_dir` when given, else [audit] dir; usage Error when there is no
/// [audit] section or the folder does not exist (said before any server is contacted).
std::string audit_dir_of(const Config& config, const std::string& override_dir);

/// One JSON object (--json).
std::string analyze_json(const AnalyzeReport& report);

struct ReportLine {
  enum class Kind { heading, info, warning, plain } kind = Kind::plain;
  std::string text;
};
/// `left_out` as report lines: a warning (and its hint) per unread file, one line for the unfinished ones.
void left_out_text(const LogsLeftOut& left_out, std::vector<ReportLine>& out);
/// `left_out` as the fields `unread_files` [{path, reason, hint}] and `unfinished_lines` [{path, bytes}].
void left_out_json(JsonWriter& w, const LogsLeftOut& left_out);
/// The human report, readable at 3 a.m.: problems first-class, numbers aligned.
std::vector<ReportLine> analyze_text(const AnalyzeReport& report);

/// "2025-01-15 09:00:00Z" (fractions only when present).
std::string display_time(replay::TimePoint time);

}  // namespace auditpitr::ops
