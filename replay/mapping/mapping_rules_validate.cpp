// Rules against the target database's catalog: every table and column a rule names must exist,
// so that a typo fails at load time, not halfway through a recovery.
#include "replay/mapping/mapping_conventions.h"
#include "replay/mapping/mapping_rules.h"
#include "src/error.h"
#include "src/util/toml_reader.h"

namespace auditpitr::replay {
namespace {

class Validator {
 public:
  Validator(const MappingRules& rules, const MappingCatalog& catalog)
      : problems_("the mapping rules '" + rules.path + "'"), rules_(rules), catalog_(catalog) {}

  /// Every rule is checked, each name on its own: one run names every mistake.
  mutable ErrorCollector problems_;

  void table(const std::string& rule, int line, const std::string& name) const {
    if (!catalog_.table(name))
      fail(rule, line, "names unknown table '" + name + "'", "tables in the database: " + catalog_.table_list());
  }

  void column(const std::string& rule, int line, const std::string& table, const std::string& name) const {
    if (!catalog_.has_column(table, name))
      fail(rule, line, "names unknown column '" + name + "' of table '" + table + "'",
           "columns of '" + table + "': " + catalog_.column_list(table));
  }

  void operation(const OperationRule& op) const {
    std::string rule = "operation '" + op.operation + "'";
    if (op.action == RuleAction::ignore) return;
    std::string target = op.table.empty() ? conventional_table(op.operation, catalog_) : op.table;
    if (target.empty())
      fail(rule, op.line, "has no table: the database has no '" + convention_name(op.operation) + "'",
           "add table = \"...\" to the rule, or action = \"ignore\"");
    table(rule, op.line, target);
    for (const auto& k : op.key)
      if (!k.column.empty()) problems_.attempt([&] { column(rule, k.line, target, k.column); });
    if (op.key.size() == 1 && op.key[0].column.empty() && catalog_.table(target)->primary_key.size() != 1)
      fail(rule, op.key[0].line, "gives one key field but table '" + target + "' has no single-column primary key",
           "map each key field to its column: key = { fieldA = \"col_a\", fieldB = \"col_b\" }");
    for (const auto* list : {&op.fields, &op.expect, &op.event_time})
      for (const auto& f : *list) problems_.attempt([&] { column(rule, f.line, target, f.column); });
    for (const auto& c : op.constants) problems_.attempt([&] { column(rule, c.line, target, c.column); });
  }

  void table_rule(const TableRule& t) const {
    std::string rule = "table rule '" + t.table + "'";
    table(rule, t.line, t.table);
    if (t.soft_delete && !t.soft_delete->empty()) column(rule, t.line, t.table, *t.soft_delete);
    for (const auto& touched : t.soft_delete_touches)
      problems_.attempt([&] { column(rule, t.line, t.table, touched); });
    for (const auto& c : t.cascade)
      problems_.attempt([&] {
        table(rule, c.line, c.child_table);
        column(rule, c.line, c.child_table, c.foreign_key);
      });
  }

  void global_field(const FieldColumn& f) const {
    for (const auto& t : catalog_.tables())
      if (catalog_.has_column(t.name, f.column)) return;
    fail("field rename '" + f.field + "'", f.line, "names column '" + f.column + "' that no table has");
  }

 private:
  [[noreturn]] void fail(const std::string& rule, int line, const std::string& what,
                         const std::string& hint = {}) const {
    std::string at = rules_.path + (line > 0 ? ":" + std::to_string(line) : "");
    throw usage_error("mapping rules '" + at + "': " + rule + " " + what, hint);
  }

  std::string convention_name(const std::string& operation) const {
    auto conv = parse_conventional_operation(operation);
    return conv ? pluralise(entity_to_snake(conv->entity)) : operation;
  }

  const MappingRules& rules_;
  const MappingCatalog& catalog_;
};

}  // namespace

std::string conventional_table(const std::string& operation, const MappingCatalog& catalog) {
  auto conv = parse_conventional_operation(operation);
  if (!conv) return {};
  std::string singular = entity_to_snake(conv->entity);
  std::string plural = pluralise(singular);
  if (catalog.table(plural)) return plural;
  if (catalog.table(singular)) return singular;
  return {};
}

void validate_mapping_rules(const MappingRules& rules, const MappingCatalog& catalog) {
  Validator v(rules, catalog);
  v.problems_.add(rules.problems);  // the structure's first, as in the file's own check
  for (const auto& f : rules.fields) v.problems_.attempt([&] { v.global_field(f); });
  for (const auto& table : rules.tables) v.problems_.attempt([&] { v.table_rule(table.second); });
  for (const auto& op : rules.operations) v.problems_.attempt([&] { v.operation(op.second); });
  v.problems_.raise();
}

}  // namespace auditpitr::replay
