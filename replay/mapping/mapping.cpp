// The Mapper: decides an operation's target (rule, else convention), then builds row changes from
// the line's fields. Drift checks and unmapped fields are recorded, never fatal.
#include "replay/mapping/mapping.h"

#include <algorithm>

#include "replay/mapping/event_json.h"
#include "replay/mapping/mapping_conventions.h"

namespace auditpitr::replay {
namespace {

struct InvalidLine {
  std::string reason;
};

RuleAction action_of_verb(ConventionVerb verb) {
  switch (verb) {
    case ConventionVerb::create: return RuleAction::insert;
    case ConventionVerb::update: return RuleAction::update;
    case ConventionVerb::remove: return RuleAction::remove;
  }
  return RuleAction::ignore;
}

bool contains(const std::vector<std::string>& list, const std::string& item) {
  return std::find(list.begin(), list.end(), item) != list.end();
}

const FieldColumn* find_field(const std::vector<FieldColumn>& list, const std::string& field) {
  for (const auto& f : list)
    if (f.field == field) return &f;
  return nullptr;
}

}  // namespace

/// Builds the row changes of one line (one per fan-out element).
class ChangeBuilder {
 public:
  ChangeBuilder(Mapper& mapper, const AuditEvent& event, const OperationTarget& target, const OperationRule* rule,
                const JsonNode& root)
      : mapper_(mapper),
        event_(event),
        rule_(rule),
        target_(target),
        root_(root),
        shape_(*mapper.catalog_.table(target.table)) {}

  std::vector<RowChange> build() {
    std::vector<RowChange> changes;
    if (!rule_ || rule_->each.empty()) {
      changes.push_back(build_one(nullptr, ""));  // not `return {…}`: that would copy the change
      return changes;
    }
    const JsonNode* array = root_.find(rule_->each);
    if (!array || array->kind != JsonNode::Kind::array)
      throw InvalidLine{"missing array field '" + rule_->each + "' to fan out"};
    for (std::size_t i = 0; i < array->items.size(); ++i) {
      const JsonNode& element = array->items[i];
      std::string prefix = rule_->each + "[" + std::to_string(i) + "].";
      if (element.kind != JsonNode::Kind::object) throw InvalidLine{"'" + prefix + "' is not an object"};
      changes.push_back(build_one(&element, prefix));
    }
    return changes;
  }

 private:
  struct Field {
    std::string name;
    std::string label;  // name as reported: "items[0].position"
    const JsonNode* node;
  };

  // Top-level fields, then the fan-out element's (which win on equal names).
  std::vector<Field> fields_of(const JsonNode* element, const std::string& prefix) const {
    std::vector<Field> fields;
    for (const auto& [name, node] : root_.members) {
      if (is_reserved_field(name) || (rule_ && name == rule_->each)) continue;
      fields.push_back({name, name, &node});
    }
    if (element)
      for (const auto& member : element->members) {
        const std::string& name = member.first;
        fields.erase(std::remove_if(fields.begin(), fields.end(), [&](const Field& f) { return f.name == name; }),
                     fields.end());
        fields.push_back({name, prefix + name, &member.second});
      }
    return fields;
  }

  RowChange build_one(const JsonNode* element, const std::string& prefix) {
    RowChange change;
    change.table = target_.table;
    change.action = target_.action == RuleAction::insert   ? ChangeAction::insert
                    : target_.action == RuleAction::update ? ChangeAction::update
                                                           : ChangeAction::remove;
    change.operation = std::string(event_.operation);
    change.time = event_.time;
    change.file = event_.file ? *event_.file : std::string();
    change.line_number = event_.line_number;
    change.sequence = event_.sequence;

    std::vector<Field> fields = fields_of(element, prefix);
    std::vector<std::string> consumed = read_key(fields, change);
    for (const auto& f : fields)
      if (!contains(consumed, f.name)) map_field(f, change);
    add_rule_values(change);
    add_automatic_values(change);
    return change;
  }

  std::vector<std::string> read_key(const std::vector<Field>& fields, RowChange& change) const {
    auto find = [&](const std::string& name) -> const Field* {
      for (const auto& f : fields)
        if (f.name == name) return &f;
      return nullptr;
    };
    std::vector<FieldColumn> wanted = rule_ ? rule_->key : std::vector<FieldColumn>{};
    if (wanted.empty()) {
      for (const auto& candidate : conventional_key_fields())
        if (find(candidate)) {
          wanted.push_back({candidate, "", 0});
          break;
        }
      if (wanted.empty()) throw InvalidLine{"no key field (" + join(conventional_key_fields()) + ")"};
    }
    std::vector<std::string> consumed;
    for (const auto& k : wanted) {
      const Field* f = find(k.field);
      if (!f) throw InvalidLine{"missing key field '" + k.field + "'"};
      if (f->node->kind == JsonNode::Kind::null) throw InvalidLine{"key field '" + f->label + "' is null"};
      std::string column = k.column.empty() ? single_primary_key() : k.column;
      change.key.push_back({column, f->node->to_value(), f->label, ValueOrigin::field});
      consumed.push_back(f->name);
    }
    return consumed;
  }

