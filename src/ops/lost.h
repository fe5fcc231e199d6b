// auditpitr lost: the divergence between the audit logs and the live database, and bringing back
// exactly the rows that were lost (docs/lost.md). The baseline is a backup: its rows and the
// changes the logs record after its snapshot say what the live database should hold. Found:
//  - missing: a row the logs say exists (created or changed, not deleted) that the database lacks;
//  - changed: a column whose logged value differs from the live one, no later logged event
//    explaining it;
//  - deleted_unlogged: a row of the backup the logs never touched, gone without a logged delete.
// Absences a logged delete's cascade explains are not losses. Nothing is written except by
// restore_lost (one transaction); write_lost_sql writes the same as a script.
#pragma once

#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "replay/apply/target_catalog.h"
#include "src/config/config.h"
#include "src/ops/analyze.h"
#include "src/ops/reporter.h"
#include "src/pg/process_runner.h"

namespace auditpitr::ops {

struct LostOptions {
  std::string audit_dir;  ///< overrides [audit] dir when not empty
  /// A backup's STAMP, or a TIME (the newest backup at or before it); empty: the newest backup.
  std::string since;
  std::vector<std::string> tables;  ///< empty: every table
  std::vector<std::string> users;   ///< empty: every user (deleted_unlogged rows have no user)
  bool strict = false;
};

/// The logged event a finding rests on: one copy per event, shared by the values it set (a created
/// row's columns share their creation's).
struct LostEvent {
  std::string operation, user, file;
  uint64_t line_number = 0;
  replay::TimePoint time;
};

/// A value the row should hold: from the logs (with the event) or from the backup. Values are
/// COPY text ("\N": NULL), as PostgreSQL renders them in the column's type.
struct LostValue {
  std::string column;
  std::string value;
  std::string source;  ///< "log" or "backup"
  std::shared_ptr<const LostEvent> event;
  std::optional<std::string> live;  ///< changed rows: what the database holds instead
  bool automatic = false;           ///< the event's time (compared only as set or not set)
};

struct LostRow {
  std::string table;  ///< schema.name
  std::string key;    ///< the primary key's COPY text (fields joined by tabs)
  std::string kind;   ///< missing, changed, deleted_unlogged
  bool in_backup = false;
  std::shared_ptr<const LostEvent> event;  ///< the last logged event of the row (none for deleted_unlogged)
  /// missing / deleted_unlogged: every value a restore writes (columns left out take their
  /// default); changed: the columns that differ.
  std::vector<LostValue> values;
};

struct LostReport {
  std::string database, audit_dir, user_field;
  std::string backup_stamp;
  replay::TimePoint snapshot;
  bool snapshot_from_stamp = false;
  LostOptions options;
  uint64_t events = 0;        ///< events read after the snapshot
  uint64_t touched_rows = 0;  ///< rows the logged changes reach
  uint64_t backup_rows = 0;   ///< rows of the backup read (tables in scope)
  uint64_t explained = 0;     ///< absences a logged delete's cascade explains (not listed)
  std::vector<LostRow> rows;  ///< parents before children (foreign keys), then by key
  std::vector<replay::TargetTable> tables;
  LogsLeftOut left_out;
  // restore_lost / write_lost_sql
  bool restored = false;
  std::string sql_file;
  uint64_t statements = 0;
};

LostReport find_lost(const Config& config, const LostOptions& options, pg::ProcessRunner& runner,
                     const Reporter& reporter);
/// Writes the rows back into the live database in one transaction (re-finding them first would be
/// the caller's choice). Runtime Error, nothing changed, when any statement fails.
void restore_lost(const Config& config, LostReport& report);
/// The same statements as a psql script (one transaction), written atomically.
void write_lost_sql(LostReport& report, const std::string& path);

/// The JSON document (docs/lost.md), handed to `write` piece by piece as it is made.
void lost_json(const LostReport& report, const std::function<void(const std::string&)>& write);
/// The text report, handed to `emit` a line at a time (each row's values are aligned among
/// themselves: no line waits for the rows after it).
void lost_text(const LostReport& report, const std::function<void(const ReportLine&)>& emit);
std::vector<ReportLine> lost_text(const LostReport& report);

}  // namespace auditpitr::ops
