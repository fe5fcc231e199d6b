// The mapping rules file (TOML, docs/mapping.md): what the conventions cannot guess about an
// application's audit log. Loading checks the structure; validate_mapping_rules checks the names
// against the target database's catalog.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <vector>

#include "replay/mapping/mapping_catalog.h"
#include "replay/mapping/mapping_value.h"
#include "src/error.h"

namespace auditpitr::replay {

enum class RuleAction { insert, update, remove, ignore };
const char* action_name(RuleAction action);

/// A log field and the column it lands in (or is compared with), with its line in the rules file.
struct FieldColumn {
  std::string field;
  std::string column;
  int line = 0;
};

struct ColumnConstant {
  std::string column;
  Value value;
  int line = 0;
};

struct CascadeRule {
  std::string child_table;
  std::string foreign_key;  ///< the child's column that holds the parent's primary key
  int line = 0;
};

/// [tables.NAME]
struct TableRule {
  std::string table;
  int line = 0;
  /// Column set to the event time by a delete. Unset: `deleted_at` when the table has it;
  /// "" : rows are really deleted.
  std::optional<std::string> soft_delete;
  /// Columns a soft delete (its own or a cascade's) also sets to the event time, such as
  /// updated_at. Default none: gorm sets only the soft-delete column.
  std::vector<std::string> soft_delete_touches;
  std::vector<CascadeRule> cascade;
};

/// [operations.NAME]
struct OperationRule {
  std::string operation;
  int line = 0;
  std::optional<RuleAction> action;     ///< unset: from the CREATE_/UPDATE_/DELETE_ prefix
  std::string table;                    ///< empty: from the entity name
  std::vector<FieldColumn> key;         ///< empty: `<entity>ID` or `id` -> the primary key
  std::vector<FieldColumn> fields;      ///< renames, before the conventions
  std::vector<FieldColumn> expect;      ///< checks: drift when the current value differs
  std::vector<FieldColumn> event_time;  ///< columns (field empty) set to the event time
  std::vector<ColumnConstant> constants;
  std::vector<std::string> ignore;  ///< fields neither written nor reported
  std::string each;                 ///< fan-out: one change per element of this array field
};

struct MappingRules {
  std::string path;                   ///< for messages; empty: no rules file
  std::string user_field = "userID";  ///< the log field naming the acting user (replay --user)
  std::vector<FieldColumn> fields;    ///< [fields]: renames in every operation
  std::vector<std::string> ignore;    ///< top-level ignore = [...]: in every operation
  std::map<std::string, TableRule> tables;
  std::map<std::string, OperationRule> operations;
  /// Structure mistakes of a leniently read file (read_mapping_rules), whose entries are left out:
  /// validate_mapping_rules reports them together with the unknown names of the sound entries.
  std::vector<Error> problems;

  const OperationRule* operation(const std::string& name) const;
  const TableRule* table(const std::string& name) const;
};

/// Parses rules text; `path` names it in messages. Structural errors (unknown keys, wrong types,
/// cascade cycles, an unconventional operation without table or action) are usage Errors naming
/// path:line and the rule.
MappingRules parse_mapping_rules(const std::string& text, const std::string& path);
/// Reads and parses the file (usage Error when missing).
MappingRules load_mapping_rules(const std::string& path);
/// Reads the file leniently: a broken entry is left out and its mistake kept in `problems`, so
/// that one run names it together with the unknown names of the rest (a TOML syntax error, a
/// missing file still throw at once). Throw them yourself with raise_problems where no catalog
/// check follows.
MappingRules read_mapping_rules(const std::string& path);
void raise_problems(const MappingRules& rules);

/// Checks every table and column the rules name against the catalog: usage Error naming the rule
/// and its line, with the known names as a hint; the rules' structure `problems` come first in it.
void validate_mapping_rules(const MappingRules& rules, const MappingCatalog& catalog);

/// The table an operation lands in by convention (plural snake case, else singular, when the
/// catalog has it); empty when none exists or the operation is not conventional.
std::string conventional_table(const std::string& operation, const MappingCatalog& catalog);

}  // namespace auditpitr::replay
