// The Mapper as it was before its fast path (commit 82c7a70), kept unchanged in behaviour as the
// reference that tests/unit/replay/mapping/mapping_reference_test.cpp and fuzz/mapping_fuzz.cpp compare the Mapper
// with: a JSON tree of std::strings per line (simdjson on-demand), columns looked up by name.
#include "tests/unit/replay/mapping/mapping_reference.h"

#include <simdjson.h>

#include <algorithm>

#include "replay/log/time_parse.h"
#include "replay/mapping/mapping_conventions.h"
#include "src/util/json_writer.h"

namespace auditpitr::test {

using namespace replay;

namespace {

struct RefJsonNode {
  enum class Kind { null, boolean, integer, number, string, object, array };
  Kind kind = Kind::null;
  std::string text;
  std::vector<std::pair<std::string, RefJsonNode>> members;
  std::vector<RefJsonNode> items;

  const RefJsonNode* find(std::string_view key) const {
    for (const auto& [k, v] : members)
      if (k == key) return &v;
    return nullptr;
  }
  Value to_value() const;
};

namespace od = simdjson::ondemand;
constexpr int max_depth = 64;

std::string_view trim(std::string_view text) {
  while (!text.empty() && (text.back() == ' ' || text.back() == '\n' || text.back() == '\r' || text.back() == '\t'))
    text.remove_suffix(1);
  return text;
}

simdjson::error_code read_value(od::value value, RefJsonNode& node, int depth);

simdjson::error_code read_object(od::object object, RefJsonNode& node, int depth) {
  node.kind = RefJsonNode::Kind::object;
  for (auto field : object) {
    std::string_view key;
    if (auto error = field.unescaped_key().get(key)) return error;
    node.members.emplace_back(std::string(key), RefJsonNode{});
    if (auto error = read_value(field.value(), node.members.back().second, depth + 1)) return error;
  }
  return simdjson::SUCCESS;
}

simdjson::error_code read_array(od::array array, RefJsonNode& node, int depth) {
  node.kind = RefJsonNode::Kind::array;
  for (auto item : array) {
    od::value v;
    if (auto error = item.get(v)) return error;
    node.items.emplace_back();
    if (auto error = read_value(v, node.items.back(), depth + 1)) return error;
  }
  return simdjson::SUCCESS;
}

simdjson::error_code read_value(od::value value, RefJsonNode& node, int depth) {
  if (depth > max_depth) return simdjson::DEPTH_ERROR;
  od::json_type type;
  if (auto error = value.type().get(type)) return error;
  switch (type) {
    case od::json_type::object: {
      od::object object;
      if (auto error = value.get_object().get(object)) return error;
      return read_object(object, node, depth);
    }
    case od::json_type::array: {
      od::array array;
      if (auto error = value.get_array().get(array)) return error;
      return read_array(array, node, depth);
    }
    case od::json_type::string: {
      std::string_view text;
      if (auto error = value.get_string().get(text)) return error;
      node.kind = RefJsonNode::Kind::string;
      node.text = std::string(text);
      return simdjson::SUCCESS;
    }
    case od::json_type::number: {
      od::number_type number_type;
      if (auto error = value.get_number_type().get(number_type)) return error;
      std::string_view raw = value.raw_json_token();
      bool whole = number_type != od::number_type::floating_point_number;
      node.kind = whole ? RefJsonNode::Kind::integer : RefJsonNode::Kind::number;
      node.text = std::string(trim(raw));  // as logged: big integers stay exact
      return simdjson::SUCCESS;
    }
    case od::json_type::boolean: {
      bool flag = false;
      if (auto error = value.get_bool().get(flag)) return error;
      node.kind = RefJsonNode::Kind::boolean;
      node.text = flag ? "true" : "false";
      return simdjson::SUCCESS;
    }
    case od::json_type::null:
      if (!value.is_null()) return simdjson::INCORRECT_TYPE;
      node.kind = RefJsonNode::Kind::null;
      return simdjson::SUCCESS;
  }
  return simdjson::INCORRECT_TYPE;
}

void write_node(const RefJsonNode& node, JsonWriter& out) {
  switch (node.kind) {
    case RefJsonNode::Kind::null: out.null(); break;
    case RefJsonNode::Kind::boolean: out.value(node.text == "true"); break;
    case RefJsonNode::Kind::integer:
    case RefJsonNode::Kind::number: out.value(std::stod(node.text)); break;
    case RefJsonNode::Kind::string: out.value(node.text); break;
    case RefJsonNode::Kind::object:
      out.begin_object();
      for (const auto& [key, child] : node.members) {
        out.key(key);
        write_node(child, out);
      }
      out.end_object();
      break;
    case RefJsonNode::Kind::array:
      out.begin_array();
      for (const auto& child : node.items) write_node(child, out);
      out.end_array();
      break;
  }
}

// Compact JSON; numbers keep their logged text (JsonWriter would round-trip them through double).
std::string compact_json(const RefJsonNode& node) {
  switch (node.kind) {
    case RefJsonNode::Kind::integer:
    case RefJsonNode::Kind::number: return node.text;
    case RefJsonNode::Kind::object: {
      std::string out = "{";
      for (const auto& [key, child] : node.members)
        out += (out.size() > 1 ? "," : "") + json_quote(key) + ":" + compact_json(child);
      return out + "}";
    }
    case RefJsonNode::Kind::array: {
      std::string out = "[";
      for (const auto& child : node.items) out += (out.size() > 1 ? "," : "") + compact_json(child);
      return out + "]";
    }
    default: {
      JsonWriter w(0);
      write_node(node, w);
      return w.str();
    }
  }
}

Value RefJsonNode::to_value() const {
  switch (kind) {
    case Kind::null: return Value::null();
    case Kind::boolean: return Value::of(Value::Kind::boolean, text);
    case Kind::integer: return Value::of(Value::Kind::integer, text);
    case Kind::number: return Value::of(Value::Kind::number, text);
    case Kind::string: return Value::of(Value::Kind::string, text);
    case Kind::object:
    case Kind::array: return Value::of(Value::Kind::json, compact_json(*this));
  }
  return Value::null();
}

bool parse_event_json(std::string_view json, RefJsonNode& root, std::string& error) {
  thread_local od::parser parser;
  root = RefJsonNode{};
  od::document doc;
  auto result = parser.iterate(json.data(), json.size(), json.size() + simdjson::SIMDJSON_PADDING);
  if (auto e = std::move(result).get(doc)) {
    error = simdjson::error_message(e);
    return false;
  }
  od::object object;
  if (doc.get_object().get(object) != simdjson::SUCCESS) {
    error = "not a JSON object";
    return false;
  }
  if (auto e = read_object(object, root, 0)) {
    error = simdjson::error_message(e);
    return false;
  }
  return true;
}

struct InvalidLine {
  std::string reason;
};

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
class RefChangeBuilder {
 public:
  RefChangeBuilder(ReferenceMapper& mapper, const AuditEvent& event, const OperationTarget& target,
                   const OperationRule* rule, const RefJsonNode& root)
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
    const RefJsonNode* array = root_.find(rule_->each);
    if (!array || array->kind != RefJsonNode::Kind::array)
      throw InvalidLine{"missing array field '" + rule_->each + "' to fan out"};
    for (std::size_t i = 0; i < array->items.size(); ++i) {
      const RefJsonNode& element = array->items[i];
      std::string prefix = rule_->each + "[" + std::to_string(i) + "].";
      if (element.kind != RefJsonNode::Kind::object) throw InvalidLine{"'" + prefix + "' is not an object"};
      changes.push_back(build_one(&element, prefix));
    }
    return changes;
  }

