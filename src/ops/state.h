// auditpitr state TABLE KEY --at TIME: the row as it was at TIME: its values in the newest backup
// at or before TIME (one table's data read from the dump, nothing restored), with the changes the
// logs record between the backup's snapshot and TIME folded in, each column marked by its source.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "src/config/config.h"
#include "src/ops/history.h"
#include "src/pg/process_runner.h"

namespace auditpitr::ops {

struct StateOptions {
  std::string audit_dir;  ///< overrides [audit] dir when not empty
  std::string table, key;
  replay::TimePoint at;
  bool strict = false;
};

/// One column of the row at TIME.
struct StateColumn {
  enum class Source { backup, event, unknown };
  std::string name;
  std::string value;
  bool is_null = false;
  Source source = Source::unknown;
  /// source == event: the event that set it last ("UPDATE_PORTFOLIO", time, file:line).
  std::optional<HistoryEntry> event;
};
const char* source_name(StateColumn::Source source);

struct StateReport {
  std::string table, key, key_column, database;
  replay::TimePoint at;
  std::string backup_stamp, backup_path;
  replay::TimePoint snapshot;
  bool snapshot_from_stamp = false;  ///< no manifest: the stamp (when the backup started) stands in
  bool in_backup = false;            ///< the row was in the backup
  /// "existed", "deleted" (soft: the soft-delete column set) or "absent" (did not exist, or deleted for good).
  std::string status;
  std::vector<StateColumn> columns;   ///< empty when absent
  std::vector<HistoryEntry> events;   ///< the logged events folded in, in order
  std::vector<std::string> unjudged;  ///< cascades history could not judge (see docs/history.md)
};

StateReport row_state(const Config& config, const StateOptions& options, pg::ProcessRunner& runner,
                      const Reporter& reporter);

std::string state_json(const StateReport& report);
std::vector<ReportLine> state_text(const StateReport& report);

}  // namespace auditpitr::ops
