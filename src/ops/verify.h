// auditpitr verify: a database checked against another database or a backup's manifest
// (docs/verify.md). The comparison itself is verify::compare_databases / compare_with_checksums;
// this resolves what the command line names and renders the result. No CLI11 here.
#pragma once

#include <cstddef>
#include <set>
#include <string>
#include <vector>

#include "src/config/config.h"
#include "src/ops/analyze.h"
#include "src/ops/reporter.h"
#include "verify/database_compare.h"

namespace auditpitr::ops {

struct VerifyOptions {
  /// Each: an alias or dbname from the configuration, a connection string or URI, or a plain
  /// database name (for `against`: on the server of `db`; for `db`: on the first configured
  /// database's server, or libpq's defaults without a configuration).
  std::string db, against;
  std::string backup;  ///< stamp or "latest": compare with this backup's manifest instead
  std::string of;      ///< the alias whose backup is meant; default: db's, or the only configured one
  std::vector<std::string> tables;
  std::set<std::string> columns;
  bool diff = false;
  std::size_t max_keys = 1000;  ///< keys kept per table and kind (JSON); the text shows fewer
};

struct VerifyReport {
  std::string actual;          ///< "database 'a' at host:5432"
  std::string expected;        ///< "database 'b' at host:5432" or "backup 20250123_140530 of portfolio_db"
  std::string expected_short;  ///< "'b'" or "the backup", in the lines of the report
  std::string actual_short;    ///< "'a'"
  bool against_backup = false;
  std::string stamp, snapshot_time_utc;  ///< of the backup
  std::string note;                      ///< what `latest` skipped, if anything
  bool columns_only = false;
  bool diff = false;
  std::size_t max_keys = 0;
  verify::DatabaseComparison comparison;
};

/// Runs the comparison. `config` may be null (no configuration file): names are then connection
/// strings or databases on libpq's default server, and --backup is refused. A backup without a
/// manifest is a verification Error (nothing to compare against); unknown names are usage Errors.
VerifyReport run_verify(const Config* config, const VerifyOptions& options, const Reporter& reporter);

/// One JSON object (docs/verify.md, "JSON").
std::string verify_json(const VerifyReport& report);
/// Lines for people; at most `listed_keys` keys of each kind per table.
std::vector<ReportLine> verify_text(const VerifyReport& report, std::size_t listed_keys = 10);
/// "database 'a' … differs from … in 2 of 5 tables: public.projects, public.logs".
std::string verify_summary(const VerifyReport& report);

}  // namespace auditpitr::ops