 private:
  struct Field {
    std::string name;
    std::string label;  // name as reported: "items[0].position"
    const RefJsonNode* node;
  };

  // Top-level fields, then the fan-out element's (which win on equal names).
  std::vector<Field> fields_of(const RefJsonNode* element, const std::string& prefix) const {
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

  RowChange build_one(const RefJsonNode* element, const std::string& prefix) {
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
      if (f->node->kind == RefJsonNode::Kind::null) throw InvalidLine{"key field '" + f->label + "' is null"};
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
    if (f.name == "changes" && f.node->kind == RefJsonNode::Kind::object && change.action == ChangeAction::update) {
      map_changes(*f.node, change);
      return;
    }
    std::string column = column_for(f.name);
    if (column.empty()) return mapper_.note_unmapped(event_, f.label);
    // A delete line shows the row as it was: every field is a check, never a write.
    if (change.action == ChangeAction::remove) change.expect.push_back({column, f.node->to_value(), f.label});
    else set(change, {column, f.node->to_value(), f.label, ValueOrigin::field});
  }

  void map_changes(const RefJsonNode& changes, RowChange& change) {
    for (const auto& [name, diff] : changes.members) {
      std::string label = "changes." + name;
      std::string column = column_for(name);
      if (column.empty()) {
        mapper_.note_unmapped(event_, label);
        continue;
      }
      const RefJsonNode* to = diff.find("to");
      if (diff.kind != RefJsonNode::Kind::object || !to)
        throw InvalidLine{"'" + label + "' is not an object with 'to' (and 'from')"};
      set(change, {column, to->to_value(), label + ".to", ValueOrigin::change});
      if (const RefJsonNode* from = diff.find("from"))
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

  ReferenceMapper& mapper_;
  const AuditEvent& event_;
  const OperationRule* rule_;
  const OperationTarget& target_;
  const RefJsonNode& root_;
  const verify::TableShape& shape_;
};

ReferenceMapper::ReferenceMapper(MappingRules rules, MappingCatalog catalog)
    : rules_(rules), catalog_(catalog), base_(std::move(rules), std::move(catalog)) {}

// Targets, soft deletes and cascades were not part of what the fast path replaced: the Mapper's own.
OperationTarget ReferenceMapper::target(const std::string& operation) const { return base_.target(operation); }
std::string ReferenceMapper::soft_delete_column(const std::string& table) const {
  return base_.soft_delete_column(table);
}
std::vector<CascadeDelete> ReferenceMapper::cascades_of(const std::string& table) const {
  return base_.cascades_of(table);
}

const ReferenceMapper::KnownOperation& ReferenceMapper::known(std::string_view operation) {
  auto it = known_.find(operation);
  if (it == known_.end()) {
    std::string name(operation);
    it = known_.emplace(name, KnownOperation{target(name), rules_.operation(name)}).first;
  }
  return it->second;
}

MapResult ReferenceMapper::map(const AuditEvent& event) {
  MapResult result;
  const KnownOperation& op = known(event.operation);
  result.outcome = op.target.outcome;
  result.reason = op.target.reason;
  if (op.target.outcome != MapOutcome::mapped) return result;
  RefJsonNode root;
  std::string error;
  try {
    if (!parse_event_json(event.json, root, error)) throw InvalidLine{"invalid JSON: " + error};
    result.changes = RefChangeBuilder(*this, event, op.target, op.rule, root).build();
    const RefJsonNode* user = rules_.user_field.empty() ? nullptr : root.find(rules_.user_field);
    if (user) result.user = user->to_value().text;
  } catch (const InvalidLine& invalid) {
    result.outcome = MapOutcome::invalid;
    result.reason = invalid.reason;
  }
  return result;
}

void ReferenceMapper::note_unmapped(const AuditEvent& event, const std::string& field) {
  auto key = std::make_pair(std::string(event.operation), field);
  auto it = unmapped_index_.find(key);
  if (it != unmapped_index_.end()) {
    ++unmapped_[it->second].count;
    return;
  }
  unmapped_index_.emplace(key, unmapped_.size());
  unmapped_.push_back({key.first, field, event.file ? *event.file : std::string(), event.line_number, 1});
}

// Comparison helpers.

const char* const kFeatureRules = R"(
ignore = ["cascade"]
[fields]
userID = "owner_id"
[tables.portfolios]
cascade = [{ table = "categories", column = "portfolio_id" }]
[tables.categories]
cascade = [{ table = "projects", column = "category_id" }]
[tables.projects]
soft_delete = ""
[operations.UPDATE_CATEGORY_POSITION]
table = "categories"
action = "update"
key = { categoryID = "id" }
fields = { newPosition = "position" }
expect = { oldPosition = "position" }
[operations.BULK_REORDER_SECTIONS]
table = "sections"
action = "update"
each = "items"
key = "id"
expect = { userID = "owner_id" }
[operations.PUBLISH_PORTFOLIO]
table = "portfolios"
action = "update"
key = "portfolioID"
event_time = ["updated_at"]
constants = { description = "published", title = 7 }
ignore = ["note"]
[operations.DELETE_SECTION_CONTENT]
key = "contentID"
[operations.LOGIN]
action = "ignore"
)";

namespace {

std::string describe(const Value& v) { return std::string(kind_name(v.kind)) + ":" + v.text; }
std::string describe(const std::vector<CascadeDelete>& cascade) {
  std::string out;
  for (const auto& c : cascade)
    out += "{" + c.table + "." + c.foreign_key + " soft=" + c.soft_delete_column + " " + describe(c.children) + "}";
  return out;
}
}  // namespace

std::string describe(const MapResult& r) {
  std::string out = std::string(outcome_name(r.outcome)) + " (" + r.reason + ") user=" + r.user;
  for (const auto& c : r.changes) {
    out += "\n  " + c.table + " " + change_action_name(c.action) + " " + c.operation + " " + c.file + ":" +
           std::to_string(c.line_number) + " #" + std::to_string(c.sequence) + " t=" + format_time(c.time);
    for (const auto& k : c.key) out += "\n    key " + k.column + "=" + describe(k.value) + " <- " + k.field;
    for (const auto& s : c.set)
      out += "\n    set " + s.column + "=" + describe(s.value) + " <- " + s.field + " o" +
             std::to_string(static_cast<int>(s.origin));
    for (const auto& e : c.expect) out += "\n    expect " + e.column + "=" + describe(e.expected) + " <- " + e.field;
    out += "\n    cascade " + describe(c.cascade);
  }
  return out;
}
std::string describe(const std::vector<UnmappedField>& fields) {
  std::string out;
  for (const auto& f : fields)
    out += f.operation + "/" + f.field + " " + f.file + ":" + std::to_string(f.line_number) + " x" +
           std::to_string(f.count) + "\n";
  return out;
}

std::string describe(const JsonDocument& doc) {
  std::string out;
  for (uint32_t i = 0; i < doc.size(); ++i) {
    const JsonDocument::Node& n = doc.node(i);
    out += std::to_string(static_cast<int>(n.kind)) + " " + std::string(n.key) + "=" + std::string(n.text) + " ..." +
           std::to_string(n.end) + "\n";
  }
  return out;
}

}  // namespace auditpitr::test
