// auditpitr drill: the guide's monthly recovery drill, automated and measured (docs/drill.md).
// Backup STAMP1 is recovered into a scratch database up to backup STAMP2's snapshot, and the result
// compared with STAMP2's manifest: per table and column, what the logs reproduce and what they do
// not. No CLI11 here: src/cli/cmd_drill.cpp parses and prints.
#pragma once

#include <string>
#include <vector>

#include "src/ops/recover.h"
#include "verify/compare.h"

namespace auditpitr::ops {

struct DrillOptions {
  std::string to_stamp;    ///< empty: the latest backup
  std::string from_stamp;  ///< empty: the newest complete backup older than to_stamp
  bool keep = false;       ///< keep the scratch database
  std::string audit_dir;   ///< overrides [audit] dir when not empty
  bool progress_total = false;
};

struct DrillColumn {
  std::string column;
  std::string coverage;  ///< analyze's class for the window ("created_and_updated", "never_written", …)
  bool claimed = false;  ///< the coverage says the logs reproduce it
  verify::Verdict verdict = verify::Verdict::equal;
  std::string why;
};

struct DrillTable {
  std::string table;
  uint64_t expected_rows = 0, recovered_rows = 0;
  bool creations_logged = false;
  std::vector<DrillColumn> columns;
  /// Rows STAMP2 holds that the recovery does not: created without a log line (when positive).
  int64_t rows_without_log() const {
    return static_cast<int64_t>(expected_rows) - static_cast<int64_t>(recovered_rows);
  }
};

struct DrillReport {
  std::string from_stamp, to_stamp;
  std::string scratch;  ///< the scratch database (dropped unless kept)
  bool kept = false;
  RecoverReport recovery;
  std::vector<DrillTable> tables;
  uint64_t columns = 0, reproduced = 0;
  /// Claimed-reproducible columns that differ, and the recovery's own verification: both must hold.
  std::vector<std::string> failures;
  bool ok() const { return failures.empty(); }
};

DrillReport run_drill(const Config& config, const DrillOptions& options, pg::ProcessRunner& runner,
                      const Reporter& reporter);

std::string drill_json(const DrillReport& report);
std::vector<ReportLine> drill_text(const DrillReport& report);

}  // namespace auditpitr::ops
