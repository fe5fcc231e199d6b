// Column coverage: which columns a recovery from these logs can rebuild, and which it cannot.
// Fed with the row changes the Mapper made from the logs actually present; analyze prints it
// and recover repeats it in its report.
#pragma once

#include <set>
#include <string>
#include <vector>

#include "replay/mapping/mapping.h"

namespace auditpitr::replay {

enum class ColumnCoverage {
  key,                  ///< primary key: identifies rows
  created_and_updated,  ///< written by logged creates and updates
  created_only,         ///< written at creation only: later changes are not logged, may be stale
  updated_only,         ///< written by updates only: rows created after the backup start with the default
  automatic_timestamp,  ///< set to the event time (updated_at reflects logged changes only)
  never_written,        ///< no event writes it: recovered rows keep the backup's value or the default
};
const char* coverage_name(ColumnCoverage coverage);
/// One line for people: what the class means for a recovery.
const char* coverage_meaning(ColumnCoverage coverage);

struct ColumnCoverageEntry {
  std::string column;
  ColumnCoverage coverage = ColumnCoverage::never_written;
  std::set<std::string> written_by;  ///< operations that write it
};

struct TableCoverage {
  std::string table;
  uint64_t inserts = 0, updates = 0, deletes = 0;  ///< row changes seen
  /// No create events at all: rows created after the backup cannot come back.
  bool no_create_events() const { return inserts == 0; }
  std::vector<ColumnCoverageEntry> columns;  ///< in catalog order
};

class CoverageTracker {
 public:
  /// Counts the changes of one event, mapped by a Mapper over `catalog` (tables and columns are
  /// its indices).
  void add(const MappedEvent& mapped);
  /// Every table of the catalog, in catalog order.
  std::vector<TableCoverage> result(const MappingCatalog& catalog) const;

 private:
  struct ColumnUse {
    bool written = false, at_insert = false, at_update = false, logged_value = false;
    std::vector<uint32_t> operations;  ///< MappedOperation ids
  };
  struct TableUse {
    uint64_t inserts = 0, updates = 0, deletes = 0;
    std::vector<ColumnUse> columns;  ///< by column index, grown as columns are met
  };
  std::vector<TableUse> tables_;              ///< by table index, grown as tables are met
  std::vector<std::string> operation_names_;  ///< by MappedOperation id
};

}  // namespace auditpitr::replay
