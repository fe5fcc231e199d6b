// Statement text per action (docs/replay.md, "Semantics"). Old values for the checks come from the
// statement's own snapshot (a self-join or a CTE read before the write), so a check compares with
// what the earlier events left, in the column's type.
#include "replay/apply/row_statement.h"

#include <stdexcept>

#include "src/error.h"
#include "src/pg/connection.h"

namespace auditpitr::replay {
namespace {

using pg::quote_ident;

Conversion conversion_of(const TargetColumn& column, const Value& value) { return conversion_of(column, value.kind); }

}  // namespace

bool is_creation_stamp(const ColumnValue& value) {
  return value.origin == ValueOrigin::event_time && value.column == "created_at";
}

// format_type()'s text without the modifier; quoted names are kept whole.
std::string base_type_of(const std::string& type) {
  std::string out;
  bool quoted = false;
  for (std::size_t i = 0; i < type.size(); ++i) {
    char ch = type[i];
    if (ch == '"') quoted = !quoted;
    if (!quoted && ch == '(') {
      std::size_t close = type.find(')', i);
      if (close != std::string::npos && type.find_first_not_of("0123456789,", i + 1) == close) {
        i = close;
        if (i + 1 < type.size() && type[i + 1] == ' ' && !out.empty() && out.back() == ' ') ++i;
        continue;
      }
    }
    out += ch;
  }
  while (!out.empty() && out.back() == ' ') out.pop_back();
  return out;
}

namespace {

class Builder {
 public:
  Builder(const RowChange& change, const TargetCatalog& catalog, const std::function<std::string(std::size_t)>& param)
      : c_(change), catalog_(catalog), t_(catalog.table(change.table)), param_(param) {}

  // Set-based: parameters are columns p1..pN of the arrays unnested as `v`, with `n` their place.
  std::string build_group(std::size_t params) {
    group_params_ = params;
    switch (c_.action) {
      case ChangeAction::insert: return group_insert();
      case ChangeAction::update: return group_update();
      case ChangeAction::soft_delete: return group_soft_delete();
      default: throw std::logic_error("only inserts, updates and soft deletes are set-based");
    }
  }

  std::string build() {
    switch (c_.action) {
      case ChangeAction::insert: return insert();
      case ChangeAction::update: return update();
      case ChangeAction::soft_delete:
      case ChangeAction::remove: return remove();
    }
    return {};
  }

 private:
  std::size_t set_index(std::size_t i) const { return c_.key.size() + i; }
  std::size_t expect_index(std::size_t i) const { return c_.key.size() + c_.set.size() + i; }
  std::size_t time_index() const { return c_.key.size() + c_.set.size() + c_.expect.size(); }  // deletes only

  const TargetColumn& column(const std::string& name) const {
    if (const TargetColumn* col = t_.column(name)) return *col;
    throw usage_error("table '" + t_.name + "' has no column '" + name + "' (operation " + c_.operation + ")",
                      "check the rules file against the database's columns");
  }

  // The value in an assignment (INSERT VALUES, SET): PostgreSQL converts it to the column's type.
  // A set-based statement's values are text: cast to the type without its modifier, so that the
  // assignment checks the modifier as it checks a parameter's (varchar(5) refuses 'toolong'
  // instead of cutting it).
  std::string assigned(const std::string& name, const Value& value, std::size_t index) const {
    const TargetColumn& col = column(name);
    if (group_params_) {
      TargetColumn base = col;
      base.type = base_type_of(col.type);
      return typed_value_sql(base, value.kind, param_(index));
    }
    if (conversion_of(col, value) == Conversion::plain) return param_(index);
    return typed_value_sql(col, value.kind, param_(index));
  }

  std::string unnest() const {
    std::string arrays, names;
    for (std::size_t i = 0; i < group_params_; ++i) {
      arrays += (i ? ", $" : "$") + std::to_string(i + 1) + "::text[]";
      names += "p" + std::to_string(i + 1) + ", ";
    }
    return "unnest(" + arrays + ") WITH ORDINALITY AS v(" + names + "n)";
  }

