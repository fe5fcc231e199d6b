// Row by row: which keys are missing, extra or changed between two copies of a table, found by a
// merge join of two COPY streams sorted the same way, so that no table is ever held in memory.
#pragma once

#include <cstddef>
#include <pqxx/pqxx>
#include <string>
#include <string_view>
#include <vector>

#include "verify/compare.h"

namespace auditpitr::verify {

struct TableDiffRequest {
  std::string schema, name;
  /// The columns compared, present on both sides (the row's other columns are not read).
  std::vector<std::string> columns;
  /// The primary key both sides share; empty: whole rows (of `columns`) are matched as a multiset.
  std::vector<std::string> key;
  /// How many keys of each kind (missing, extra, changed) are kept; the counts are always exact.
  std::size_t max_keys = 1000;
};

/// Reads `COPY (SELECT columns, key texts ORDER BY key)` on both transactions, alternately, and
/// compares: key columns that are integers on both sides sort by value, others by their text
/// COLLATE "C" (without a key: the whole row's text). Both sessions' output settings must be canonical
/// (pg::Connection::set_canonical_output).
TableDiff diff_table(pqxx::transaction_base& expected, pqxx::transaction_base& actual, const TableDiffRequest& request);

/// A COPY text field as the value it stands for (\\t, \\n, \\\\ ... undone); "\\N" stays as it is.
std::string copy_unescape(std::string_view field);

/// Orders COPY text fields as PostgreSQL's "C" collation orders their values; NULL (\\N) last.
int compare_copy_fields(std::string_view a, std::string_view b);

}  // namespace auditpitr::verify
