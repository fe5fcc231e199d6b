// Loading the mapping rules file with toml++: structure first, names against the catalog later.
#include "replay/mapping/mapping_rules.h"

#include <functional>
#include <set>
#include <sstream>

#include "replay/mapping/mapping_conventions.h"
#include "src/error.h"
#include "src/util/toml_reader.h"

namespace auditpitr::replay {
namespace {

/// The rules file's value shapes, on top of the shared TOML reading.
class RulesReader : public TomlReader {
 public:
  explicit RulesReader(std::string path)
      : TomlReader("mapping rules", std::move(path), "see docs/mapping.md for the rules syntax") {}

  std::string string_of(const toml::node& node, const std::string& what) const {
    if (!node.is_string()) fail(&node, what + " must be a string");
    std::string text = node.value<std::string>().value();
    if (text.empty()) fail(&node, what + " must not be empty");
    return text;
  }

  /// { field = "column", ... }
  std::vector<FieldColumn> field_map(const toml::node* node, const std::string& what) const {
    std::vector<FieldColumn> result;
    if (!node) return result;
    const toml::table* table = node->as_table();
    if (!table)
      fail(node, what + " must be a table of field = \"column\"", "e.g. " + what + " = { userID = \"owner_id\" }");
    for (const auto& [field, column] : *table)
      result.push_back(
          {std::string(field.str()), string_of(column, what + "." + std::string(field.str())), line_of(&column)});
    return result;
  }

  /// ["a", "b"]
  std::vector<FieldColumn> name_list(const toml::node* node, const std::string& what) const {
    std::vector<FieldColumn> result;
    if (!node) return result;
    const toml::array* array = node->as_array();
    if (!array) fail(node, what + " must be a list of strings");
    for (const auto& item : *array) result.push_back({"", string_of(item, what + " entries"), line_of(&item)});
    return result;
  }

  std::vector<std::string> plain_names(const toml::node* node, const std::string& what) const {
    std::vector<std::string> result;
    for (auto& n : name_list(node, what)) result.push_back(n.column);
    return result;
  }

