// The Mapper: decides an operation's target (rule, else convention) and its plan (what each field
// name does) once, then maps each line through ChangeBuilder; map() turns the compact result into
// RowChanges of strings.
#include "replay/mapping/mapping.h"

#include <algorithm>

#include "replay/mapping/change_builder.h"
#include "replay/mapping/line_plan.h"
#include "replay/mapping/mapping_conventions.h"

namespace auditpitr::replay {
namespace {

RuleAction action_of_verb(ConventionVerb verb) {
  switch (verb) {
    case ConventionVerb::create: return RuleAction::insert;
    case ConventionVerb::update: return RuleAction::update;
    case ConventionVerb::remove: return RuleAction::remove;
  }
  return RuleAction::ignore;
}

ChangeAction change_action(RuleAction action) {
  return action == RuleAction::insert   ? ChangeAction::insert
         : action == RuleAction::update ? ChangeAction::update
                                        : ChangeAction::remove;
}

bool contains(const std::vector<std::string>& list, std::string_view item) {
  return std::find(list.begin(), list.end(), item) != list.end();
}

const FieldColumn* find_field(const std::vector<FieldColumn>& list, std::string_view field) {
  for (const auto& f : list)
    if (f.field == field) return &f;
  return nullptr;
}

}  // namespace

Mapper::Mapper(MappingRules rules, MappingCatalog catalog)
    : rules_(std::move(rules)), catalog_(std::move(catalog)), builder_(std::make_unique<ChangeBuilder>()) {
  validate_mapping_rules(rules_, catalog_);
  for (const auto& table : catalog_.tables()) cascades_.push_back(cascades_of(table.name));
}

Mapper::~Mapper() = default;
Mapper::Mapper(Mapper&&) noexcept = default;
Mapper& Mapper::operator=(Mapper&&) noexcept = default;

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

Mapper::KnownOperation& Mapper::known(std::string_view operation) {
  auto& slot = known_cache_.slots[std::hash<std::string_view>()(operation) % known_cache_.slots.size()];
  if (slot.op && slot.name == operation) return *slot.op;
  auto it = known_.find(operation);
  if (it != known_.end()) {
    slot = {std::string(operation), &it->second};
    return it->second;
  }
  std::string name(operation);
  KnownOperation op;
  op.op = {static_cast<uint32_t>(known_.size()), name, target(name)};
  op.rule = rules_.operation(name);
  if (op.op.target.outcome == MapOutcome::mapped) {
    plan(op);
    if (!op.rule || op.rule->each.empty()) op.line_plan = std::make_shared<LinePlan>();
  }
  return known_.emplace(name, std::move(op)).first->second;
}

uint32_t Mapper::column_index(uint32_t table, const std::string& column) const {
  const auto& columns = catalog_.tables()[table].columns;
  auto it = std::find(columns.begin(), columns.end(), column);
  return it == columns.end() ? npos : static_cast<uint32_t>(it - columns.begin());
}

// Everything about an operation that does not depend on the line; the rules were validated
// against the catalog, so every column they name exists.
void Mapper::plan(KnownOperation& op) {
  const auto& tables = catalog_.tables();
  op.table = static_cast<uint32_t>(catalog_.table(op.op.target.table) - tables.data());
  op.action = change_action(op.op.target.action);
  const verify::TableShape& shape = tables[op.table];
  if (shape.primary_key.size() == 1) op.primary_key = column_index(op.table, shape.primary_key[0]);
  KeyPlan& key = op.key;
  key.from_rule = op.rule && !op.rule->key.empty();
  if (key.from_rule) {
    for (const auto& k : op.rule->key) {
      key.fields.push_back(k.field);
      key.columns.push_back(k.column.empty() ? npos : column_index(op.table, k.column));
    }
  } else {
    if (auto conv = parse_conventional_operation(op.op.name))
      key.fields.push_back(entity_to_lower_camel(conv->entity) + "ID");
    key.fields.push_back("id");
    key.columns.assign(key.fields.size(), npos);
    for (const auto& n : key.fields) key.names += (key.names.empty() ? "'" : " or '") + n + "'";
  }
  for (const auto& f : key.fields) key.plans.push_back(plan_of(op, f, npos));
  if (op.rule) {
    for (const auto& t : op.rule->event_time) op.event_time_columns.push_back(column_index(op.table, t.column));
    for (const auto& c : op.rule->constants) op.constants.emplace_back(column_index(op.table, c.column), &c.value);
  }
  op.created_at = column_index(op.table, "created_at");
  op.updated_at = column_index(op.table, "updated_at");
  std::string soft = soft_delete_column(shape.name);
  op.soft_delete = !soft.empty();
  if (op.soft_delete) op.soft_delete_column = column_index(op.table, soft);
  if (op.soft_delete)
    for (const auto& touched : soft_delete_touches(shape.name))
      op.soft_delete_touches.push_back(column_index(op.table, touched));
}

// The plan of `field`, trying first the plan the field at `position` had in the previous line:
// an application logs each operation's fields in the same order every time.
uint32_t Mapper::plan_of(KnownOperation& op, std::string_view field, uint32_t position) {
  if (position < op.order.size() && op.fields[op.order[position]].name == field) return op.order[position];
  uint32_t found = npos;
  for (uint32_t i = 0; i < op.fields.size() && found == npos; ++i)
    if (op.fields[i].name == field) found = i;
  if (found == npos) {
    found = static_cast<uint32_t>(op.fields.size());
    op.fields.push_back(field_plan(op, field));
  }
  if (position != npos) {
    if (position >= op.order.size()) op.order.resize(position + 1, 0);
    op.order[position] = found;
  }
  return found;
}

// In the order the mapping has always decided: ignored, a rule's check, `changes`, a column.
Mapper::FieldPlan Mapper::field_plan(const KnownOperation& op, std::string_view field) const {
  FieldPlan plan;
  plan.name = std::string(field);
  plan.top_level_skip = is_reserved_field(field) || (op.rule && field == op.rule->each);
  if (contains(rules_.ignore, field) || (op.rule && contains(op.rule->ignore, field))) {
    plan.use = FieldUse::ignored;
    return plan;
  }
  if (op.rule)
    if (const FieldColumn* e = find_field(op.rule->expect, field)) {
      plan.use = FieldUse::expect;
      plan.column = column_index(op.table, e->column);
      return plan;
    }
  plan.changes = field == "changes" && op.action == ChangeAction::update;
  std::string column = column_for(op, plan.name);
  plan.use = column.empty() ? FieldUse::unmapped : FieldUse::column;
  if (!column.empty()) plan.column = column_index(op.table, column);
  return plan;
}

uint32_t Mapper::column_of(KnownOperation& op, std::string_view field) {
  for (const auto& [name, column] : op.columns)
    if (name == field) return column;
  std::string column = column_for(op, std::string(field));
  op.columns.emplace_back(std::string(field), column.empty() ? npos : column_index(op.table, column));
  return op.columns.back().second;
}

// Rule rename, then global rename, then camelCase -> snake_case; "" when the table has none.
std::string Mapper::column_for(const KnownOperation& op, const std::string& field) const {
  const std::string& table = catalog_.tables()[op.table].name;
  if (op.rule)
    if (const FieldColumn* f = find_field(op.rule->fields, field)) return f->column;
  if (const FieldColumn* f = find_field(rules_.fields, field))
    if (catalog_.has_column(table, f->column)) return f->column;
  std::string snake = camel_to_snake(field);
  return catalog_.has_column(table, snake) ? snake : std::string();
}

void Mapper::map_compact(const AuditEvent& event, MappedEvent& out) {
  KnownOperation& op = known(event.operation);
  out.operation = &op.op;
  out.outcome = op.op.target.outcome;
  out.reason = op.op.target.reason;
  out.changes.clear();
  out.values.clear();
  out.user.clear();
  if (out.outcome != MapOutcome::mapped) return;
  texts_used_ = 0;
  if (op.line_plan && op.line_plan->apply(event.json, event.time, *this, out)) {
    ++planned_lines_;
    return;
  }
  ++tree_lines_;
  std::string error;
  try {
    if (!doc_.parse(event.json, error)) throw InvalidLine{"invalid JSON: " + error};
    builder_->build(*this, op, event, doc_, out);
    uint32_t user = rules_.user_field.empty() ? JsonDocument::npos : doc_.find(JsonDocument::root, rules_.user_field);
    if (user != JsonDocument::npos) out.user = doc_.value(user).text;
    if (op.line_plan) op.line_plan->learn(doc_, out, builder_->counted_unmapped(), rules_.user_field);
  } catch (const InvalidLine& invalid) {
    out.outcome = MapOutcome::invalid;
    out.reason = invalid.reason;
    out.changes.clear();
    out.values.clear();
  }
}

MapResult Mapper::map(const AuditEvent& event) {
  map_compact(event, scratch_);
  MapResult result;
  result.outcome = scratch_.outcome;
  result.reason = scratch_.reason;
  result.user = scratch_.user;
  for (const auto& change : scratch_.changes) result.changes.push_back(to_row_change(event, scratch_, change));
  return result;
}

RowChange Mapper::to_row_change(const AuditEvent& event, const MappedEvent& mapped, const CompactChange& change) const {
  const verify::TableShape& shape = catalog_.tables()[change.table];
  auto value = [](const CompactValue& v) { return Value::of(v.kind, std::string(v.text)); };
  RowChange c;
  c.table = shape.name;
  c.action = change.action;
  // Exact sizes: a replay batch holds 100,000 events' changes at once (replay/apply/fold_sink.h).
  c.key.reserve(mapped.key(change).size());
  c.set.reserve(mapped.set(change).size());
  c.expect.reserve(mapped.expect(change).size());
  for (const auto& v : mapped.key(change))
    c.key.push_back({shape.columns[v.column], value(v), label_of(mapped, change, v), origin_of(v.source)});
  for (const auto& v : mapped.set(change))
    c.set.push_back({shape.columns[v.column], value(v), label_of(mapped, change, v), origin_of(v.source)});
  for (const auto& v : mapped.expect(change))
    c.expect.push_back({shape.columns[v.column], value(v), label_of(mapped, change, v)});
  if (change.action == ChangeAction::remove || change.action == ChangeAction::soft_delete)
    c.cascade = cascades_[change.table];
  c.operation = mapped.operation->name;
  c.time = event.time;
  c.file = event.file ? *event.file : std::string();
  c.line_number = event.line_number;
  c.sequence = event.sequence;
  return c;
}

std::string Mapper::label_of(const MappedEvent& mapped, const CompactChange& change, const CompactValue& value) const {
  std::string field(value.field);
  switch (value.source) {
    case ValueSource::field: return field;
    case ValueSource::element_field:
      return rules_.operation(mapped.operation->name)->each + "[" + std::to_string(change.element) + "]." + field;
    case ValueSource::change_to: return "changes." + field + ".to";
    case ValueSource::change_from: return "changes." + field + ".from";
    case ValueSource::event_time: return "(event time)";
    case ValueSource::constant: return "(constant)";
  }
  return field;
}

std::string_view Mapper::keep_text(std::string text) {
  if (texts_used_ == texts_.size()) texts_.emplace_back();
  std::string& slot = texts_[texts_used_++];
  slot = std::move(text);
  return slot;
}

std::string_view Mapper::event_time_text(TimePoint time) {
  if (stamp_.empty() || time != stamped_) {
    stamp_ = format_time(time);
    stamped_ = time;
  }
  return stamp_;
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

std::vector<std::string> Mapper::soft_delete_touches(const std::string& table) const {
  const TableRule* rule = rules_.table(table);
  return rule ? rule->soft_delete_touches : std::vector<std::string>{};
}

std::vector<CascadeDelete> Mapper::cascades_of(const std::string& table) const {
  std::vector<CascadeDelete> result;
  const TableRule* rule = rules_.table(table);
  if (!rule) return result;
  for (const auto& c : rule->cascade)  // cycles were rejected when the rules were loaded
    result.push_back({c.child_table, c.foreign_key, soft_delete_column(c.child_table), cascades_of(c.child_table),
                      soft_delete_touches(c.child_table)});
  return result;
}

const ColumnValue* RowChange::find_set(const std::string& column) const {
  for (const auto& c : set)
    if (c.column == column) return &c;
  return nullptr;
}

ValueOrigin origin_of(ValueSource source) {
  switch (source) {
    case ValueSource::field:
    case ValueSource::element_field: return ValueOrigin::field;
    case ValueSource::change_to:
    case ValueSource::change_from: return ValueOrigin::change;
    case ValueSource::event_time: return ValueOrigin::event_time;
    case ValueSource::constant: return ValueOrigin::constant;
  }
  return ValueOrigin::field;
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
