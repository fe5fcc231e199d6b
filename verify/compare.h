// Comparing checksums: a restored or recovered database against a manifest (or another database).
#pragma once

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
  /// When set, only these columns ("schema.table.column" or "table.column") are compared and row
  /// checksums are skipped: what an audit-log recovery can reproduce.
  const std::set<std::string>* only_columns = nullptr;
  bool ignore_extra_tables = false;
};

std::vector<Difference> compare_checksums(const std::vector<TableChecksum>& expected,
                                          const std::vector<TableChecksum>& actual, const CompareOptions& options = {});

/// "public.projects: 3 rows expected, 2 found".
std::string describe(const Difference& difference);

}  // namespace auditpitr::verify