  Value constant(const toml::node& node, const std::string& what) const {
    if (node.is_string()) return Value::of(Value::Kind::string, node.value<std::string>().value());
    if (node.is_integer()) return Value::of(Value::Kind::integer, std::to_string(node.value<int64_t>().value()));
    if (node.is_boolean()) return Value::of(Value::Kind::boolean, node.value<bool>().value() ? "true" : "false");
    if (node.is_floating_point()) {
      std::ostringstream out;
      out.precision(17);
      out << node.value<double>().value();
      return Value::of(Value::Kind::number, out.str());
    }
    fail(&node, what + " must be a string, a whole number, a number or a boolean");
  }
};

RuleAction parse_action(const RulesReader& r, const toml::node& node) {
  std::string text = r.string_of(node, "'action'");
  if (text == "insert") return RuleAction::insert;
  if (text == "update") return RuleAction::update;
  if (text == "delete") return RuleAction::remove;
  if (text == "ignore") return RuleAction::ignore;
  r.fail(&node, "unknown action '" + text + "'", "actions: insert, update, delete, ignore");
}

std::vector<FieldColumn> parse_key(const RulesReader& r, const toml::node* node) {
  if (node && node->is_string()) return {{r.string_of(*node, "'key'"), "", line_of(node)}};  // -> primary key
  return r.field_map(node, "'key'");
}

OperationRule parse_operation(const RulesReader& r, const std::string& name, const toml::node& node) {
  const toml::table* t = node.as_table();
  if (!t) r.fail(&node, "operation '" + name + "' must be a table ([operations." + name + "])");
  std::string context = "[operations." + name + "]";
  r.reject_unknown_keys(*t, context,
                        {"table", "action", "key", "fields", "expect", "event_time", "constants", "ignore", "each"});
  OperationRule rule;
  rule.operation = name;
  rule.line = line_of(&node);
  if (const toml::node* n = t->get("action")) rule.action = parse_action(r, *n);
  if (const toml::node* n = t->get("table")) rule.table = r.string_of(*n, "'table'");
  rule.key = parse_key(r, t->get("key"));
  rule.fields = r.field_map(t->get("fields"), "'fields'");
  rule.expect = r.field_map(t->get("expect"), "'expect'");
  rule.event_time = r.name_list(t->get("event_time"), "'event_time'");
  rule.ignore = r.plain_names(t->get("ignore"), "'ignore'");
  if (const toml::node* n = t->get("each")) rule.each = r.string_of(*n, "'each'");
  if (const toml::node* n = t->get("constants")) {
    if (!n->is_table()) r.fail(n, "'constants' must be a table of column = value");
    for (const auto& [column, value] : *n->as_table())
      rule.constants.push_back({std::string(column.str()),
                                r.constant(value, "constant '" + std::string(column.str()) + "'"), line_of(&value)});
  }
  bool conventional = parse_conventional_operation(name).has_value();
  bool ignored = rule.action == RuleAction::ignore;
  if (!conventional && !ignored && (rule.table.empty() || !rule.action))
    r.fail(&node, "operation '" + name + "' does not follow the CREATE_/UPDATE_/DELETE_<ENTITY> convention",
           "give it both 'table' and 'action' (insert, update, delete or ignore)");
  return rule;
}

TableRule parse_table(const RulesReader& r, const std::string& name, const toml::node& node) {
  const toml::table* t = node.as_table();
  if (!t) r.fail(&node, "table '" + name + "' must be a table ([tables." + name + "])");
  r.reject_unknown_keys(*t, "[tables." + name + "]", {"soft_delete", "soft_delete_touches", "cascade"});
  TableRule rule;
  rule.table = name;
  rule.line = line_of(&node);
  if (const toml::node* n = t->get("soft_delete")) {
    if (!n->is_string()) r.fail(n, "'soft_delete' must be a column name, or \"\" for real deletes");
    rule.soft_delete = n->value<std::string>().value();
  }
  if (const toml::node* n = t->get("soft_delete_touches")) {
    const toml::array* list = n->as_array();
    if (!list) r.fail(n, "'soft_delete_touches' must be a list of column names, e.g. [\"updated_at\"]");
    for (const auto& item : *list) {
      if (!item.is_string()) r.fail(&item, "'soft_delete_touches' must list column names");
      rule.soft_delete_touches.push_back(item.value<std::string>().value());
    }
  }
  if (const toml::node* n = t->get("cascade")) {
    const toml::array* list = n->as_array();
    if (!list) r.fail(n, "'cascade' must be a list of { table = \"child\", column = \"parent_id\" }");
    for (const auto& item : *list) {
      const toml::table* c = item.as_table();
      if (!c) r.fail(&item, "each cascade entry must be { table = \"child\", column = \"parent_id\" }");
      r.reject_unknown_keys(*c, "a cascade entry of [tables." + name + "]", {"table", "column"});
      if (!c->get("table") || !c->get("column"))
        r.fail(&item, "a cascade entry of '" + name + "' needs both 'table' and 'column'");
      rule.cascade.push_back({r.string_of(*c->get("table"), "cascade 'table'"),
                              r.string_of(*c->get("column"), "cascade 'column'"), line_of(&item)});
    }
  }
  return rule;
}

void reject_cascade_cycles(const RulesReader& r, const MappingRules& rules) {
  // Depth-first walk; a table met again on its own path would make replay loop forever.
  std::vector<std::string> path;
  std::function<void(const std::string&, int)> visit = [&](const std::string& table, int line) {
    for (const auto& p : path)
      if (p == table) {
        std::string chain;
        for (const auto& q : path) chain += q + " -> ";
        r.fail_at(line, "delete cascade loops back to '" + table + "': " + chain + table);
      }
    const TableRule* rule = rules.table(table);
    if (!rule) return;
    path.push_back(table);
    for (const auto& c : rule->cascade) visit(c.child_table, c.line);
    path.pop_back();
  };
  for (const auto& [name, rule] : rules.tables) visit(name, rule.line);
}

// [tables] or [operations]: null when absent, or (a problem) when not a table.
const toml::table* section(const RulesReader& r, const toml::table& root, const std::string& name,
                           ErrorCollector& problems) {
  const toml::node* n = root.get(name);
  if (n && !n->is_table()) problems.attempt([&] { r.fail(n, "'" + name + "' must be a table ([" + name + ".NAME])"); });
  return n ? n->as_table() : nullptr;
}

std::string problems_in(const MappingRules& rules) { return "the mapping rules '" + rules.path + "'"; }

// Each section, table and operation is read on its own, so that one run reports every mistake; a
// broken one is left out of `rules` and its mistake kept in rules.problems.
void read_sections(const RulesReader& r, const toml::table& root, MappingRules& rules) {
  ErrorCollector problems(problems_in(rules));
  problems.attempt([&] {
    r.reject_unknown_keys(root, "the top level", {"user_field", "fields", "ignore", "tables", "operations"});
  });
  problems.attempt([&] {
    if (const toml::node* n = root.get("user_field")) rules.user_field = r.string_of(*n, "'user_field'");
  });
  problems.attempt([&] { rules.fields = r.field_map(root.get("fields"), "[fields]"); });
  problems.attempt([&] { rules.ignore = r.plain_names(root.get("ignore"), "'ignore'"); });
  if (const toml::table* tables = section(r, root, "tables", problems))
    for (auto&& entry : *tables) {
      std::string name(entry.first.str());
      const toml::node& node = entry.second;
      problems.attempt([&] { rules.tables[name] = parse_table(r, name, node); });
    }
  if (const toml::table* operations = section(r, root, "operations", problems))
    for (auto&& entry : *operations) {
      std::string name(entry.first.str());
      const toml::node& node = entry.second;
      problems.attempt([&] { rules.operations[name] = parse_operation(r, name, node); });
    }
  problems.attempt([&] { reject_cascade_cycles(r, rules); });
  rules.problems = problems.errors();
}

}  // namespace

const char* action_name(RuleAction action) {
  switch (action) {
    case RuleAction::insert: return "insert";
    case RuleAction::update: return "update";
    case RuleAction::remove: return "delete";
    case RuleAction::ignore: return "ignore";
  }
  return "?";
}

const OperationRule* MappingRules::operation(const std::string& name) const {
  auto it = operations.find(name);
  return it == operations.end() ? nullptr : &it->second;
}

const TableRule* MappingRules::table(const std::string& name) const {
  auto it = tables.find(name);
  return it == tables.end() ? nullptr : &it->second;
}

namespace {

MappingRules parse_leniently(const std::string& text, const std::string& path) {
  RulesReader r(path);
  toml::table root = r.parse(text);
  MappingRules rules;
  rules.path = path;
  read_sections(r, root, rules);
  return rules;
}

}  // namespace

void raise_problems(const MappingRules& rules) {
  ErrorCollector problems(problems_in(rules));
  problems.add(rules.problems);
  problems.raise();
}

MappingRules parse_mapping_rules(const std::string& text, const std::string& path) {
  MappingRules rules = parse_leniently(text, path);
  raise_problems(rules);
  return rules;
}

MappingRules read_mapping_rules(const std::string& path) {
  return parse_leniently(
      read_toml_file(path, "mapping rules",
                     "fix [audit] mapping in the configuration, or remove it to use the conventions alone"),
      path);
}

MappingRules load_mapping_rules(const std::string& path) {
  MappingRules rules = read_mapping_rules(path);
  raise_problems(rules);
  return rules;
}

}  // namespace auditpitr::replay
