// Mapping: one AuditEvent -> zero or more normalised row changes, by the conventions
// (replay/mapping_conventions.h) and the rules file (replay/mapping_rules.h). Values stay values:
// the applier binds them as parameters; nothing here builds SQL text.
#pragma once

#include <array>
#include <cstdint>
#include <deque>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "replay/log/event.h"
#include "replay/log/time_parse.h"  // format_time, for the mapper's users
#include "replay/mapping/event_json.h"
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
  std::vector<std::string> soft_delete_touches;  ///< set to the deletion time too (soft deletes only)
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
  std::string user;    ///< MappedEvent::user
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

/// Where a compact value came from: its ValueOrigin and its label ("title", "items[2].position",
/// "changes.alt.to", "(event time)") follow from it.
enum class ValueSource : uint8_t { field, element_field, change_to, change_from, event_time, constant };
ValueOrigin origin_of(ValueSource source);

/// One column of a CompactChange. `column` indexes the table's TableShape::columns; `text` (as in
/// Value::text) and `field` (the log field's own name: "position" of items[2].position, "alt" of
/// changes.alt.to) view into the event's line or the Mapper's buffers: valid until the next map.
struct CompactValue {
  uint32_t column = 0;
  Value::Kind kind = Value::Kind::null;
  ValueSource source = ValueSource::field;
  std::string_view text;
  std::string_view field;
};

/// A RowChange without strings: `table` indexes the catalog's tables(), and key, set and expect
/// are ranges of MappedEvent::values (set and expect in the order RowChange has them).
struct CompactChange {
  uint32_t table = 0;
  ChangeAction action = ChangeAction::update;
  int32_t element = -1;  ///< the fan-out element it came from; -1 without fan-out
  uint32_t key_begin = 0, set_begin = 0, expect_begin = 0, end = 0;
};

/// An operation the Mapper has met: a small id (0, 1, 2, ... in order of appearance) for
/// per-operation tables, and what it maps to.
struct MappedOperation {
  uint32_t id = 0;
  std::string name;
  OperationTarget target;
};

/// What Mapper::map_compact fills: MapResult's content as indices and views. Kept by the caller
/// from event to event, so that nothing is allocated once it has grown.
struct MappedEvent {
  MapOutcome outcome = MapOutcome::not_an_event;
  std::string reason;  ///< why, for every outcome but mapped
  const MappedOperation* operation = nullptr;
  /// The acting user (the value of MappingRules::user_field, as JsonDocument::value gives it);
  /// empty when the line has no such field, and for every outcome but mapped.
  std::string user;
  std::vector<CompactChange> changes;
  std::vector<CompactValue> values;

  struct Range {
    const CompactValue* first;
    const CompactValue* last;
    const CompactValue* begin() const { return first; }
    const CompactValue* end() const { return last; }
    std::size_t size() const { return static_cast<std::size_t>(last - first); }
  };
  Range key(const CompactChange& c) const { return range(c.key_begin, c.set_begin); }
  Range set(const CompactChange& c) const { return range(c.set_begin, c.expect_begin); }
  Range expect(const CompactChange& c) const { return range(c.expect_begin, c.end); }

 private:
  Range range(uint32_t from, uint32_t to) const { return {values.data() + from, values.data() + to}; }
};

class ChangeBuilder;
class LinePlan;

class Mapper {
 public:
  /// Validates `rules` against `catalog` (usage Error naming the rule and its line).
  Mapper(MappingRules rules, MappingCatalog catalog);
  ~Mapper();
  Mapper(Mapper&&) noexcept;
  Mapper& operator=(Mapper&&) noexcept;

  /// The row changes of one event, as strings: the form tests and reports read.
  MapResult map(const AuditEvent& event);
  /// The same mapping as indices and views, into `out` (kept by the caller from event to event):
  /// no string is built per event. Views stay valid until the next map or map_compact.
  void map_compact(const AuditEvent& event, MappedEvent& out);
  /// One change of map_compact's result for `event`, as map() gives it.
  RowChange to_row_change(const AuditEvent& event, const MappedEvent& mapped, const CompactChange& change) const;

  OperationTarget target(const std::string& operation) const;
  /// The operation of that name, with its id; met for the first time, it gets the next id.
  const MappedOperation& operation(std::string_view name) { return known(name).op; }

  const std::vector<UnmappedField>& unmapped_fields() const { return unmapped_; }
  /// Lines mapped through their operation's line plan, and through the tree (benchmarks, tests).
  uint64_t planned_lines() const { return planned_lines_; }
  uint64_t tree_lines() const { return tree_lines_; }
  const MappingCatalog& catalog() const { return catalog_; }
  const MappingRules& rules() const { return rules_; }

