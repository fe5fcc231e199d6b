// The target database's tables as replay writes them: each column's type (the statements cast
// logged values to it) and primary key. Read once per run (pg_session.h) or built by hand in tests.
#pragma once

#include <map>
#include <string>
#include <utility>
#include <vector>

namespace auditpitr::replay {

struct TargetColumn {
  std::string name;
  std::string type;       ///< format_type(): "bigint", "text[]", "timestamp with time zone"
  bool is_array = false;  ///< a logged JSON array becomes this array
  bool is_json = false;   ///< json or jsonb: a logged string becomes a JSON string
  bool not_null = false;
  bool has_default = false;
  std::string default_sql;  ///< pg_get_expr() of the default, "" when there is none
};

struct TargetTable {
  std::string schema;
  std::string name;
  std::vector<TargetColumn> columns;
  std::vector<std::string> primary_key;
  /// The column a delete sets (the mapping's soft_delete_column), "" when deletes are real.
  std::string soft_delete;
  /// Changes to distinct rows may share one set-based statement, in any order: no unique key but
  /// the primary key, no trigger or rule, no foreign key to itself (row_statement.h, groupable).
  bool set_based = false;
  /// The foreign keys of this table that are one column referring to another table's one-column
  /// primary key: the column, and the parent's qualified_name().
  std::vector<std::pair<std::string, std::string>> references = {};
  /// False when a foreign key from or to this table is of another kind (several columns): the
  /// batch order (batch_order.h) then cannot see which rows it ties together.
  bool plain_references = true;
  /// The table has a CHECK constraint (the fold, fold_sink.h, cannot see what it refuses).
  bool has_checks = false;

  /// nullptr when the table has no such column.
  const TargetColumn* column(const std::string& name) const;
  /// "schema"."name", quoted.
  std::string quoted() const;
  /// schema.name, unquoted: the table's identity in maps.
  std::string qualified_name() const { return schema + "." + name; }
};

class TargetCatalog {
 public:
  TargetCatalog() = default;
  /// Where a table name exists in several schemas, `public` wins (as in MappingCatalog).
  explicit TargetCatalog(std::vector<TargetTable> tables);
  /// Usage Error naming the table when the database has none of that name.
  const TargetTable& table(const std::string& name) const;
  /// By schema.name (TargetTable::qualified_name()); nullptr when the catalog does not hold it.
  const TargetTable* find_qualified(const std::string& qualified_name) const;

 private:
  std::map<std::string, TargetTable> tables_;
};

}  // namespace auditpitr::replay
