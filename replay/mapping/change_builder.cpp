// ChangeBuilder: one line's compact row changes, from its JSON document and its operation's plan
// (what each field name does, worked out once per operation and name). Drift checks and unmapped
// fields are recorded, never fatal; a line that lacks what the mapping needs throws InvalidLine.
#include "replay/mapping/change_builder.h"

#include <algorithm>

namespace auditpitr::replay {

void ChangeBuilder::build(Mapper& mapper, Mapper::KnownOperation& op, const AuditEvent& event, const JsonDocument& doc,
                          MappedEvent& out) {
  mapper_ = &mapper;
  op_ = &op;
  event_ = &event;
  doc_ = &doc;
  out_ = &out;
  counted_.clear();
  const OperationRule* rule = op_->rule;
  if (!rule || rule->each.empty()) return build_one(JsonDocument::npos, -1);
  uint32_t array = doc_->find(JsonDocument::root, rule->each);
  if (array == JsonDocument::npos || doc_->node(array).kind != JsonDocument::Kind::array)
    throw InvalidLine{"missing array field '" + rule->each + "' to fan out"};
  int32_t i = 0;
  for (uint32_t element = doc_->first(array); element != JsonDocument::npos;
       element = doc_->next(array, element), ++i) {
    if (doc_->node(element).kind != JsonDocument::Kind::object)
      throw InvalidLine{"'" + rule->each + "[" + std::to_string(i) + "].' is not an object"};
    build_one(element, i);
  }
}

// Top-level fields in line order, then the fan-out element's, which replace top-level fields of
// the same name (and earlier element fields of it).
void ChangeBuilder::collect_fields(uint32_t element) {
  fields_.clear();
  uint32_t position = 0;
  for (uint32_t c = doc_->first(JsonDocument::root); c != JsonDocument::npos; c = doc_->next(JsonDocument::root, c)) {
    uint32_t plan = mapper_->plan_of(*op_, doc_->node(c).key, position++);
    if (!op_->fields[plan].top_level_skip) fields_.push_back({c, plan, false, false});
  }
  if (element == JsonDocument::npos) return;
  for (uint32_t c = doc_->first(element); c != JsonDocument::npos; c = doc_->next(element, c)) {
    uint32_t plan = mapper_->plan_of(*op_, doc_->node(c).key, position++);
    fields_.erase(std::remove_if(fields_.begin(), fields_.end(), [&](const Field& f) { return f.plan == plan; }),
                  fields_.end());
    fields_.push_back({c, plan, true, false});
  }
}

void ChangeBuilder::build_one(uint32_t element, int32_t index) {
  element_ = index;
  key_.clear();
  set_.clear();
  expect_.clear();
  action_ = op_->action;
  collect_fields(element);
  read_key();
  for (const Field& f : fields_)
    if (!f.consumed) map_field(f);
  add_rule_values();
  add_automatic_values();
  CompactChange change;
  change.table = op_->table;
  change.action = action_;
  change.element = index;
  auto append = [&](const std::vector<CompactValue>& values) {
    out_->values.insert(out_->values.end(), values.begin(), values.end());
    return static_cast<uint32_t>(out_->values.size());
  };
  change.key_begin = static_cast<uint32_t>(out_->values.size());
  change.set_begin = append(key_);
  change.expect_begin = append(set_);
  change.end = append(expect_);
  out_->changes.push_back(change);
}

const ChangeBuilder::Field* ChangeBuilder::find(uint32_t plan) const {
  for (const Field& f : fields_)
    if (f.plan == plan) return &f;
  return nullptr;
}

void ChangeBuilder::read_key() {
  const Mapper::KeyPlan& key = op_->key;
  std::size_t first = 0, count = key.fields.size();
  if (!key.from_rule) {  // the first conventional candidate the line has
    while (first < count && !find(key.plans[first])) ++first;
    if (first == count) throw InvalidLine{"no key field (" + key.names + ")"};
    count = first + 1;
  }
  for (std::size_t k = first; k < count; ++k) {
    const Field* f = find(key.plans[k]);
    if (!f) throw InvalidLine{"missing key field '" + key.fields[k] + "'"};
    if (doc_->node(f->node).kind == JsonDocument::Kind::null)
      throw InvalidLine{"key field '" + label(*f) + "' is null"};
    uint32_t column = key.columns[k];
    if (column == Mapper::npos) column = single_primary_key();
    key_.push_back(value_of(*f, column));
    for (Field& other : fields_)
      if (other.plan == f->plan) other.consumed = true;
  }
}

uint32_t ChangeBuilder::single_primary_key() const {
  if (op_->primary_key == Mapper::npos)
    throw InvalidLine{"table '" + mapper_->catalog_.tables()[op_->table].name +
                      "' has no single-column primary key: give key columns in a rule"};
  return op_->primary_key;
}

void ChangeBuilder::map_field(const Field& f) {
  Mapper::FieldPlan& plan = op_->fields[f.plan];
  switch (plan.use) {
    case Mapper::FieldUse::ignored: return;
    case Mapper::FieldUse::expect: expect_.push_back(value_of(f, plan.column)); return;
    default: break;
  }
  if (plan.changes && doc_->node(f.node).kind == JsonDocument::Kind::object) return map_changes(f.node);
  if (plan.use == Mapper::FieldUse::unmapped) return note_unmapped(f, plan);
  // A delete line shows the row as it was: every field is a check, never a write.
  if (action_ == ChangeAction::remove) expect_.push_back(value_of(f, plan.column));
  else set(value_of(f, plan.column));
}

void ChangeBuilder::map_changes(uint32_t changes) {
  for (uint32_t diff = doc_->first(changes); diff != JsonDocument::npos; diff = doc_->next(changes, diff)) {
    std::string_view name = doc_->node(diff).key;
    uint32_t column = mapper_->column_of(*op_, name);
    if (column == Mapper::npos) {
      mapper_->note_unmapped(*event_, "changes." + std::string(name));
      continue;
    }
    uint32_t to = doc_->node(diff).kind == JsonDocument::Kind::object ? doc_->find(diff, "to") : JsonDocument::npos;
    if (to == JsonDocument::npos)
      throw InvalidLine{"'changes." + std::string(name) + "' is not an object with 'to' (and 'from')"};
    set(json_value(to, column, ValueSource::change_to, name));
    uint32_t from = doc_->find(diff, "from");
    if (from != JsonDocument::npos) expect_.push_back(json_value(from, column, ValueSource::change_from, name));
  }
}

void ChangeBuilder::note_unmapped(const Field& f, Mapper::FieldPlan& plan) {
  if (f.element) return mapper_->note_unmapped(*event_, label(f));
  // Top-level fields are counted through their plan once their entry exists.
  if (plan.unmapped != Mapper::npos) {
    ++mapper_->unmapped_[plan.unmapped].count;
  } else {
    mapper_->note_unmapped(*event_, std::string(doc_->node(f.node).key));
    plan.unmapped =
        static_cast<uint32_t>(mapper_->unmapped_index_.at({op_->op.name, std::string(doc_->node(f.node).key)}));
  }
  counted_.push_back(plan.unmapped);
}

void ChangeBuilder::add_rule_values() {
  if (!op_->rule) return;
  for (uint32_t column : op_->event_time_columns) set(event_time(column));
  for (const auto& [column, value] : op_->constants)
    set({column, value->kind, ValueSource::constant, value->text, std::string_view()});
}

void ChangeBuilder::add_automatic_values() {
  auto stamp = [&](uint32_t column) {
    if (column == Mapper::npos) return;
    for (const CompactValue& v : set_)
      if (v.column == column) return;
    set_.push_back(event_time(column));
  };
  if (action_ == ChangeAction::insert) {
    stamp(op_->created_at);
    stamp(op_->updated_at);
  } else if (action_ == ChangeAction::update) {
    stamp(op_->updated_at);
  } else if (op_->soft_delete) {
    action_ = ChangeAction::soft_delete;
    stamp(op_->soft_delete_column);
    for (uint32_t touched : op_->soft_delete_touches) stamp(touched);
  }
}

// Later sources win: changes.x.to over a top-level x.
void ChangeBuilder::set(const CompactValue& value) {
  for (CompactValue& existing : set_)
    if (existing.column == value.column) {
      existing = value;
      return;
    }
  set_.push_back(value);
}

CompactValue ChangeBuilder::value_of(const Field& f, uint32_t column) {
  return json_value(f.node, column, f.element ? ValueSource::element_field : ValueSource::field,
                    doc_->node(f.node).key);
}

CompactValue ChangeBuilder::json_value(uint32_t node, uint32_t column, ValueSource source, std::string_view field) {
  const JsonDocument::Node& n = doc_->node(node);
  switch (n.kind) {
    case JsonDocument::Kind::null: return {column, Value::Kind::null, source, std::string_view(), field};
    case JsonDocument::Kind::boolean: return {column, Value::Kind::boolean, source, n.text, field};
    case JsonDocument::Kind::integer: return {column, Value::Kind::integer, source, n.text, field};
    case JsonDocument::Kind::number: return {column, Value::Kind::number, source, n.text, field};
    case JsonDocument::Kind::string: return {column, Value::Kind::string, source, n.text, field};
    case JsonDocument::Kind::object:
    case JsonDocument::Kind::array: break;
  }
  return {column, Value::Kind::json, source, mapper_->keep_text(doc_->compact_json(node)), field};
}

CompactValue ChangeBuilder::event_time(uint32_t column) const {
  return {column, Value::Kind::timestamp, ValueSource::event_time, mapper_->event_time_text(event_->time),
          std::string_view()};
}

std::string ChangeBuilder::label(const Field& f) const {
  std::string name(doc_->node(f.node).key);
  return f.element ? op_->rule->each + "[" + std::to_string(element_) + "]." + name : name;
}

}  // namespace auditpitr::replay