  /// The column a delete of `table` sets, "" for a real delete.
  std::string soft_delete_column(const std::string& table) const;
  /// The other columns a soft delete of `table` sets to the event time (rules' soft_delete_touches).
  std::vector<std::string> soft_delete_touches(const std::string& table) const;
  std::vector<CascadeDelete> cascades_of(const std::string& table) const;

 private:
  friend class ChangeBuilder;
  friend class LinePlan;
  static constexpr uint32_t npos = UINT32_MAX;

  /// What a field name does in one operation, worked out on its first appearance.
  enum class FieldUse : uint8_t { ignored, expect, column, unmapped };
  struct FieldPlan {
    std::string name;
    bool top_level_skip = false;  ///< level, msg, time, operation, or the fan-out array itself
    FieldUse use = FieldUse::unmapped;
    bool changes = false;      ///< `changes` of an update: a {column: {from, to}} object is read as such
    uint32_t column = npos;    ///< expect and column
    uint32_t unmapped = npos;  ///< its entry in unmapped_, once counted there (top-level fields)
  };
  /// The key fields: the rule's (all needed), else the conventional candidates (the first present).
  struct KeyPlan {
    bool from_rule = false;
    std::vector<std::string> fields;
    std::vector<uint32_t> plans;    ///< each field's FieldPlan
    std::vector<uint32_t> columns;  ///< npos: the table's single primary key
    std::string names;              ///< "'sectionID' or 'id'", for the message when none is there
  };
  /// What map() needs of an operation, worked out on its first event: the rules and the catalog
  /// never change, and a log holds few operations but many events of each.
  struct KnownOperation {
    MappedOperation op;
    const OperationRule* rule = nullptr;
    // The rest serves mapped operations only.
    uint32_t table = 0;
    ChangeAction action = ChangeAction::update;
    KeyPlan key;
    uint32_t primary_key = npos;  ///< the single primary key column, npos when there is none or several
    std::vector<FieldPlan> fields;
    std::vector<uint32_t> order;  ///< the plan of each field of the last line: the next line's likely order
    std::vector<std::pair<std::string, uint32_t>> columns;  ///< column_for's answers (`changes` members)
    std::vector<uint32_t> event_time_columns;
    std::vector<std::pair<uint32_t, const Value*>> constants;
    uint32_t created_at = npos, updated_at = npos;
    bool soft_delete = false;  ///< deletes are soft, setting soft_delete_column (npos: a column the table lacks)
    uint32_t soft_delete_column = npos;
    std::vector<uint32_t> soft_delete_touches;
    std::shared_ptr<LinePlan> line_plan;  ///< the last mapped line's shape, for the next lines
  };

  KnownOperation& known(std::string_view operation);
  void plan(KnownOperation& op);
  uint32_t plan_of(KnownOperation& op, std::string_view field, uint32_t position);
  FieldPlan field_plan(const KnownOperation& op, std::string_view field) const;
  uint32_t column_of(KnownOperation& op, std::string_view field);
  std::string column_for(const KnownOperation& op, const std::string& field) const;
  uint32_t column_index(uint32_t table, const std::string& column) const;
  void note_unmapped(const AuditEvent& event, const std::string& field);
  std::string_view keep_text(std::string text);
  std::string_view event_time_text(TimePoint time);
  std::string label_of(const MappedEvent& mapped, const CompactChange& change, const CompactValue& value) const;

  MappingRules rules_;
  MappingCatalog catalog_;
  std::map<std::string, KnownOperation, std::less<>> known_;
  /// known()'s finds by the name's hash, pointing into known_ (whose nodes never move): a lookup in
  /// known_ compared names sharing long prefixes a few times an event. A copy starts empty.
  struct KnownCache {
    struct Slot {
      std::string name;
      KnownOperation* op = nullptr;
    };
    std::array<Slot, 64> slots;
    KnownCache() = default;
    KnownCache(const KnownCache&) {}
    KnownCache(KnownCache&&) = default;
    KnownCache& operator=(const KnownCache&) {
      slots = {};
      return *this;
    }
    KnownCache& operator=(KnownCache&&) = default;
  } known_cache_;
  std::vector<UnmappedField> unmapped_;
  std::map<std::pair<std::string, std::string>, std::size_t> unmapped_index_;
  std::vector<std::vector<CascadeDelete>> cascades_;  ///< per catalog table, worked out once

  // Per event: the line's document, JSON texts of object and array values, the event time's text.
  JsonDocument doc_;
  std::deque<std::string> texts_;
  std::size_t texts_used_ = 0;
  TimePoint stamped_{};
  std::string stamp_;
  MappedEvent scratch_;  ///< map()'s
  uint64_t planned_lines_ = 0, tree_lines_ = 0;
  std::unique_ptr<ChangeBuilder> builder_;
};

}  // namespace auditpitr::replay
