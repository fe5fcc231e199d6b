// auditpitr history: every logged event that touched one row, in time order, read from the audit
// logs alone (one streaming pass; the server is not needed when the schema comes from a backup).
// No CLI11 here: src/cli/cmd_history.cpp parses options and prints.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "replay/log/audit_source.h"
#include "replay/mapping/mapping.h"
#include "src/config/config.h"
#include "src/ops/analyze.h"
#include "src/ops/reporter.h"
#include "src/util/json_writer.h"

namespace auditpitr::ops {

struct HistoryOptions {
  std::string audit_dir;  ///< overrides [audit] dir when not empty
  std::string backup;     ///< "STAMP" or "latest": the schema from that backup's manifest, no server
  std::string table;
  std::string key;  ///< the row's primary key, as text
  std::optional<replay::TimePoint> since, until;
  bool strict = false;
};

/// One column's value in an event: the new value (set) or the one the log says it had (from).
struct HistoryValue {
  std::string column;
  std::string value;  ///< Value::text; empty with is_null
  bool is_null = false;
  std::string field;  ///< the log field it came from: "title", "items[1].position", "(event time)"
};

/// The parent row whose delete cascaded to this row (cascade entries only).
struct CascadeCause {
  std::string table, key;
  std::vector<std::string> path;  ///< "categories.portfolio_id = 4", from the parent down to the row
};

struct HistoryEntry {
  replay::TimePoint time;
  std::string operation;
  std::string action;  ///< insert, update, delete, soft_delete
  std::string user;    ///< the rules' user_field; empty when the line has none
  std::vector<HistoryValue> set, from;
  std::string file;
  uint64_t line_number = 0;
  int32_t element = -1;  ///< the fan-out element (bulk reorder items) the row was reached through
  std::optional<CascadeCause> cascade;
};

struct HistoryReport {
  std::string audit_dir, schema_source, table, key, key_column, user_field;
  std::optional<replay::TimePoint> since, until;
  std::vector<HistoryEntry> entries;
  uint64_t events = 0;  ///< events read
  /// Deletes of possible ancestors whose cascade could not be judged: the logs never said which
  /// parent the row (or an intermediate row) belongs to. "DELETE_PORTFOLIO portfolios 4 at file:line".
  std::vector<std::string> unjudged_cascades;
  LogsLeftOut left_out;
};

/// The work over any event source (tests feed their own). Usage Error (exit 2) for an unknown
/// table (naming the tables) or a table without a single-column primary key.
/// `schema_source` names where the tables came from, for messages ("database 'portfolio'").
HistoryReport history_events(replay::AuditEventSource& events, replay::Mapper& mapper, const HistoryOptions& options,
                             const std::string& schema_source = "the catalog");

/// Reads [audit] from the configuration and the logs of its folder.
HistoryReport history(const Config& config, const HistoryOptions& options);

/// One JSON object (--json), documented in docs/history.md.
std::string history_json(const HistoryReport& report);
std::vector<ReportLine> history_text(const HistoryReport& report);

/// `text` cut to `width` bytes (at a UTF-8 character boundary) with an ellipsis when longer.
std::string cut_text(const std::string& text, std::size_t width);
/// `name`: [{column, value, field}] (value null for SQL NULL), as history and changes write them.
void values_json(JsonWriter& w, const std::string& name, const std::vector<HistoryValue>& values);
/// "title=Sketches, position=1→2, (owner_id was alice)" for a terminal: values cut, control
/// characters made visible, automatic timestamps left to --json.
std::string values_text(const std::vector<HistoryValue>& set, const std::vector<HistoryValue>& from);

}  // namespace auditpitr::ops