  std::vector<std::string> conventional_key_fields() const {
    std::vector<std::string> names;
    if (auto conv = parse_conventional_operation(event_.operation))
      names.push_back(entity_to_lower_camel(conv->entity) + "ID");
    names.push_back("id");
    return names;
  }

  std::string single_primary_key() const {
    if (shape_.primary_key.size() != 1)
      throw InvalidLine{"table '" + shape_.name + "' has no single-column primary key: give key columns in a rule"};
    return shape_.primary_key[0];
  }

  static std::string join(const std::vector<std::string>& names) {
    std::string out;
    for (const auto& n : names) out += (out.empty() ? "'" : " or '") + n + "'";
    return out;
  }

  bool ignored(const std::string& field) const {
    return contains(mapper_.rules_.ignore, field) || (rule_ && contains(rule_->ignore, field));
  }

  // Rule rename, then global rename, then camelCase -> snake_case; "" when the table has none.
  std::string column_for(const std::string& field) const {
    if (rule_)
      if (const FieldColumn* f = find_field(rule_->fields, field)) return f->column;
    if (const FieldColumn* f = find_field(mapper_.rules_.fields, field))
      if (mapper_.catalog_.has_column(shape_.name, f->column)) return f->column;
    std::string snake = camel_to_snake(field);
    return mapper_.catalog_.has_column(shape_.name, snake) ? snake : std::string();
  }

  void map_field(const Field& f, RowChange& change) {
    if (ignored(f.name)) return;
    if (rule_)
      if (const FieldColumn* e = find_field(rule_->expect, f.name)) {
        change.expect.push_back({e->column, f.node->to_value(), f.label});
        return;
      }
    if (f.name == "changes" && f.node->kind == JsonNode::Kind::object && change.action == ChangeAction::update) {
      map_changes(*f.node, change);
      return;
    }
    std::string column = column_for(f.name);
    if (column.empty()) return mapper_.note_unmapped(event_, f.label);
    // A delete line shows the row as it was: every field is a check, never a write.
    if (change.action == ChangeAction::remove) change.expect.push_back({column, f.node->to_value(), f.label});
    else set(change, {column, f.node->to_value(), f.label, ValueOrigin::field});
  }

  void map_changes(const JsonNode& changes, RowChange& change) {
    for (const auto& [name, diff] : changes.members) {
      std::string label = "changes." + name;
      std::string column = column_for(name);
      if (column.empty()) {
        mapper_.note_unmapped(event_, label);
        continue;
      }
      const JsonNode* to = diff.find("to");
      if (diff.kind != JsonNode::Kind::object || !to)
        throw InvalidLine{"'" + label + "' is not an object with 'to' (and 'from')"};
      set(change, {column, to->to_value(), label + ".to", ValueOrigin::change});
      if (const JsonNode* from = diff.find("from"))
        change.expect.push_back({column, from->to_value(), label + ".from"});
    }
  }

  void add_rule_values(RowChange& change) const {
    if (!rule_) return;
    for (const auto& t : rule_->event_time)
      set(change, {t.column, Value::of(Value::Kind::timestamp, format_time(event_.time)), "(event time)",
                   ValueOrigin::event_time});
    for (const auto& c : rule_->constants) set(change, {c.column, c.value, "(constant)", ValueOrigin::constant});
  }

  void add_automatic_values(RowChange& change) const {
    auto stamp = [&](const std::string& column) {
      if (mapper_.catalog_.has_column(shape_.name, column) && !change.find_set(column))
        change.set.push_back({column, Value::of(Value::Kind::timestamp, format_time(event_.time)), "(event time)",
                              ValueOrigin::event_time});
    };
    if (change.action == ChangeAction::insert) {
      stamp("created_at");
      stamp("updated_at");
    } else if (change.action == ChangeAction::update) {
      stamp("updated_at");
    } else {
      std::string soft = mapper_.soft_delete_column(shape_.name);
      if (!soft.empty()) {
        change.action = ChangeAction::soft_delete;
        stamp(soft);
      }
      change.cascade = mapper_.cascades_of(shape_.name);
    }
  }

  static void set(RowChange& change, ColumnValue value) {
    for (auto& existing : change.set)
      if (existing.column == value.column) {
        existing = std::move(value);  // later sources win: changes.x.to over a top-level x
        return;
      }
    change.set.push_back(std::move(value));
  }

