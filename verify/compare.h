// Comparing checksums: a restored or recovered database against a manifest (or another database).
// compare_tables gives the whole picture per table and column (verify, recover); compare_checksums
// is the short list of what differs, derived from it (restore).
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "verify/table_checksum.h"

namespace auditpitr::verify {

struct Difference {
  std::string table;   ///< schema.name
  std::string column;  ///< empty for whole-table differences
  std::string what;    ///< "3 rows expected, 2 found", "content differs", "missing", "unexpected table"
};

struct CompareOptions {
  /// When set, only these columns ("schema.table.column", "table.column" or "column" of every
  /// table) are compared and row checksums are skipped: what an audit-log recovery can reproduce.
  const std::set<std::string>* only_columns = nullptr;
  bool ignore_extra_tables = false;
};

enum class Verdict { equal, different, not_comparable };
const char* verdict_name(Verdict verdict);  ///< "equal", "different", "not_comparable"

/// Where a table or column exists.
enum class Presence { both, expected_only, actual_only };

struct ColumnComparison {
  std::string name;
  Verdict verdict = Verdict::equal;
  Presence presence = Presence::both;  ///< not_comparable when not both
  std::string why;  ///< for not_comparable: "only in the expected table", "the primary keys differ: …"
  /// Matched rows (same key) whose value differs: known once the rows were compared one by one.
  std::optional<uint64_t> rows_different;
};

/// A row-by-row comparison of one table (verify/table_diff.h fills it).
struct TableDiff {
  /// The key columns rows were matched by; empty when the table has no primary key: rows were
  /// then matched as whole rows (a multiset), so a changed row counts as one missing and one extra
  /// and no key can be named.
  std::vector<std::string> key_columns;
  uint64_t missing = 0;  ///< rows only on the expected side
  uint64_t extra = 0;    ///< rows only on the actual side
  uint64_t changed = 0;  ///< same key, some compared column differs
  /// The first keys of each kind (up to the cap the diff was run with), as text per key column.
  std::vector<std::vector<std::string>> missing_keys, extra_keys;
  struct ChangedRow {
    std::vector<std::string> key;
    std::vector<std::string> columns;  ///< the compared columns whose values differ
  };
  std::vector<ChangedRow> changed_rows;
  /// Per compared column: matched rows whose value differs.
  std::map<std::string, uint64_t> changed_by_column;
  bool keyed() const { return !key_columns.empty(); }
  bool empty() const { return missing == 0 && extra == 0 && changed == 0; }
};

struct TableComparison {
  std::string schema, name;
  std::vector<std::string> primary_key;  ///< the expected side's (the actual side's when only there)
  bool in_expected = true, in_actual = true;
  uint64_t expected_rows = 0, actual_rows = 0;
  /// The checksum of whole rows: not_comparable when the column lists differ, and not looked at
  /// (left equal) when only some columns are compared.
  Verdict content = Verdict::equal;
  std::string content_why;
  /// Every compared column: both sides' columns, expected order first (only the selected ones when
  /// CompareOptions::only_columns is set).
  std::vector<ColumnComparison> columns;
  std::optional<TableDiff> diff;
  std::string diff_skipped;  ///< why a row-by-row comparison asked for was not made

  std::string qualified() const { return schema + "." + name; }
  bool rows_equal() const { return expected_rows == actual_rows; }
  bool equal() const;
};

/// Tables matched by qualified name (expected order, then tables only in `actual`), then counts,
/// rows and columns. Column checksums compare only when both sides have the same primary key.
std::vector<TableComparison> compare_tables(const std::vector<TableChecksum>& expected,
                                            const std::vector<TableChecksum>& actual,
                                            const CompareOptions& options = {});

/// What differs, one line per finding; empty when everything compared is equal.
std::vector<Difference> differences(const TableComparison& table, const CompareOptions& options = {});

std::vector<Difference> compare_checksums(const std::vector<TableChecksum>& expected,
                                          const std::vector<TableChecksum>& actual, const CompareOptions& options = {});

/// Whether `column` of `table` is compared under `options`.
bool column_selected(const CompareOptions& options, const std::string& schema, const std::string& table,
                     const std::string& column);

/// "public.projects: 3 rows expected, 2 found".
std::string describe(const Difference& difference);

}  // namespace auditpitr::verify
