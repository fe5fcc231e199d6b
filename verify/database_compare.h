// Whole databases compared: two live databases (counts, checksums, and on request the rows one by
// one), or a live database against expected checksums (a backup's manifest, or the figures a
// recovery worked out). The library behind `auditpitr verify` and recover's verification.
#pragma once

#include <cstddef>
#include <functional>
#include <set>
#include <string>
#include <vector>

#include "src/pg/connection.h"
#include "verify/compare.h"

namespace auditpitr::verify {

struct DatabaseCompareOptions {
  /// Tables compared, "name" or "schema.name"; empty: all. A name in neither database is a usage Error.
  std::vector<std::string> tables;
  /// Columns compared ("column", "table.column" or "schema.table.column"); empty: all columns and
  /// the whole rows' checksums; otherwise row checksums are skipped (CompareOptions::only_columns).
  /// A name matching no column of the compared tables is a usage Error.
  std::set<std::string> only_columns;
  /// For two databases: compare the rows of each table that differs one by one (table_diff.h).
  bool diff = false;
  std::size_t max_keys = 1000;  ///< keys kept per table and kind by the diff
  /// Told each table as its checksum starts ("public.projects"); called from the calling thread only.
  std::function<void(const std::string&)> progress;
};

struct DatabaseComparison {
  std::vector<TableComparison> tables;
  double checksum_seconds = 0;  ///< reading and checksumming (both sides at once)
  double diff_seconds = 0;      ///< the row-by-row comparisons
  bool equal() const;
  std::size_t differing_tables() const;
};

/// `actual` checked against `expected`: each read in one repeatable-read, read-only transaction
/// (its own snapshot), both at the same time on their own connections. Sets both sessions'
/// canonical output. Errors name the database and server.
DatabaseComparison compare_databases(pg::Connection& expected, pg::Connection& actual,
                                     const DatabaseCompareOptions& options);

/// `actual` checked against expected checksums. Row-by-row comparison is not possible (the
/// checksums name no row): options.diff is ignored.
DatabaseComparison compare_with_checksums(const std::vector<TableChecksum>& expected, pg::Connection& actual,
                                          const DatabaseCompareOptions& options);

}  // namespace auditpitr::verify
