// auditpitr changes: what the logs say changed in a window of time, grouped by table and action,
// optionally only some tables or some users ("what did this user do"). One streaming pass; the
// memory it needs does not grow with the window (counts, the first rows of each group, and for
// --json the rendered rows in a temporary file).
#pragma once

#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "replay/log/audit_source.h"
#include "replay/mapping/mapping.h"
#include "src/config/config.h"
#include "src/ops/analyze.h"
#include "src/ops/history.h"
#include "src/util/spill.h"

namespace auditpitr::ops {

/// The rows of each group the text form lists (--json lists them all).
constexpr std::size_t kChangesRowsShown = 20;

struct ChangesOptions {
  std::string audit_dir;  ///< overrides [audit] dir when not empty
  std::string backup;     ///< "STAMP" or "latest": the schema from that backup's manifest, no server
  replay::TimePoint from, to;
  std::vector<std::string> tables;  ///< empty: all
  std::vector<std::string> users;   ///< empty: all
  bool strict = false;
  /// Keep every row, rendered as changes_json lists it, for changes_json (in a temporary file
  /// beyond `memory_budget` bytes). false: counts and the first rows only, all changes_text needs.
  bool all_rows = true;
  std::size_t memory_budget = 4u << 20;
};

/// One row change of the window.
struct ChangedRow {
  std::string key;
  replay::TimePoint time;
  std::string operation, user;
  std::vector<HistoryValue> set, from;
  std::string file;
  uint64_t line_number = 0;
};

/// The changes of one table by one action. Only the first rows are held: the memory stays the same
/// however many rows the window has.
struct ChangeGroup {
  std::string table, action;
  uint64_t count = 0;                  ///< rows
  std::vector<ChangedRow> first_rows;  ///< the first kChangesRowsShown rows, in time order
  std::size_t bucket = 0;              ///< where ChangesReport::rows holds all of them (all_rows)
};

struct ChangesReport {
  std::string audit_dir, schema_source, user_field;
  ChangesOptions options;
  uint64_t events = 0;              ///< events in the window (before the table and user filters)
  uint64_t matched_events = 0;      ///< of which passed the filters and changed rows
  std::vector<ChangeGroup> groups;  ///< by table, then action
  /// With ChangesOptions::all_rows: every row as changes_json lists it, one bucket per group, in
  /// time order (null otherwise).
  std::shared_ptr<SpillBuckets> rows;
  LogsLeftOut left_out;
};

/// Usage Error (exit 2) for a --table the catalog lacks (naming the tables).
ChangesReport changes_events(replay::AuditEventSource& events, replay::Mapper& mapper, const ChangesOptions& options,
                             const std::string& schema_source = "the catalog");
ChangesReport changes(const Config& config, const ChangesOptions& options);

/// One row as changes_json lists it (indented for its place in the document).
std::string changed_row_json(const ChangedRow& row);
/// The JSON document (docs/changes.md), handed to `write` piece by piece: it can be far larger than
/// the memory changes holds. Needs a report made with all_rows (a logic_error otherwise).
void changes_json(const ChangesReport& report, const std::function<void(const std::string&)>& write);
/// The same document whole (tests, small windows).
std::string changes_json(const ChangesReport& report);
std::vector<ReportLine> changes_text(const ChangesReport& report);

}  // namespace auditpitr::ops
