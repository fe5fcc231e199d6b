// The target database's tables as the mapping sees them: names, columns, primary keys.
// Built from verify::list_tables (one catalog query for the whole project) or by hand in tests.
#pragma once

#include <string>
#include <vector>

#include "verify/table_checksum.h"

namespace auditpitr::replay {

class MappingCatalog {
 public:
  MappingCatalog() = default;
  /// Tables of every schema; where a name exists in several schemas, `public` wins.
  explicit MappingCatalog(std::vector<verify::TableShape> tables);

  const verify::TableShape* table(const std::string& name) const;
  bool has_column(const std::string& table, const std::string& column) const;
  const std::vector<verify::TableShape>& tables() const { return tables_; }
  /// "id, title, owner_id", for hints.
  std::string column_list(const std::string& table) const;
  std::string table_list() const;

 private:
  std::vector<verify::TableShape> tables_;
};

}  // namespace auditpitr::replay
