// auditpitr changes: what the logs say changed in a window of time, grouped by table and action,
// optionally only some tables or some users ("what did this user do"). One streaming pass.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "replay/log/audit_source.h"
#include "replay/mapping/mapping.h"
#include "src/config/config.h"
#include "src/ops/analyze.h"
#include "src/ops/history.h"

namespace auditpitr::ops {

struct ChangesOptions {
  std::string audit_dir;  ///< overrides [audit] dir when not empty
  std::string backup;     ///< "STAMP" or "latest": the schema from that backup's manifest, no server
  replay::TimePoint from, to;
  std::vector<std::string> tables;  ///< empty: all
  std::vector<std::string> users;   ///< empty: all
  bool strict = false;
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

/// The changes of one table by one action, in time order.
struct ChangeGroup {
  std::string table, action;
  std::vector<ChangedRow> rows;
};

struct ChangesReport {
  std::string audit_dir, schema_source, user_field;
  ChangesOptions options;
  uint64_t events = 0;              ///< events in the window (before the table and user filters)
  uint64_t matched_events = 0;      ///< of which passed the filters and changed rows
  std::vector<ChangeGroup> groups;  ///< by table, then action
  LogsLeftOut left_out;
};

/// Usage Error (exit 2) for a --table the catalog lacks (naming the tables).
ChangesReport changes_events(replay::AuditEventSource& events, replay::Mapper& mapper, const ChangesOptions& options,
                             const std::string& schema_source = "the catalog");
ChangesReport changes(const Config& config, const ChangesOptions& options);

std::string changes_json(const ChangesReport& report);
std::vector<ReportLine> changes_text(const ChangesReport& report);

}  // namespace auditpitr::ops