  std::string group_update() const {
    if (c_.expect.empty())
      return "UPDATE " + t_.quoted() + " AS t SET " + assignments() + " FROM " + unnest() + " WHERE " + key_where("t") +
             " RETURNING true, 0::bigint, v.n";
    return "UPDATE " + t_.quoted() + " AS t SET " + assignments() + " FROM " + t_.quoted() + " AS o, " + unnest() +
           " WHERE " + key_join("t", "o") + " AND " + key_where("o") + " RETURNING true, 0::bigint" + checks("o") +
           ", v.n";
  }

  // Without cascades. Every part of a statement sees the rows as they were before it: `o` gives the
  // old values to compare with, and whether the row was alive.
  std::string group_soft_delete() const {
    std::string soft = quote_ident(soft_delete_column());
    return "WITH v AS (SELECT * FROM " + unnest() + "), d AS (UPDATE " + t_.quoted() + " AS t SET " + assignments() +
           " FROM v WHERE " + key_where("t") + " AND t." + soft + " IS NULL RETURNING 1) SELECT o." + soft +
           " IS NULL, 0::bigint" + checks("o") + ", v.n FROM " + t_.quoted() + " AS o, v WHERE " + key_where("o");
  }

  const std::string& soft_delete_column() const {
    if (t_.soft_delete.empty())
      throw usage_error("table '" + t_.name + "' has no soft-delete column for operation " + c_.operation);
    return t_.soft_delete;
  }

  // The inserted rows come back by key (RETURNING cannot name `v`): keys are distinct in a group.
  std::string group_insert() const {
    std::string sql = "WITH v AS (SELECT * FROM " + unnest() + "), i AS (" + insert() + ") SELECT i.applied, 0::bigint";
    for (std::size_t i = 0; i < c_.expect.size(); ++i) sql += ", true, NULL::text";
    sql += ", v.n FROM i JOIN v ON ";
    for (std::size_t i = 0; i < c_.key.size(); ++i)
      sql += (i ? " AND i." : "i.") + quote_ident(c_.key[i].column) + " = " +
             compared(c_.key[i].column, c_.key[i].value, i);
    return sql;
  }

  // The value in a comparison: cast explicitly, since nothing else gives it a type.
  std::string compared(const std::string& name, const Value& value, std::size_t index) const {
    return typed_value_sql(column(name), value.kind, param_(index));
  }

  std::string key_where(const std::string& alias) const {
    std::string out;
    for (std::size_t i = 0; i < c_.key.size(); ++i)
      out += (i ? " AND " : "") + alias + "." + quote_ident(column(c_.key[i].column).name) + " = " +
             compared(c_.key[i].column, c_.key[i].value, i);
    return out;
  }

  std::string key_join(const std::string& left, const std::string& right) const {
    std::string out;
    for (std::size_t i = 0; i < c_.key.size(); ++i) {
      std::string col = quote_ident(c_.key[i].column);
      out += (i ? " AND " : "") + left + "." + col + " = " + right + "." + col;
    }
    return out;
  }

  std::string assignments() const {
    std::string out;
    for (std::size_t i = 0; i < c_.set.size(); ++i)
      out += (i ? ", " : "") + quote_ident(column(c_.set[i].column).name) + " = " +
             assigned(c_.set[i].column, c_.set[i].value, set_index(i));
    return out;
  }

  // `same`, `found` per expectation, against the old row `alias`.
  std::string checks(const std::string& alias) const {
    std::string out;
    for (std::size_t i = 0; i < c_.expect.size(); ++i) {
      const ExpectedValue& e = c_.expect[i];
      std::string old = alias + "." + quote_ident(column(e.column).name);
      out += ", " + old + " IS NOT DISTINCT FROM " + compared(e.column, e.expected, expect_index(i)) + ", left(" + old +
             "::text, 200)";
    }
    return out;
  }

