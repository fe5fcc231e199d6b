// Mapping: one AuditEvent -> zero or more normalised row changes, by the conventions
// (replay/mapping/mapping_conventions.h) and the rules file (replay/mapping/mapping_rules.h). Values stay values:
// the applier binds them as parameters; nothing here builds SQL text.
#pragma once

#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "replay/log/event.h"
#include "replay/log/time_parse.h"  // format_time, for the mapper's users
#include "replay/mapping/mapping_catalog.h"
#include "replay/mapping/mapping_rules.h"
#include "replay/mapping/mapping_value.h"

namespace auditpitr::replay {

enum class ChangeAction { insert, update, remove, soft_delete };
const char* change_action_name(ChangeAction action);

/// Where a column's value came from: coverage reports tell logged data from automatic timestamps.
enum class ValueOrigin { field, change, event_time, constant };

struct ColumnValue {
  std::string column;
  Value value;
  std::string field;  ///< the log field ("title", "changes.alt.to", "items[2].position"), or "(event time)"
  ValueOrigin origin = ValueOrigin::field;
};

/// A value the row should have before the change; a difference is drift (reported, change applied).
struct ExpectedValue {
  std::string column;
  Value expected;
  std::string field;
};

/// Rows of `table` whose `foreign_key` holds a deleted parent's primary key are deleted too
/// (soft when `soft_delete_column` is set), then their own children, recursively.
struct CascadeDelete {
  std::string table;
  std::string foreign_key;
  std::string soft_delete_column;  ///< empty: real delete
  std::vector<CascadeDelete> children;
};

struct RowChange {
  std::string table;
  ChangeAction action = ChangeAction::update;
  /// Identifies the row (primary key). For inserts these are columns of the new row too.
  std::vector<ColumnValue> key;
  /// Columns written: the new row (insert), the new values (update), the soft-delete column.
  std::vector<ColumnValue> set;
  std::vector<ExpectedValue> expect;
  std::vector<CascadeDelete> cascade;  ///< deletes only

  std::string operation;
  TimePoint time;
  std::string file;
  uint64_t line_number = 0;
  uint64_t sequence = 0;

  const ColumnValue* find_set(const std::string& column) const;
};

enum class MapOutcome {
  mapped,         ///< changes hold the row changes (one per element for a fan-out)
  ignored,        ///< a rule says action = "ignore"
  not_an_event,   ///< neither a rule nor the CREATE_/UPDATE_/DELETE_ convention
  unknown_table,  ///< conventional name, but the database has no such table
  invalid,        ///< the line lacks what the mapping needs (key field, fan-out array, valid JSON)
};
const char* outcome_name(MapOutcome outcome);

struct MapResult {
  MapOutcome outcome = MapOutcome::not_an_event;
  std::vector<RowChange> changes;
  std::string reason;  ///< why, for every outcome but mapped
};

/// A log field that lands nowhere: reported once per operation and field.
struct UnmappedField {
  std::string operation;
  std::string field;
  std::string file;  ///< where it was first seen
  uint64_t line_number = 0;
  uint64_t count = 0;
};

/// What an operation maps to, without looking at a line (analyze's per-operation table).
struct OperationTarget {
  MapOutcome outcome = MapOutcome::not_an_event;
  std::string table;
  RuleAction action = RuleAction::ignore;
  bool from_rule = false;
  std::string reason;
};

class Mapper {
 public:
  /// Validates `rules` against `catalog` (usage Error naming the rule and its line).
  Mapper(MappingRules rules, MappingCatalog catalog);

  MapResult map(const AuditEvent& event);
  OperationTarget target(const std::string& operation) const;

  const std::vector<UnmappedField>& unmapped_fields() const { return unmapped_; }
  const MappingCatalog& catalog() const { return catalog_; }
  const MappingRules& rules() const { return rules_; }

  /// The column a delete of `table` sets, "" for a real delete.
  std::string soft_delete_column(const std::string& table) const;
  std::vector<CascadeDelete> cascades_of(const std::string& table) const;

 private:
  friend class ChangeBuilder;
  /// What map() needs of an operation, worked out on its first event: the rules and the catalog
  /// never change, and a log holds few operations but many events of each.
  struct KnownOperation {
    OperationTarget target;
    const OperationRule* rule = nullptr;
  };
  const KnownOperation& known(std::string_view operation);
  void note_unmapped(const AuditEvent& event, const std::string& field);

  MappingRules rules_;
  MappingCatalog catalog_;
  std::map<std::string, KnownOperation, std::less<>> known_;
  std::vector<UnmappedField> unmapped_;
  std::map<std::pair<std::string, std::string>, std::size_t> unmapped_index_;
};

}  // namespace auditpitr::replay