  Mapper& mapper_;
  const AuditEvent& event_;
  const OperationRule* rule_;
  const OperationTarget& target_;
  const JsonNode& root_;
  const verify::TableShape& shape_;
};

Mapper::Mapper(MappingRules rules, MappingCatalog catalog) : rules_(std::move(rules)), catalog_(std::move(catalog)) {
  validate_mapping_rules(rules_, catalog_);
}

OperationTarget Mapper::target(const std::string& operation) const {
  OperationTarget t;
  const OperationRule* rule = rules_.operation(operation);
  t.from_rule = rule != nullptr;
  if (rule && rule->action == RuleAction::ignore) {
    t.outcome = MapOutcome::ignored;
    t.reason = "ignored by rule at " + rules_.path + ":" + std::to_string(rule->line);
    return t;
  }
  auto conv = parse_conventional_operation(operation);
  if (!rule && !conv) {
    t.outcome = MapOutcome::not_an_event;
    t.reason = "not CREATE_/UPDATE_/DELETE_<ENTITY> and no rule";
    return t;
  }
  t.table = rule && !rule->table.empty() ? rule->table : conventional_table(operation, catalog_);
  if (t.table.empty()) {
    std::string singular = entity_to_snake(conv->entity);
    t.outcome = MapOutcome::unknown_table;
    t.reason = "no table '" + pluralise(singular) + "' (nor '" + singular + "') in the database";
    return t;
  }
  t.action = rule && rule->action ? *rule->action : action_of_verb(conv->verb);
  t.outcome = MapOutcome::mapped;
  return t;
}

const Mapper::KnownOperation& Mapper::known(std::string_view operation) {
  auto it = known_.find(operation);
  if (it == known_.end()) {
    std::string name(operation);
    it = known_.emplace(name, KnownOperation{target(name), rules_.operation(name)}).first;
  }
  return it->second;
}

MapResult Mapper::map(const AuditEvent& event) {
  MapResult result;
  const KnownOperation& op = known(event.operation);
  result.outcome = op.target.outcome;
  result.reason = op.target.reason;
  if (op.target.outcome != MapOutcome::mapped) return result;
  JsonNode root;
  std::string error;
  try {
    if (!parse_event_json(event.json, root, error)) throw InvalidLine{"invalid JSON: " + error};
    result.changes = ChangeBuilder(*this, event, op.target, op.rule, root).build();
  } catch (const InvalidLine& invalid) {
    result.outcome = MapOutcome::invalid;
    result.reason = invalid.reason;
  }
  return result;
}

void Mapper::note_unmapped(const AuditEvent& event, const std::string& field) {
  auto key = std::make_pair(std::string(event.operation), field);
  auto it = unmapped_index_.find(key);
  if (it != unmapped_index_.end()) {
    ++unmapped_[it->second].count;
    return;
  }
  unmapped_index_.emplace(key, unmapped_.size());
  unmapped_.push_back({key.first, field, event.file ? *event.file : std::string(), event.line_number, 1});
}

std::string Mapper::soft_delete_column(const std::string& table) const {
  if (const TableRule* rule = rules_.table(table))
    if (rule->soft_delete) return *rule->soft_delete;
  return catalog_.has_column(table, "deleted_at") ? "deleted_at" : "";
}

std::vector<CascadeDelete> Mapper::cascades_of(const std::string& table) const {
  std::vector<CascadeDelete> result;
  const TableRule* rule = rules_.table(table);
  if (!rule) return result;
  for (const auto& c : rule->cascade)  // cycles were rejected when the rules were loaded
    result.push_back({c.child_table, c.foreign_key, soft_delete_column(c.child_table), cascades_of(c.child_table)});
  return result;
}

const ColumnValue* RowChange::find_set(const std::string& column) const {
  for (const auto& c : set)
    if (c.column == column) return &c;
  return nullptr;
}

const char* change_action_name(ChangeAction action) {
  switch (action) {
    case ChangeAction::insert: return "insert";
    case ChangeAction::update: return "update";
    case ChangeAction::remove: return "delete";
    case ChangeAction::soft_delete: return "soft_delete";
  }
  return "?";
}

const char* outcome_name(MapOutcome outcome) {
  switch (outcome) {
    case MapOutcome::mapped: return "mapped";
    case MapOutcome::ignored: return "ignored";
    case MapOutcome::not_an_event: return "not_an_event";
    case MapOutcome::unknown_table: return "unknown_table";
    case MapOutcome::invalid: return "invalid";
  }
  return "?";
}

const char* kind_name(Value::Kind kind) {
  switch (kind) {
    case Value::Kind::null: return "null";
    case Value::Kind::boolean: return "boolean";
    case Value::Kind::integer: return "integer";
    case Value::Kind::number: return "number";
    case Value::Kind::string: return "string";
    case Value::Kind::json: return "json";
    case Value::Kind::timestamp: return "timestamp";
  }
  return "?";
}

}  // namespace auditpitr::replay