  std::string insert() const {
    std::string columns, values, updates;
    for (std::size_t i = 0; i < c_.key.size(); ++i) {
      columns += (i ? ", " : "") + quote_ident(column(c_.key[i].column).name);
      values += (i ? ", " : "") + assigned(c_.key[i].column, c_.key[i].value, i);
    }
    std::string conflict_target;
    for (std::size_t i = 0; i < c_.key.size(); ++i) conflict_target += (i ? ", " : "") + quote_ident(c_.key[i].column);
    for (std::size_t i = 0; i < c_.set.size(); ++i) {
      const ColumnValue& v = c_.set[i];
      std::string col = quote_ident(column(v.column).name);
      columns += ", " + col;
      values += ", " + assigned(v.column, v.value, set_index(i));
      if (!is_creation_stamp(v)) updates += (updates.empty() ? "" : ", ") + col + " = EXCLUDED." + col;
    }
    std::string source = group_params_ ? "SELECT " + values + " FROM v ORDER BY v.n" : "VALUES (" + values + ")";
    std::string sql = "INSERT INTO " + t_.quoted() + " AS t (" + columns + ") " + source + " ON CONFLICT (" +
                      conflict_target + ") DO ";
    sql += updates.empty() ? "NOTHING" : "UPDATE SET " + updates;
    if (group_params_) {
      sql += " RETURNING (t.xmax::text = '0') AS applied";
      for (const auto& k : c_.key) sql += ", t." + quote_ident(k.column);
      return sql;
    }
    sql += " RETURNING (t.xmax::text = '0'), 0::bigint";
    for (std::size_t i = 0; i < c_.expect.size(); ++i) sql += ", true, NULL::text";  // nothing to compare with
    return sql;
  }

  std::string update() const {
    if (c_.expect.empty())
      return "UPDATE " + t_.quoted() + " AS t SET " + assignments() + " WHERE " + key_where("t") +
             " RETURNING true, 0::bigint";
    // The self-join reads the row as it was before this statement: the checks' old values.
    return "UPDATE " + t_.quoted() + " AS t SET " + assignments() + " FROM " + t_.quoted() + " AS o WHERE " +
           key_join("t", "o") + " AND " + key_where("o") + " RETURNING true, 0::bigint" + checks("o");
  }

  std::string remove() const {
    bool soft = c_.action == ChangeAction::soft_delete;
    if (soft) soft_delete_column();  // throws when there is none
    std::string pk = single_key(t_, !c_.cascade.empty());
    std::string sql = "WITH o AS (SELECT * FROM " + t_.quoted() + " AS o WHERE " + key_where("o") + "), d AS (";
    if (soft)
      sql += "UPDATE " + t_.quoted() + " AS t SET " + assignments() + " FROM o WHERE " + key_join("t", "o") +
             " AND o." + quote_ident(t_.soft_delete) + " IS NULL";
    else sql += "DELETE FROM " + t_.quoted() + " AS t USING o WHERE " + key_join("t", "o");
    sql += " RETURNING " + (pk.empty() ? std::string("1") : "t." + quote_ident(pk)) + ")";
    std::vector<std::string> counted;
    add_cascades(c_.cascade, "d", pk, sql, counted);
    std::string cascaded = counted.empty() ? "0::bigint" : "";
    for (std::size_t i = 0; i < counted.size(); ++i)
      cascaded += (i ? " + " : "") + std::string("(SELECT count(*) FROM ") + counted[i] + ")";
    std::string applied = soft ? "o." + quote_ident(t_.soft_delete) + " IS NULL" : "true";
    return sql + " SELECT " + applied + ", " + cascaded + checks("o") + " FROM o";
  }

