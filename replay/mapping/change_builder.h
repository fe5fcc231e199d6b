// Inside the Mapper: builds one line's compact row changes (one per fan-out element).
#pragma once

#include <string>
#include <vector>

#include "replay/mapping/mapping.h"

namespace auditpitr::replay {

/// Why a line cannot be mapped: the line lacks what the mapping needs.
struct InvalidLine {
  std::string reason;
};

class ChangeBuilder {
 public:
  /// Appends the changes of `event` (parsed into `doc`) to `out`; throws InvalidLine. The builder
  /// is kept from line to line so that its buffers are reused.
  void build(Mapper& mapper, Mapper::KnownOperation& op, const AuditEvent& event, const JsonDocument& doc,
             MappedEvent& out);
  /// The unmapped_ entries the last build counted for top-level fields (LinePlan counts them again).
  const std::vector<uint32_t>& counted_unmapped() const { return counted_; }

 private:
  struct Field {
    uint32_t node;  ///< in the document
    uint32_t plan;  ///< in the operation's fields: equal plans, equal names
    bool element;   ///< from the fan-out element, not the top level
    bool consumed;  ///< a key field: not mapped again
  };

  void collect_fields(uint32_t element);
  void build_one(uint32_t element, int32_t index);
  const Field* find(uint32_t plan) const;
  void read_key();
  uint32_t single_primary_key() const;
  void map_field(const Field& f);
  void map_changes(uint32_t changes);
  void note_unmapped(const Field& f, Mapper::FieldPlan& plan);
  void add_rule_values();
  void add_automatic_values();
  void set(const CompactValue& value);
  CompactValue value_of(const Field& f, uint32_t column);
  CompactValue json_value(uint32_t node, uint32_t column, ValueSource source, std::string_view field);
  CompactValue event_time(uint32_t column) const;
  std::string label(const Field& f) const;

  Mapper* mapper_ = nullptr;
  Mapper::KnownOperation* op_ = nullptr;
  const AuditEvent* event_ = nullptr;
  const JsonDocument* doc_ = nullptr;
  MappedEvent* out_ = nullptr;
  int32_t element_ = -1;
  ChangeAction action_ = ChangeAction::update;
  // One change's parts, then appended to out_.values in order: key, set, expect.
  std::vector<Field> fields_;
  std::vector<CompactValue> key_, set_, expect_;
  std::vector<uint32_t> counted_;
};

}  // namespace auditpitr::replay