  // Children still alive whose foreign key holds a key the CTE `parent` returned, recursively.
  void add_cascades(const std::vector<CascadeDelete>& children, const std::string& parent, const std::string& parent_pk,
                    std::string& sql, std::vector<std::string>& counted) const {
    for (const CascadeDelete& child : children) {
      const TargetTable& table = catalog_.table(child.table);
      std::string name = "c" + std::to_string(counted.size() + 1);
      counted.push_back(name);
      std::string pk = single_key(table, !child.children.empty());
      std::string fk = quote_ident(child.foreign_key);
      std::string returning = pk.empty() ? std::string("1") : "x." + quote_ident(pk);
      sql += ", " + name + " AS (";
      if (child.soft_delete_column.empty()) sql += "DELETE FROM " + table.quoted() + " AS x WHERE x." + fk;
      else
        sql += "UPDATE " + table.quoted() + " AS x SET " + deletion_time_sets(child) + " WHERE x." +
               quote_ident(child.soft_delete_column) + " IS NULL AND x." + fk;
      sql += " IN (SELECT " + quote_ident(parent_pk) + " FROM " + parent + ") RETURNING " + returning + ")";
      add_cascades(child.children, name, pk, sql, counted);
    }
  }

  // "deleted_at = ($n)::timestamptz", and the same for each column the child's soft delete touches.
  std::string deletion_time_sets(const CascadeDelete& child) const {
    std::string time = "(" + param_(time_index()) + ")::timestamptz";
    std::string sets = quote_ident(child.soft_delete_column) + " = " + time;
    for (const auto& touched : child.soft_delete_touches) sets += ", " + quote_ident(touched) + " = " + time;
    return sets;
  }

  // The primary-key column children refer to; "" when not `needed`.
  std::string single_key(const TargetTable& table, bool needed) const {
    if (!needed) return {};
    if (table.primary_key.size() != 1)
      throw usage_error("table '" + table.name + "' has no single-column primary key, so cascades cannot follow it",
                        "remove the cascade from the rules file, or give the table a primary key");
    return table.primary_key[0];
  }

  const RowChange& c_;
  const TargetCatalog& catalog_;
  const TargetTable& t_;
  const std::function<std::string(std::size_t)>& param_;
  std::size_t group_params_ = 0;  // set-based: the number of arrays
};

void append_shape(std::string& out, const ColumnValue& v, const TargetTable& t) {
  out += v.column;
  const TargetColumn* col = t.column(v.column);
  out += col ? static_cast<char>('0' + static_cast<int>(conversion_of(*col, v.value))) : '?';
  out += is_creation_stamp(v) ? '*' : ',';
}

void append_cascade_shape(std::string& out, const std::vector<CascadeDelete>& children) {
  for (const auto& c : children) {
    out += '(' + c.table + ':' + c.foreign_key + ':' + c.soft_delete_column;
    for (const auto& touched : c.soft_delete_touches) out += ',' + touched;
    append_cascade_shape(out, c.children);
    out += ')';
  }
}

bool sets_deletion_time(const std::vector<CascadeDelete>& cascades) {
  for (const auto& c : cascades)
    if (!c.soft_delete_column.empty() || sets_deletion_time(c.children)) return true;
  return false;
}

}  // namespace

Conversion conversion_of(const TargetColumn& column, Value::Kind kind) {
  if (column.is_array && kind == Value::Kind::json) return Conversion::array_from_json;
  if (column.is_json && kind == Value::Kind::string) return Conversion::json_from_text;
  return Conversion::plain;
}

std::string typed_value_sql(const TargetColumn& column, Value::Kind kind, const std::string& text) {
  switch (conversion_of(column, kind)) {
    case Conversion::plain: return "(" + text + ")::" + column.type;
    case Conversion::array_from_json:
      return "(ARRAY(SELECT jsonb_array_elements_text((" + text + ")::jsonb)))::" + column.type;
    case Conversion::json_from_text: return "(to_jsonb((" + text + ")::text))::" + column.type;
  }
  return {};
}

std::vector<std::optional<std::string>> statement_params(const RowChange& change) {
  // The event time is a parameter only where a cascade soft-deletes: real deletes do not use it,
  // and a parameter the statement does not use is refused.
  std::vector<std::optional<std::string>> params;
  params.reserve(change.key.size() + change.set.size() + change.expect.size() + 1);
  auto add = [&](const Value& v) { params.push_back(v.is_null() ? std::nullopt : std::optional<std::string>(v.text)); };
  for (const auto& k : change.key) add(k.value);
  for (const auto& s : change.set) add(s.value);
  // PostgreSQL counts a statement's parameters by the highest one it uses: only what is used.
  if (change.action != ChangeAction::insert)
    for (const auto& e : change.expect) add(e.expected);
  if (sets_deletion_time(change.cascade)) params.push_back(format_time(change.time));
  return params;
}

std::string statement_shape(const RowChange& change, const TargetCatalog& catalog) {
  const TargetTable& table = catalog.table(change.table);
  std::string shape = change.table;
  shape += '|';
  shape += static_cast<char>('0' + static_cast<int>(change.action));
  for (const auto& k : change.key) append_shape(shape, k, table);
  shape += '|';
  for (const auto& s : change.set) append_shape(shape, s, table);
  shape += '|';
  for (const auto& e : change.expect)
    append_shape(shape, ColumnValue{e.column, e.expected, {}, ValueOrigin::field}, table);
  append_cascade_shape(shape, change.cascade);
  return shape;
}

std::string build_statement(const RowChange& change, const TargetCatalog& catalog,
                            const std::function<std::string(std::size_t)>& param) {
  return Builder(change, catalog, param).build();
}

bool canonical_integer_text(std::string_view t) {
  std::size_t start = !t.empty() && t[0] == '-' ? 1 : 0;
  std::size_t digits = t.size() - start;
  if (digits == 0 || digits > 19) return false;
  if (t[start] == '0' && (digits > 1 || start == 1)) return false;  // a leading zero, or "-0"
  for (std::size_t i = start; i < t.size(); ++i)
    if (t[i] < '0' || t[i] > '9') return false;
  return true;
}

bool canonical_integer(const Value& v) { return v.kind == Value::Kind::integer && canonical_integer_text(v.text); }

bool groupable(const RowChange& change, const TargetCatalog& catalog) {
  bool soft_delete = change.action == ChangeAction::soft_delete && change.cascade.empty();
  if (change.action != ChangeAction::insert && change.action != ChangeAction::update && !soft_delete) return false;
  const TargetTable& t = catalog.table(change.table);
  if (soft_delete && t.soft_delete.empty()) return false;  // the single statement says why it cannot apply
  if (!t.set_based) return false;
  for (const auto& k : change.key) {
    const TargetColumn* col = t.column(k.column);
    if (!col || !canonical_integer(k.value)) return false;
    if (col->type != "bigint" && col->type != "integer" && col->type != "smallint") return false;
  }
  for (const auto& s : change.set)
    for (const auto& k : change.key)
      if (s.column == k.column) return false;
  return true;
}

std::string group_row(const RowChange& change) {
  std::string out;
  for (const auto& k : change.key) {
    out += k.value.text;
    out += ',';
  }
  return out;
}

std::string build_group_statement(const RowChange& change, const TargetCatalog& catalog, std::size_t params) {
  std::function<std::string(std::size_t)> param = [](std::size_t i) { return "v.p" + std::to_string(i + 1); };
  return Builder(change, catalog, param).build_group(params);
}

std::string array_literal(const std::vector<const std::optional<std::string>*>& values) {
  std::string out = "{";
  for (std::size_t i = 0; i < values.size(); ++i) {
    if (i) out += ',';
    if (!*values[i]) {
      out += "NULL";
      continue;
    }
    out += '"';
    for (char ch : **values[i]) {
      if (ch == '"' || ch == '\\') out += '\\';
      out += ch;
    }
    out += '"';
  }
  return out + "}";
}

std::string sql_literal(const std::optional<std::string>& value) {
  if (!value) return "NULL";
  std::string out = "'";
  for (char ch : *value) {
    if (ch == '\'') out += '\'';
    out += ch;
  }
  return out + "'";
}

}  // namespace auditpitr::replay
