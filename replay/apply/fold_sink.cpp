// The fold follows row_statement.cpp's statements change by change, on rows held as text: the
// database's text for values read, the logged text (with its kind) for values written, "not set"
// for a new row's columns no change carried (their default). What it cannot know without the
// database, whether two values are equal in the column's type and the text PostgreSQL prints for a
// logged value, it asks in a few set-based queries at the end, inside a savepoint.
#include "replay/apply/fold_sink.h"

#include <algorithm>
#include <functional>
#include <future>
#include <map>
#include <memory>
#include <regex>
#include <set>
#include <tuple>
#include <unordered_map>
#include <unordered_set>
#include <utility>

#include "replay/apply/row_statement.h"
#include "replay/log/time_parse.h"
#include "src/error.h"
#include "src/pg/connection.h"
#include "src/util/exit_memory.h"
#include "src/util/row_map.h"

namespace auditpitr::replay {
namespace {

using pg::quote_ident;

constexpr std::size_t kChunk = 20000;  // values per query: parameters stay a few MB

/// Thrown inside the fold: the batch goes to PgSink, for this reason; or, when the database would
/// refuse a change (`refusal`), to neither: apply_all answers false, naming the change if known.
struct Decline {
  explicit Decline(std::string why, bool refused = false, std::optional<std::size_t> at = std::nullopt)
      : reason(std::move(why)), refusal(refused), change(at) {}
  std::string reason;
  bool refusal;
  std::optional<std::size_t> change;
};

enum class Source : uint8_t { unset, database, logged };

struct Cell {
  Source source = Source::unset;
  Value value;  ///< database: kind string (null for NULL) and the database's text
};

struct Row {
  uint32_t table = 0;
  bool exists = false;  ///< now, in the fold
  bool in_db = false;   ///< before the batch
  bool held = false;    ///< left for the next part's fold to write (same transaction)
  std::string key;
  std::vector<Cell> cells;
  std::vector<bool> written;
};

struct FoldTable {
  const TargetTable* target = nullptr;
  std::string name;
  std::size_t key_column = 0;
  RowMap<uint32_t> rows;
  std::vector<std::pair<std::size_t, uint32_t>> references;  ///< column, parent table
  /// Cascades' candidates: foreign key column -> parent key -> the rows holding that key before
  /// the batch or set to it by the batch (a candidate is a child only while it holds it).
  std::map<std::size_t, std::unordered_map<std::string, std::vector<uint32_t>>> children;
  int depth = -1;  ///< parents first when writing
  /// The columns the fold reads from the database: the key, the ones checks compare, the
  /// soft-delete columns and the foreign keys cascades follow (admit() marks them).
  std::vector<bool> read;
  std::vector<bool> read_with;  ///< `read` when rows were last read (none: empty)

  // A few columns: a scan beats hashing the name.
  std::size_t column(const std::string& name_) const {
    const auto& all = target->columns;
    for (std::size_t i = 0; i < all.size(); ++i)
      if (all[i].name.size() == name_.size() && all[i].name == name_) return i;
    throw Decline{"table '" + name + "' has no column '" + name_ + "'"};
  }
  const TargetColumn& target_column(std::size_t i) const { return target->columns[i]; }
};

struct PendingCheck {
  std::size_t outcome = 0, check = 0;
  const TargetColumn* column = nullptr;
  Cell old;
  Value expected;
};

struct Validation {
  const TargetColumn* column = nullptr;
  Value::Kind kind = Value::Kind::string;
  std::unordered_map<std::string, std::size_t> texts;  ///< each text, and the first change writing it
};

using DefaultCache = std::map<const TargetColumn*, std::optional<Value>>;

bool integer_type(const std::string& type) { return type == "bigint" || type == "integer" || type == "smallint"; }

/// Values that any column of this type takes as they are: nothing to ask the database.
bool always_valid(const TargetColumn& column, const ColumnValue& v) {
  if (v.value.is_null() || v.origin == ValueOrigin::event_time) return true;
  Conversion conversion = conversion_of(column, v.value.kind);
  if (conversion == Conversion::json_from_text) return true;
  return conversion == Conversion::plain && (column.type == "text" || column.type == "character varying");
}

/// Values [at, at + kChunk) of `values`, for one query's array.
template <typename T>
std::vector<std::optional<std::string>> chunk_at(const std::vector<T>& values, std::size_t at) {
  auto end = values.begin() + static_cast<std::ptrdiff_t>(std::min(values.size(), at + kChunk));
  return {values.begin() + static_cast<std::ptrdiff_t>(at), end};
}

std::string text_array(const std::vector<std::optional<std::string>>& values) {
  std::vector<const std::optional<std::string>*> pointers;
  pointers.reserve(values.size());
  for (const auto& v : values) pointers.push_back(&v);
  return array_literal(pointers);
}

/// A column default that is a constant (a number, a quoted literal with a cast, true, false,
/// NULL): its value. Anything else (now(), nextval()) is not evaluated: nullopt.
std::optional<Value> constant_default(PgSession& session, const TargetColumn& column) {
  static const std::regex literal(
      R"(\(?-?[0-9]+(\.[0-9]+)?\)?|true|false|('([^']|'')*'|NULL)(::[a-z][a-z0-9_ ]*(\([0-9, ]+\))?(\[\])?)?)");
  if (!std::regex_match(column.default_sql, literal)) return std::nullopt;
  session.exec("SAVEPOINT auditpitr_default", {}, "reading a column default");
  // The expression is the database's own (pg_get_expr), not text from a log.
  PgResult r = session.try_exec("SELECT (" + column.default_sql + ")::text");
  if (PQresultStatus(r.get()) != PGRES_TUPLES_OK) {
    session.exec("ROLLBACK TO SAVEPOINT auditpitr_default", {}, "reading a column default");
    return std::nullopt;
  }
  session.exec("RELEASE SAVEPOINT auditpitr_default", {}, "reading a column default");
  auto text = first_value(r.get());
  return text ? Value::of(Value::Kind::string, *text) : Value::null();
}

class Fold {
 public:
  /// `before`: the folds written on another session and not yet committed, which `session`
  /// therefore does not see, the latest first: each row is taken as the latest of them left it.
  Fold(PgSession& session, const TargetCatalog& catalog, DefaultCache& defaults, std::vector<const Fold*> before = {})
      : session_(session), catalog_(catalog), defaults_(defaults), before_(std::move(before)) {}

  /// Reads, ahead of run(), the rows the first changes of its batch name (their keys and the
  /// parents their foreign keys name) while the others are still mapped; Decline when the fold
  /// cannot follow them. Called again with more of them; run() is given all, these first.
  void read_ahead(const std::vector<const RowChange*>& first) {
    std::size_t from = admitted_;
    admit_from(first);
    read_named_rows(first, from);
  }

  /// The outcomes of `changes` (checks still to compare), or Decline.
  void run(const std::vector<const RowChange*>& changes, std::vector<ChangeOutcome>& outcomes) {
    std::size_t from = admitted_;  // the changes before were read ahead
    admit_from(changes);
    in_savepoint([&] { validate(); });
    read_rows(changes, from);
    outcomes.assign(changes.size(), ChangeOutcome{});
    for (at_ = 0; at_ < changes.size(); ++at_) fold(*changes[at_], outcomes[at_], at_);
  }

  /// Asks the database what the fold could not know: the checks' outcomes.
  void compare(std::vector<ChangeOutcome>& outcomes) {
    in_savepoint([&] { compare_checks(outcomes); });
  }

  /// Writes each changed row's net columns from COPY staging tables, parents' tables first, inside
  /// a savepoint; Decline (the savepoint undone) when the database refuses a row or a row is not
  /// where the fold expected it. The rows held for the next part (hold_for) are left out, or, with
  /// `held`, are the ones written.
  void write(PgSession& writes, uint64_t& stage_names, bool held = false) {
    std::map<std::tuple<int, uint32_t, bool, std::string>, std::vector<uint32_t>> groups;
    for (uint32_t r = 0; r < rows_.size(); ++r) {
      const Row& row = rows_[r];
      if (row.held != held) continue;
      std::string mask;
      bool any = false;
      for (std::size_t i = 0; i < row.cells.size(); ++i) {
        bool net = row.written[i] && i != tables_[row.table].key_column;
        any = any || row.written[i];
        mask += net ? static_cast<char>('0' + static_cast<int>(conversion_of(tables_[row.table].target_column(i),
                                                                             row.cells[i].value.kind)))
                    : '-';
      }
      if (any) groups[{tables_[row.table].depth, row.table, row.in_db, mask}].push_back(r);
    }
    writes.exec("SAVEPOINT auditpitr_fold_write", {}, "writing the batch");
    try {
      for (const auto& [id, rows] : groups) write_group(writes, std::get<1>(id), std::get<2>(id), rows, ++stage_names);
    } catch (const Decline&) {
      writes.exec("ROLLBACK TO SAVEPOINT auditpitr_fold_write", {}, "writing the batch");
      throw;
    } catch (const Error&) {
      if (PQstatus(writes.raw()) != CONNECTION_OK) throw;
      writes.exec("ROLLBACK TO SAVEPOINT auditpitr_fold_write", {}, "writing the batch");
      throw Decline{"the database refused a row's net change"};
    }
    writes.exec("RELEASE SAVEPOINT auditpitr_fold_write", {}, "writing the batch");
  }

  /// Holds back the rows the next part's changes name (its fold writes them, in the same
  /// transaction), but new rows a written row refers to. How many.
  std::size_t hold_for(const std::vector<const RowChange*>& next) {
    std::size_t held = 0;
    std::vector<std::pair<std::string, const FoldTable*>> by_name;  // a few tables: a scan beats hashing
    for (const RowChange* c : next) {
      auto known = std::find_if(by_name.begin(), by_name.end(), [&](const auto& n) { return n.first == c->table; });
      if (known == by_name.end()) {
        auto t = by_target_.find(&catalog_.table(c->table));
        known = by_name.emplace(by_name.end(), c->table, t == by_target_.end() ? nullptr : &tables_[t->second]);
      }
      const FoldTable* ft = known->second;
      if (!ft || c->key.size() != 1) continue;
      auto r = ft->rows.find(c->key[0].value.text);
      if (r == ft->rows.end()) continue;
      Row& row = rows_[r->second];
      if (!row.held && std::find(row.written.begin(), row.written.end(), true) != row.written.end()) {
        row.held = true;
        ++held;
      }
    }
    std::vector<uint32_t> work;
    for (uint32_t r = 0; r < rows_.size(); ++r)
      if (!rows_[r].held) work.push_back(r);
    while (!work.empty()) {
      const Row& row = rows_[work.back()];
      work.pop_back();
      for (const auto& [column, parent] : tables_[row.table].references) {
        if (!row.written[column] || row.cells[column].value.is_null()) continue;
        auto p = tables_[parent].rows.find(row.cells[column].value.text);
        if (p == tables_[parent].rows.end()) continue;
        Row& up = rows_[p->second];
        if (up.held && !up.in_db) {
          up.held = false;
          --held;
          work.push_back(p->second);
        }
      }
    }
    return held;
  }

  /// Done with the folds before (their rows were taken).
  void forget_before() { before_.clear(); }

  /// The row of `target` with `key` as this fold leaves it; nullptr when the fold has none.
  const Row* row_of(const TargetTable* target, const std::string& key) const {
    auto t = by_target_.find(target);
    if (t == by_target_.end()) return nullptr;
    const FoldTable& ft = tables_[t->second];
    auto r = ft.rows.find(key);
    return r == ft.rows.end() ? nullptr : &rows_[r->second];
  }

  /// The keys of the rows of `target` this fold leaves with column `column` set to one of `values`
  /// by a logged change (its own or one of a fold before it).
  std::vector<std::string> rows_set_to(const TargetTable* target, std::size_t column,
                                       const std::unordered_set<std::string>& values) const {
    std::vector<std::string> out;
    auto t = by_target_.find(target);
    if (t == by_target_.end()) return out;
    for (const auto& [key, index] : tables_[t->second].rows) {
      const Row& row = rows_[index];
      const Cell& cell = row.cells[column];
      if (row.exists && cell.source == Source::logged && !cell.value.is_null() && values.count(cell.value.text))
        out.push_back(key);
    }
    return out;
  }

 private:
  // --- what the fold can follow -------------------------------------------------------------

  uint32_t table_index(const std::string& name) { return table_index(catalog_.table(name)); }

  uint32_t table_index(const TargetTable& t) {
    auto it = by_target_.find(&t);
    if (it != by_target_.end()) return it->second;
    if (!t.set_based || !t.plain_references || t.has_checks)
      throw Decline{"table '" + t.name + "' has another unique key, a trigger, a rule or a CHECK constraint"};
    if (t.primary_key.size() != 1) throw Decline{"table '" + t.name + "' has no single-column primary key"};
    uint32_t index = static_cast<uint32_t>(tables_.size());
    by_target_[&t] = index;
    tables_.emplace_back();
    FoldTable& ft = tables_.back();
    ft.target = &t;
    ft.name = t.name;
    ft.key_column = ft.column(t.primary_key[0]);
    ft.read.assign(t.columns.size(), false);
    ft.read[ft.key_column] = true;
    if (!integer_type(t.columns[ft.key_column].type))
      throw Decline{"table '" + t.name + "' has a primary key that is not an integer"};
    for (const auto& [column, parent] : t.references) {
      std::size_t c = tables_[index].column(column);
      const TargetTable* parent_table = catalog_.find_qualified(parent);
      if (!parent_table) throw Decline{"a foreign key to table '" + parent + "', which replay does not know"};
      uint32_t p = table_index(*parent_table);
      tables_[index].references.emplace_back(c, p);
    }
    int depth = 0;
    for (const auto& ref : tables_[index].references) depth = std::max(depth, tables_[ref.second].depth + 1);
    tables_[index].depth = depth;
    return index;
  }

  /// The change's table, once the fold knows it can follow the change; its columns recorded.
  uint32_t admit(const RowChange& c) {
    if (c.action == ChangeAction::remove) throw Decline{"a real delete (" + c.operation + ")"};
    uint32_t t = table_index(c.table);
    const FoldTable& ft = tables_[t];
    if (c.key.size() != 1 || ft.column(c.key[0].column) != ft.key_column || !canonical_integer(c.key[0].value))
      throw Decline{"a change not keyed by its table's integer primary key (" + c.operation + ")"};
    columns_from_.push_back(static_cast<uint32_t>(columns_.size()));
    for (const auto& s : c.set) columns_.push_back(static_cast<uint16_t>(ft.column(s.column)));
    for (const auto& e : c.expect) columns_.push_back(static_cast<uint16_t>(ft.column(e.column)));
    std::size_t i = columns_from_.size() - 1;
    const uint16_t* set_columns = set_of(i, c).columns;
    for (std::size_t j = 0; j < c.set.size(); ++j) {
      std::size_t col = set_columns[j];
      const std::string& type = ft.target_column(col).type;
      if (col == ft.key_column) throw Decline{"a change that writes its key (" + c.operation + ")"};
      if (type.rfind("character(", 0) == 0 || type.rfind("bit", 0) == 0)
        throw Decline{"a column of type " + type + " (" + c.operation + ")"};
    }
    for (std::size_t k = 0; k < c.expect.size(); ++k) tables_[t].read[expect_columns(i, c)[k]] = true;
    if (c.action == ChangeAction::soft_delete) {
      if (ft.target->soft_delete.empty()) throw Decline{"a soft delete of a table without a soft-delete column"};
      tables_[t].read[ft.column(ft.target->soft_delete)] = true;
    }
    std::set<uint32_t> seen = {t};
    admit_cascades(c.cascade, seen);
    return t;
  }

  void admit_cascades(const std::vector<CascadeDelete>& nodes, std::set<uint32_t>& seen) {
    for (const auto& node : nodes) {
      if (node.soft_delete_column.empty()) throw Decline{"a cascade that really deletes"};
      uint32_t t = table_index(node.table);
      if (!seen.insert(t).second) throw Decline{"a cascade that reaches table '" + node.table + "' twice"};
      FoldTable& ft = tables_[t];
      ft.read[ft.column(node.foreign_key)] = ft.read[ft.column(node.soft_delete_column)] = true;
      for (const std::string* col : soft_delete_columns(node))
        if (ft.target_column(ft.column(*col)).type != "timestamp with time zone")
          throw Decline{"a cascade's deletion time in a column that is not timestamptz"};
      tables_[t].children[ft.column(node.foreign_key)];
      admit_cascades(node.children, seen);
    }
  }

  static std::vector<const std::string*> soft_delete_columns(const CascadeDelete& node) {
    std::vector<const std::string*> out = {&node.soft_delete_column};
    for (const auto& t : node.soft_delete_touches) out.push_back(&t);
    return out;
  }

  /// Change `i`'s set values and their columns (admit() found them; its expects' follow).
  struct Values {
    const std::vector<ColumnValue>& values;
    const uint16_t* columns;
  };
  Values set_of(std::size_t i, const RowChange& c) const { return {c.set, columns_.data() + columns_from_[i]}; }
  const uint16_t* expect_columns(std::size_t i, const RowChange& c) const {
    return set_of(i, c).columns + c.set.size();
  }

  // --- reading the rows ---------------------------------------------------------------------

  /// The changes from admitted_ on: their tables and columns, and every logged value noted for
  /// validate(), of changes that will not apply too (their statements still convert them), so
  /// that a refused one is found before the rows are read (but those read ahead).
  void admit_from(const std::vector<const RowChange*>& changes) {
    change_tables_.reserve(changes.size());
    for (std::size_t i = admitted_; i < changes.size(); ++i) change_tables_.push_back(admit(*changes[i]));
    for (at_ = admitted_; at_ < changes.size(); ++at_) {
      Values v = set_of(at_, *changes[at_]);
      for (std::size_t j = 0; j < v.values.size(); ++j)
        note_value(tables_[change_tables_[at_]], v.columns[j], v.values[j]);
    }
    admitted_ = changes.size();
  }

  /// The rows the changes name, the parents their foreign keys name, and the children their
  /// cascades can reach, as the database holds them now; those of the changes before `from` were
  /// read ahead.
  void read_rows(const std::vector<const RowChange*>& changes, std::size_t from) {
    read_named_rows(changes, from);
    if (!before_.empty())
      for (Row& row : rows_)
        if (!row.in_db) take_from_before(row);  // created by the batch before?
    read_cascade_children(changes);
  }

  /// The rows changes [from, end) name and the parents their foreign keys name, but those read
  /// before, which get the columns the fold reads now and did not then.
  void read_named_rows(const std::vector<const RowChange*>& changes, std::size_t from) {
    for (uint32_t t = 0; t < tables_.size(); ++t) read_columns_added(t);
    // Each key gets its row now, as not there; the rows the database holds are filled in by fetch().
    std::vector<std::vector<std::string>> wanted(tables_.size());
    auto want = [&](uint32_t t, const std::string& key) {
      if (!tables_[t].rows.count(key)) {
        add_row(t, key, false);
        wanted[t].push_back(key);
      }
    };
    for (std::size_t i = from; i < changes.size(); ++i) {
      const RowChange* c = changes[i];
      uint32_t t = change_tables_[i];
      want(t, c->key[0].value.text);
      Values v = set_of(i, *c);
      for (std::size_t j = 0; j < v.values.size(); ++j)
        for (const auto& [column, parent] : tables_[t].references)
          if (v.columns[j] == column && !v.values[j].value.is_null()) {
            const ColumnValue& s = v.values[j];
            if (!canonical_integer(s.value)) throw Decline{"a foreign key logged as " + s.value.text};
            want(parent, s.value.text);
          }
    }
    for (uint32_t t = 0; t < tables_.size(); ++t) fetch(t, tables_[t].key_column, wanted[t]);
  }

  /// Table `t`'s rows read before changes admitted since made the fold read more of its columns
  /// (rows read ahead): those columns, read for them now.
  void read_columns_added(uint32_t t) {
    FoldTable& ft = tables_[t];
    if (ft.read_with.empty() || ft.read_with == ft.read) return;
    std::vector<std::size_t> columns = {ft.key_column};
    for (std::size_t i = 0; i < ft.read.size(); ++i)
      if (ft.read[i] && !ft.read_with[i]) columns.push_back(i);
    ft.read_with = ft.read;
    std::vector<std::string> keys;
    for (const auto& [key, index] : ft.rows)
      if (rows_[index].in_db) keys.push_back(key);
    select_rows(ft, columns, ft.key_column, keys, [&](const PGresult* r, int row) {
      fill_cells(rows_[ft.rows.at(PQgetvalue(r, row, 0))], columns, r, row);
    });
  }

  /// Hands `on_row` each row of table `ft` whose `by` column holds one of `values` (integers in
  /// canonical text), its `columns` as text, kChunk values a query.
  template <typename OnRow>
  void select_rows(const FoldTable& ft, const std::vector<std::size_t>& columns, std::size_t by,
                   const std::vector<std::string>& values, const OnRow& on_row) {
    std::string sql = "SELECT ";
    for (std::size_t i = 0; i < columns.size(); ++i)
      sql += (i ? ", " : "") + quote_ident(ft.target->columns[columns[i]].name) + "::text";
    sql +=
        " FROM " + ft.target->quoted() + " WHERE " + quote_ident(ft.target->columns[by].name) + " = ANY($1::bigint[])";
    for (std::size_t at = 0; at < values.size(); at += kChunk) {
      PgResult r = session_.exec(sql, {text_array(chunk_at(values, at))}, "reading the rows the batch changes");
      for (int row = 0; row < PQntuples(r.get()); ++row) on_row(r.get(), row);
    }
  }

  /// Result row `row`'s fields into `x`'s cells of `columns`, as the database holds them.
  static void fill_cells(Row& x, const std::vector<std::size_t>& columns, const PGresult* r, int row) {
    for (std::size_t f = 0; f < columns.size(); ++f) {
      Cell& cell = x.cells[columns[f]];
      cell.source = Source::database;
      if (!PQgetisnull(r, row, static_cast<int>(f)))
        cell.value = Value::of(Value::Kind::string, PQgetvalue(r, row, static_cast<int>(f)));
    }
  }

  /// Rows of table `t` whose `column` holds one of `values` (integers in canonical text): read
  /// (those not read before), and their keys returned.
  std::vector<std::string> fetch(uint32_t t, std::size_t column, const std::vector<std::string>& values) {
    std::vector<std::string> keys;
    const FoldTable& ft = tables_[t];
    std::vector<std::size_t> columns = {ft.key_column};  // the key first, then what the fold reads
    for (std::size_t i = 0; i < ft.read.size(); ++i)
      if (ft.read[i] && i != ft.key_column) columns.push_back(i);
    tables_[t].read_with = ft.read;
    select_rows(ft, columns, column, values,
                [&](const PGresult* r, int row) { keys.push_back(load_row(t, columns, r, row)); });
    return keys;
  }

  /// A row read: `columns` are the result's fields; the others stay unset (never read by the fold).
  std::string load_row(uint32_t t, const std::vector<std::size_t>& columns, const PGresult* r, int row) {
    FoldTable& ft = tables_[t];
    std::string key = PQgetvalue(r, row, 0);
    auto known_row = ft.rows.find(key);
    Row* loaded = nullptr;
    if (known_row == ft.rows.end()) {
      loaded = &add_row(t, key, true);
    } else {
      loaded = &rows_[known_row->second];
      if (loaded->in_db || loaded->exists) return key;  // read before: the fold's is newer
      loaded->in_db = loaded->exists = true;            // added as not there by read_rows(): it is
    }
    fill_cells(*loaded, columns, r, row);
    take_from_before(*loaded);
    return key;
  }

  /// A row as the latest fold before holding it left it, over what the database holds without
  /// them: the values logged changes set (its own, and those it took from the folds before it); a
  /// row they created (not in the database) whole. A row held for this fold is written by it.
  void take_from_before(Row& row) {
    const Row* left = nullptr;
    for (const Fold* f : before_)
      if ((left = f->row_of(tables_[row.table].target, row.key))) break;
    if (!left || !left->exists) return;
    if (!row.in_db) {
      row.cells = left->cells;
      row.in_db = row.exists = true;
      if (left->held) {
        row.in_db = left->in_db;
        row.written = left->written;
      }
      return;
    }
    for (std::size_t i = 0; i < row.cells.size(); ++i) {
      if (left->cells[i].source == Source::logged) row.cells[i] = left->cells[i];  // by it, or a fold before it
      if (left->held && left->written[i]) row.written[i] = true;
    }
  }

  Row& add_row(uint32_t t, const std::string& key, bool in_db) {
    uint32_t index = static_cast<uint32_t>(rows_.size());
    tables_[t].rows.emplace(key, index);
    rows_.emplace_back();
    Row& x = rows_.back();
    x.table = t;
    x.key = key;
    x.exists = x.in_db = in_db;
    x.cells.resize(tables_[t].target->columns.size());
    x.written.assign(x.cells.size(), false);
    return x;
  }

  /// Level by level: the children of the rows a cascade starts from, then the children of those
  /// (and of every row of their table the batch touches), until nothing new is asked.
  void read_cascade_children(const std::vector<const RowChange*>& changes) {
    struct Edge {
      std::set<std::pair<uint32_t, std::size_t>> below;  ///< edges from this edge's child table
      std::unordered_set<std::string> asked;
      std::vector<std::string> to_ask;
    };
    std::map<std::pair<uint32_t, std::size_t>, Edge> edges;
    // Per edge, the rows whose foreign key the batch sets to a value: value -> their keys.
    std::map<std::pair<uint32_t, std::size_t>, std::unordered_map<std::string, std::vector<std::string>>> logged;
    std::function<std::pair<uint32_t, std::size_t>(const CascadeDelete&)> add_edge = [&](const CascadeDelete& node) {
      uint32_t child = by_target_.at(&catalog_.table(node.table));
      std::pair<uint32_t, std::size_t> id{child, tables_[child].column(node.foreign_key)};
      Edge& e = edges[id];
      for (const auto& below : node.children) e.below.insert(add_edge(below));
      return id;
    };
    auto ask = [&](Edge& e, const std::string& key) {
      if (e.asked.insert(key).second) e.to_ask.push_back(key);
    };
    for (const RowChange* c : changes)
      for (const auto& node : c->cascade) ask(edges[add_edge(node)], c->key[0].value.text);
    for (std::size_t i = 0; i < changes.size(); ++i) {
      const RowChange* c = changes[i];
      uint32_t t = change_tables_[i];
      Values v = set_of(i, *c);
      for (std::size_t j = 0; j < v.values.size(); ++j) {
        const ColumnValue& s = v.values[j];
        auto edge = edges.find({t, static_cast<std::size_t>(v.columns[j])});
        if (edge == edges.end() || s.value.is_null()) continue;
        // The cascade compares keys in their type; the fold compares their text.
        if (!canonical_integer(s.value)) throw Decline{"a cascade's foreign key logged as " + s.value.text};
        logged[edge->first][s.value.text].push_back(c->key[0].value.text);
      }
    }
    for (bool more = true; more;) {
      more = false;
      for (auto& [id, edge] : edges) {
        if (edge.to_ask.empty()) continue;
        more = true;
        std::vector<std::string> keys;
        keys.swap(edge.to_ask);
        // The children: rows holding one of the keys now, or set to hold one by the batch.
        std::vector<std::string> children = fetch(id.first, id.second, keys);
        if (!before_.empty()) add_children_set_before(id.first, id.second, keys, children);
        FoldTable& ft = tables_[id.first];
        auto& by_parent = ft.children[id.second];
        for (const auto& key : children) {
          uint32_t r = ft.rows.at(key);
          by_parent[rows_[r].cells[id.second].value.text].push_back(r);
        }
        const auto& by_value = logged[id];
        for (const auto& k : keys) {
          auto it = by_value.find(k);
          if (it == by_value.end()) continue;
          for (const auto& key : it->second) by_parent[k].push_back(ft.rows.at(key));
          children.insert(children.end(), it->second.begin(), it->second.end());
        }
        for (const auto& below : edge.below)
          for (const auto& key : children) ask(edges[below], key);
      }
    }
  }

  /// The rows of table `t` the folds before set foreign key `column` to one of `keys` (as the
  /// latest of them holding each row left it): read (the ones not created by them) and added to
  /// `children`, once.
  void add_children_set_before(uint32_t t, std::size_t column, const std::vector<std::string>& keys,
                               std::vector<std::string>& children) {
    std::unordered_set<std::string> values(keys.begin(), keys.end()), listed(children.begin(), children.end());
    std::vector<std::string> to_read;
    const TargetTable* target = tables_[t].target;
    for (std::size_t f = 0; f < before_.size(); ++f)
      for (const auto& key : before_[f]->rows_set_to(target, column, values)) {
        bool later_holds = false;  // a later fold has the row: its values decide
        for (std::size_t later = 0; later < f && !later_holds; ++later)
          later_holds = before_[later]->row_of(target, key) != nullptr;
        if (later_holds) continue;
        if (!tables_[t].rows.count(key)) {
          if (created_before(target, key)) take_from_before(add_row(t, key, false));
          else to_read.push_back(key);
        }
        if (listed.insert(key).second) children.push_back(key);
      }
    fetch(t, tables_[t].key_column, to_read);
  }

  /// Whether the folds before created the row: this session does not see it.
  bool created_before(const TargetTable* target, const std::string& key) const {
    for (auto f = before_.rbegin(); f != before_.rend(); ++f)  // the earliest holding it knows
      if (const Row* row = (*f)->row_of(target, key)) return !row->in_db;
    return false;
  }

  // --- folding --------------------------------------------------------------------------------

  void fold(const RowChange& c, ChangeOutcome& out, std::size_t index) {
    Row& row = rows_[tables_[change_tables_[index]].rows.at(c.key[0].value.text)];
    switch (c.action) {
      case ChangeAction::insert: insert(c, row, out, index); break;
      case ChangeAction::update:
        if (!row.exists) return missing(out);
        add_checks(c, row, out, index);
        check_all(set_of(index, c), tables_[row.table]);
        set_all(set_of(index, c), row, false);
        out.kind = ChangeOutcomeKind::updated;
        break;
      case ChangeAction::soft_delete: soft_delete(c, row, out, index); break;
      case ChangeAction::remove: break;  // admit() declined it
    }
  }

  static void missing(ChangeOutcome& out) { out.kind = ChangeOutcomeKind::missing_row; }

  void insert(const RowChange& c, Row& row, ChangeOutcome& out, std::size_t index) {
    const FoldTable& ft = tables_[row.table];
    Values v = set_of(index, c);
    std::vector<char>& carried = carried_;
    carried.assign(ft.target->columns.size(), false);
    carried[ft.key_column] = true;
    for (std::size_t j = 0; j < v.values.size(); ++j) carried[v.columns[j]] = true;
    for (std::size_t i = 0; i < carried.size(); ++i) {
      const TargetColumn& col = ft.target_column(i);
      if (carried[i]) continue;
      if (col.not_null && !col.has_default) refuse("an insert without NOT NULL column '" + col.name + "'");
      if (col.has_default && is_reference(ft, i)) throw Decline{"a foreign key column with a default"};
    }
    check_all(v, ft);  // the row an insert proposes is checked even when its key exists
    if (!row.exists) {
      row.exists = true;
      for (std::size_t i = 0; i < row.cells.size(); ++i) row.cells[i] = default_cell(ft.target_column(i));
      row.cells[ft.key_column] = Cell{Source::logged, c.key[0].value};
      row.written[ft.key_column] = true;
      set_all(v, row, false);
      out.kind = ChangeOutcomeKind::inserted;
      out.checks.assign(c.expect.size(), CheckResult{});
      return;
    }
    out.kind = ChangeOutcomeKind::insert_existing;
    bool updates = false;
    for (const auto& s : c.set) updates = updates || !is_creation_stamp(s);
    if (!updates) return;  // ON CONFLICT DO NOTHING: no row comes back, no checks
    set_all(v, row, true);
    out.checks.assign(c.expect.size(), CheckResult{});
  }

  void soft_delete(const RowChange& c, Row& row, ChangeOutcome& out, std::size_t index) {
    if (!row.exists) return missing(out);
    const FoldTable& ft = tables_[row.table];
    add_checks(c, row, out, index);
    if (!alive(row, ft.column(ft.target->soft_delete))) {
      out.kind = ChangeOutcomeKind::already_deleted;
      return;
    }
    check_all(set_of(index, c), ft);
    set_all(set_of(index, c), row, false);
    out.kind = ChangeOutcomeKind::soft_deleted;
    Cell time{Source::logged, Value::of(Value::Kind::timestamp, format_time(c.time))};
    out.cascaded = cascade(c.cascade, {&row - rows_.data()}, time);
  }

  /// Children alive whose foreign key holds one of `parents`' keys, soft-deleted at `time`,
  /// then theirs (row_statement.cpp's cascade CTEs): how many.
  uint64_t cascade(const std::vector<CascadeDelete>& nodes, const std::vector<std::ptrdiff_t>& parents,
                   const Cell& time) {
    uint64_t count = 0;
    for (const auto& node : nodes) {
      uint32_t t = by_target_.at(&catalog_.table(node.table));
      std::size_t fk = tables_[t].column(node.foreign_key), soft = tables_[t].column(node.soft_delete_column);
      std::vector<std::size_t> deletion_columns;
      for (const std::string* col : soft_delete_columns(node)) deletion_columns.push_back(tables_[t].column(*col));
      std::vector<std::ptrdiff_t> hit;
      for (std::ptrdiff_t p : parents) {
        const std::string& key = rows_[static_cast<std::size_t>(p)].key;
        auto& candidates = tables_[t].children[fk][key];
        for (uint32_t r : candidates) {
          Row& child = rows_[r];
          const Cell& holds = child.cells[fk];
          if (!child.exists || holds.value.is_null() || holds.value.text != key || !alive(child, soft)) continue;
          for (std::size_t col : deletion_columns) set_cell(child, col, time);
          hit.push_back(r);
        }
      }
      count += hit.size() + cascade(node.children, hit, time);
    }
    return count;
  }

  /// A new row's column no change carried: NULL, its constant default, or unknown (unset).
  Cell default_cell(const TargetColumn& column) {
    if (!column.has_default) return Cell{Source::database, Value::null()};
    auto it = defaults_.find(&column);
    if (it == defaults_.end()) it = defaults_.emplace(&column, constant_default(session_, column)).first;
    return it->second ? Cell{Source::database, *it->second} : Cell{};
  }

  bool alive(const Row& row, std::size_t soft) const { return known(row, soft).value.is_null(); }

  /// The cell's value, when the fold knows it (a column read, or a new row's constant default).
  const Cell& known(const Row& row, std::size_t column) const {
    const Cell& cell = row.cells[column];
    if (cell.source == Source::unset)  // only a new row's default: admit() marks every column read
      throw Decline{"a check or soft delete of column '" + tables_[row.table].target_column(column).name +
                    "', which holds a default that is not a constant"};
    return cell;
  }

  void add_checks(const RowChange& c, const Row& row, ChangeOutcome& out, std::size_t index) {
    const FoldTable& ft = tables_[row.table];
    out.checks.assign(c.expect.size(), CheckResult{});
    const uint16_t* columns = expect_columns(index, c);
    for (std::size_t k = 0; k < c.expect.size(); ++k) {
      std::size_t col = columns[k];
      const Cell& old = known(row, col);
      if (!same_text(ft.target_column(col), old, c.expect[k].expected))
        checks_.push_back({index, k, &ft.target_column(col), old, c.expect[k].expected});
    }
  }

  /// Whether a check holds by its text alone: both NULL, or the same text converted the same plain
  /// way (one input, one value; the database's own text is taken plainly). Otherwise the database
  /// compares them in the column's type (compare_checks).
  static bool same_text(const TargetColumn& column, const Cell& old, const Value& expected) {
    if (old.value.is_null() || expected.is_null()) return old.value.is_null() && expected.is_null();
    bool old_plain = old.source == Source::database || conversion_of(column, old.value.kind) == Conversion::plain;
    return old_plain && conversion_of(column, expected.kind) == Conversion::plain && old.value.text == expected.text;
  }

  /// Values checked by check_all() first.
  void set_all(Values v, Row& row, bool keep_creation_stamp) {
    for (std::size_t j = 0; j < v.values.size(); ++j)
      if (!keep_creation_stamp || !is_creation_stamp(v.values[j]))
        set_cell(row, v.columns[j], Cell{Source::logged, v.values[j].value});
  }

  void check_all(Values v, const FoldTable& ft) {
    for (std::size_t j = 0; j < v.values.size(); ++j) check_value(ft, v.columns[j], v.values[j]);
  }

  void set_cell(Row& row, std::size_t column, const Cell& cell) {
    row.cells[column] = cell;
    row.written[column] = true;
  }

  bool is_reference(const FoldTable& ft, std::size_t column) const {
    for (const auto& ref : ft.references)
      if (ref.first == column) return true;
    return false;
  }

  /// The change being folded would be refused: Decline.
  [[noreturn]] void refuse(const std::string& reason) const { throw Decline{reason, true, at_}; }

  /// What the database would refuse when `v` is written into `column` now: Decline.
  void check_value(const FoldTable& ft, std::size_t column, const ColumnValue& v) {
    const TargetColumn& col = ft.target_column(column);
    if (v.value.is_null() && col.not_null) refuse("a NULL in NOT NULL column '" + col.name + "'");
    for (const auto& [ref, parent] : ft.references) {
      if (ref != column || v.value.is_null()) continue;
      auto it = tables_[parent].rows.find(v.value.text);
      if (it == tables_[parent].rows.end() || !rows_[it->second].exists)
        refuse("a foreign key to a row that is not there (" + col.name + " = " + v.value.text + ")");
    }
  }

  /// A logged value for validate(), with the change (at_) that first writes it.
  void note_value(const FoldTable& ft, std::size_t column, const ColumnValue& v) {
    const TargetColumn& col = ft.target_column(column);
    if (always_valid(col, v)) return;
    Validation& val = validations_[{&col, static_cast<int>(conversion_of(col, v.value.kind))}];
    val.column = &col;
    val.kind = v.value.kind;
    val.texts.try_emplace(v.value.text, at_);
  }

  // --- asking the database ------------------------------------------------------------------

  /// Runs `ask` (queries that write nothing) in a savepoint, undone when it declines.
  template <typename F>
  void in_savepoint(const F& ask) {
    session_.exec("SAVEPOINT auditpitr_fold", {}, "folding the batch");
    try {
      ask();
    } catch (const Decline&) {
      session_.exec("ROLLBACK TO SAVEPOINT auditpitr_fold", {}, "folding the batch");
      session_.exec("RELEASE SAVEPOINT auditpitr_fold", {}, "folding the batch");
      throw;
    }
    session_.exec("RELEASE SAVEPOINT auditpitr_fold", {}, "folding the batch");
  }

  /// Every logged value the batch writes, converted to its column's type as the statements do; a
  /// varchar(n) value must fit (a cast would cut it, an assignment refuses it).
  void validate() {
    for (const auto& [id, val] : validations_) {
      std::string typed = typed_value_sql(*val.column, val.kind, "v.p");
      std::string sql = "SELECT count(" + typed + ")";
      bool bounded = val.column->type.rfind("character varying(", 0) == 0;
      if (bounded) {
        TargetColumn base = *val.column;
        base.type = base_type_of(base.type);
        sql = "SELECT count(*) FILTER (WHERE (" + typed + ")::text IS DISTINCT FROM (" +
              typed_value_sql(base, val.kind, "v.p") + ")::text)";
      }
      sql += " FROM unnest($1::text[]) AS v(p)";
      std::vector<std::string> all;
      all.reserve(val.texts.size());
      for (const auto& text : val.texts) all.push_back(text.first);
      for (std::size_t at = 0; at < all.size(); at += kChunk) {
        std::vector<std::optional<std::string>> chunk = chunk_at(all, at);
        if (!refuses(sql, bounded, chunk)) continue;
        session_.exec("ROLLBACK TO SAVEPOINT auditpitr_fold", {}, "folding the batch");
        throw Decline{bounded ? "a value longer than its column allows" : "a value its column's type refuses", true,
                      val.texts.at(*refused_text(sql, bounded, std::move(chunk)))};
      }
    }
  }

  /// Whether `sql` fails on `texts` or, `bounded`, counts one of them (a value cut to fit).
  bool refuses(const std::string& sql, bool bounded, const std::vector<std::optional<std::string>>& texts) {
    PgResult r = session_.try_exec(sql, {text_array(texts)});
    return PQresultStatus(r.get()) != PGRES_TUPLES_OK || (bounded && first_value(r.get()) != "0");
  }

  /// One of `texts`, which `sql` refuses together: found by halves, each half asked in a
  /// savepoint of its own (a refused one aborts it).
  std::optional<std::string> refused_text(const std::string& sql, bool bounded,
                                          std::vector<std::optional<std::string>> texts) {
    while (texts.size() > 1) {
      auto middle = texts.begin() + static_cast<std::ptrdiff_t>(texts.size() / 2);
      std::vector<std::optional<std::string>> first(texts.begin(), middle);
      session_.exec("SAVEPOINT auditpitr_probe", {}, "finding a refused value");
      bool in_first = refuses(sql, bounded, first);
      session_.exec(in_first ? "ROLLBACK TO SAVEPOINT auditpitr_probe" : "RELEASE SAVEPOINT auditpitr_probe", {},
                    "finding a refused value");
      if (in_first) texts = std::move(first);
      else texts.erase(texts.begin(), middle);
    }
    return texts.front();
  }

  /// The checks: the old value and the expected one compared in the column's type, and the old
  /// value's text as PostgreSQL prints it (row_statement.cpp's `checks`).
  void compare_checks(std::vector<ChangeOutcome>& outcomes) {
    std::map<std::string, std::vector<const PendingCheck*>> groups;
    for (const PendingCheck& c : checks_) groups[group_of(c)].push_back(&c);
    for (const auto& [id, group] : groups) {
      const PendingCheck& first = *group.front();
      std::string old = old_sql(first), expected = typed_value_sql(*first.column, first.expected.kind, "v.e");
      std::string sql = "SELECT (" + old + ") IS NOT DISTINCT FROM (" + expected + "), left((" + old +
                        ")::text, 200) FROM unnest($1::text[], $2::text[]) WITH ORDINALITY AS v(o, e, n) ORDER BY v.n";
      for (std::size_t at = 0; at < group.size(); at += kChunk) {
        std::size_t end = std::min(group.size(), at + kChunk);
        std::vector<std::optional<std::string>> olds, expecteds;
        for (std::size_t i = at; i < end; ++i) {
          olds.push_back(text_of(group[i]->old.value));
          expecteds.push_back(text_of(group[i]->expected));
        }
        PgResult r = session_.try_exec(sql, {text_array(olds), text_array(expecteds)});
        if (PQresultStatus(r.get()) != PGRES_TUPLES_OK)
          throw Decline{"an expected value its column's type refuses", true};
        for (std::size_t i = at; i < end; ++i) {
          int row = static_cast<int>(i - at);
          CheckResult& check = outcomes[group[i]->outcome].checks[group[i]->check];
          check.same = std::string(PQgetvalue(r.get(), row, 0)) == "t";
          if (!PQgetisnull(r.get(), row, 1)) check.found = std::string(PQgetvalue(r.get(), row, 1));
        }
      }
    }
  }

  static std::optional<std::string> text_of(const Value& v) {
    return v.is_null() ? std::nullopt : std::optional<std::string>(v.text);
  }

  static std::string old_sql(const PendingCheck& c) {
    if (c.old.source != Source::logged) return "(v.o)::" + c.column->type;
    return typed_value_sql(*c.column, c.old.value.kind, "v.o");
  }

  static std::string group_of(const PendingCheck& c) {
    Conversion old = c.old.source == Source::logged ? conversion_of(*c.column, c.old.value.kind) : Conversion::plain;
    return c.column->name + '\0' + c.column->type + '\0' + static_cast<char>('0' + static_cast<int>(old)) +
           static_cast<char>('0' + static_cast<int>(conversion_of(*c.column, c.expected.kind)));
  }

  /// Rows of one table, new (INSERT) or not (UPDATE), writing the same columns the same way.
  void write_group(PgSession& writes, uint32_t t, bool in_db, const std::vector<uint32_t>& rows,
                   uint64_t stage_number) {
    const FoldTable& ft = tables_[t];
    const Row& first = rows_[rows.front()];
    std::vector<std::size_t> columns;
    for (std::size_t i = 0; i < first.cells.size(); ++i)
      if (first.written[i] && i != ft.key_column) columns.push_back(i);
    std::vector<std::string> lines;
    lines.reserve(rows.size());
    for (uint32_t r : rows) {
      std::string line = rows_[r].key;
      for (std::size_t c : columns) {
        const Value& v = rows_[r].cells[c].value;
        line += '\t';
        line += v.is_null() ? std::string("\\N") : pg::copy_field(v.text.data(), v.text.size());
      }
      lines.push_back(std::move(line));
    }
    const TargetColumn& key = ft.target_column(ft.key_column);
    bool plain = true;
    for (std::size_t c : columns)
      plain = plain && conversion_of(ft.target_column(c), first.cells[c].value.kind) == Conversion::plain;
    if (!in_db && plain) {
      // New rows straight into the table: COPY converts each text with the column type's input
      // function and modifier, as the assignment of a text cast to the base type does.
      std::string names = quote_ident(key.name);
      for (std::size_t c : columns) names += ", " + quote_ident(ft.target_column(c).name);
      writes.copy_in("COPY " + ft.target->quoted() + " (" + names + ") FROM STDIN", lines, "writing the batch");
      return;
    }
    std::string stage = "pg_temp.auditpitr_fold_" + std::to_string(stage_number), staged = "k text";
    for (std::size_t i = 0; i < columns.size(); ++i) staged += ", c" + std::to_string(i) + " text";
    writes.exec("CREATE TEMP TABLE " + stage.substr(8) + " (" + staged + ") ON COMMIT DROP", {}, "writing the batch");
    writes.copy_in("COPY " + stage + " FROM STDIN", lines, "writing the batch");
    auto value = [&](std::size_t i, const std::string& text) {
      TargetColumn base = ft.target_column(columns[i]);
      base.type = base_type_of(base.type);
      return typed_value_sql(base, first.cells[columns[i]].value.kind, text);
    };
    std::string sql;
    if (in_db) {
      sql = "UPDATE " + ft.target->quoted() + " AS t SET ";
      for (std::size_t i = 0; i < columns.size(); ++i)
        sql += (i ? ", " : "") + quote_ident(ft.target_column(columns[i]).name) + " = " +
               value(i, "s.c" + std::to_string(i));
      sql += " FROM " + stage + " AS s WHERE t." + quote_ident(key.name) + " = (s.k)::" + key.type;
    } else {
      std::string names = quote_ident(key.name), values = "(s.k)::" + key.type;
      for (std::size_t i = 0; i < columns.size(); ++i) {
        names += ", " + quote_ident(ft.target_column(columns[i]).name);
        values += ", " + value(i, "s.c" + std::to_string(i));
      }
      sql = "INSERT INTO " + ft.target->quoted() + " (" + names + ") SELECT " + values + " FROM " + stage + " AS s";
    }
    PgResult r = writes.exec(sql, {}, "writing the batch");
    if (std::string(PQcmdTuples(r.get())) != std::to_string(rows.size()))
      throw Decline{"rows changed by another session while the batch was folded"};
    writes.exec("DROP TABLE " + stage, {}, "writing the batch");
  }

  PgSession& session_;  ///< reads the rows and asks what only the server knows (write() is given its own)
  const TargetCatalog& catalog_;
  DefaultCache& defaults_;
  std::vector<const Fold*> before_;  ///< written but not committed, the latest first: rows as they left them
  std::vector<FoldTable> tables_;
  std::map<const TargetTable*, uint32_t> by_target_;
  std::vector<Row> rows_;
  std::vector<PendingCheck> checks_;
  std::map<std::pair<const TargetColumn*, int>, Validation> validations_;  ///< by column and conversion
  std::vector<uint32_t> change_tables_;                                    ///< each change's table
  std::vector<uint16_t> columns_;       ///< each change's set values' columns then its expects', in turn
  std::vector<uint32_t> columns_from_;  ///< where each change's are in columns_
  std::vector<char> carried_;           ///< insert()'s, kept for its capacity
  std::size_t at_ = 0;                  ///< the change being folded
  std::size_t admitted_ = 0;            ///< changes admitted (admit_from)
};

bool starts_with(const std::vector<const RowChange*>& changes, const std::vector<const RowChange*>& first) {
  return first.size() <= changes.size() && std::equal(first.begin(), first.end(), changes.begin());
}

}  // namespace

/// A batch folded: its changes, and its fold (checks compared) with the outcomes, or why it
/// declined.
struct FoldSink::Folded {
  std::vector<const RowChange*> changes;
  std::unique_ptr<Fold> fold;
  std::vector<ChangeOutcome> outcomes;
  std::optional<Decline> declined;
  bool holds = false;  ///< rows held for the next part's fold to write are not written yet
};

FoldSink::FoldSink(PgSession& session, const TargetCatalog& catalog, PgSink& statements, PgSession* ahead_session)
    : session_(session), catalog_(catalog), statements_(statements), ahead_session_(ahead_session) {}

// The last batch's folds are left to the process's exit: freeing them took a tenth of a second,
// the run's last.
FoldSink::~FoldSink() { leave_to_exit(std::make_shared<std::vector<std::unique_ptr<Folded>>>(std::move(finished_))); }

void FoldSink::begin_batch() {
  batch_folded_ = batch_declined_ = false;
  if (!finished_.empty()) spent_.release(finished_);  // the batch before's folds, freed meanwhile
  statements_.begin_batch();
}

bool FoldSink::apply_all(const std::vector<const RowChange*>& changes, std::vector<ChangeOutcome>& outcomes,
                         std::optional<std::size_t>& refused_change) {
  std::unique_ptr<Folded> batch = std::move(ahead_);  // folded for these changes, or of no use now
  std::unique_ptr<Folded> early = std::move(early_);  // read ahead for the first of them, or of no use
  bool ahead_fits = batch && batch->changes == changes;
  if (!ahead_fits || batch->declined) write_held();  // else that fold writes them
  if (changes.size() < 2) {
    uncovered_ = true;
    return statements_.apply_all(changes, outcomes, refused_change);
  }
  bool announced = false;  // the outcomes were told to outcomes_known_
  try {
    if (ahead_fits) {
      ++folded_ahead_;
    } else {
      bool early_fits = early && !early->declined && starts_with(changes, early->changes);
      if (early_fits) ++read_ahead_used_;
      batch = early_fits ? std::move(early) : new_fold();
      batch->changes = changes;
      batch->fold->run(changes, batch->outcomes);
      batch->fold->compare(batch->outcomes);
    }
    if (batch->declined) throw *batch->declined;
    write_looking_ahead(*batch, announced);
  } catch (const Decline& d) {
    if (announced && outcomes_known_) outcomes_known_(nullptr);
    write_held();  // the writes that were to make them were undone
    spent_.release(batch);
    if (first_reason_.empty()) first_reason_ = d.reason;
    batch_declined_ = true;
    if (!d.refusal) {
      uncovered_ = true;
      return statements_.apply_all(changes, outcomes, refused_change);
    }
    refused_change = d.change;
    return false;
  }
  outcomes = std::move(batch->outcomes);
  if (!written_.empty()) written_.back()->holds = false;  // this fold wrote them
  written_.push_back(std::move(batch));
  batch_folded_ = true;
  return true;
}

void FoldSink::read_ahead(const std::vector<const RowChange*>& first) {
  // Outside a transaction only (not in a dry run's): a read that fails there undoes nothing.
  if (first.size() < 2 || PQtransactionStatus(session_.raw()) != PQTRANS_IDLE) return;
  if (early_ && !starts_with(first, early_->changes)) early_.reset();
  if (early_ && early_->declined) return;
  if (!early_) early_ = new_fold();
  try {
    early_->fold->read_ahead(first);
    early_->changes = first;
  } catch (const Decline& d) {
    early_->declined = d;  // apply_all folds them from the start, and meets it in its turn
  } catch (const Error&) {
    early_.reset();  // the same, if the session is still fine
  }
}

std::unique_ptr<FoldSink::Folded> FoldSink::new_fold() {
  auto batch = std::make_unique<Folded>();
  batch->fold = std::make_unique<Fold>(session_, catalog_, defaults_);
  return batch;
}

std::vector<ChangeOutcome> FoldSink::apply_event(const std::vector<const RowChange*>& changes) {
  write_held();
  ahead_.reset();  // folded without these writes
  early_.reset();
  uncovered_ = true;
  return statements_.apply_event(changes);
}

void FoldSink::write_held() {
  if (written_.empty() || !written_.back()->holds) return;
  written_.back()->holds = false;
  try {
    written_.back()->fold->write(session_, stage_names_, true);
  } catch (const Decline& d) {
    // Only a row changed by another session since the part was folded gets here (its values
    // were checked): the batch is rolled back and applied again, each part written whole.
    hold_rows_ = false;
    Error e = runtime_error(
        "rows a batch's earlier part left to the next part's writes could not be written (" + d.reason + ")",
        "the batch is applied again");
    e.set_db_failure("40001", DbFailure::retryable);
    throw e;
  }
}

void FoldSink::commit_batch(const ReplayPosition& position, uint64_t events_applied) {
  write_held();
  statements_.commit_batch(position, events_applied);
  if (batch_declined_) ++declined_;
  else if (batch_folded_) ++folded_;
  end_batch();
}

void FoldSink::rollback_batch() {
  statements_.rollback_batch();
  ahead_.reset();  // folded over writes that are undone
  early_.reset();
  end_batch();
}

void FoldSink::end_batch() {
  if (!finished_.empty()) spent_.release(finished_);
  finished_ = std::move(written_);
  written_.clear();
  uncovered_ = false;
}

// The server writes this part on one core while the next is folded on the other, on a session of
// its own that sees none of the open batch's writes: that fold takes the rows they touched from
// their folds. It is folded only when folds made all of those writes. When the next part is in
// the same batch, the rows it changes are left to its writes (held). Then the caller tallies this
// part's outcomes, still while it is written.
void FoldSink::write_looking_ahead(Folded& batch, bool& announced) {
  bool looking_ahead = ahead_session_ && next_batch_ && !uncovered_;
  if (!looking_ahead && !outcomes_known_) return batch.fold->write(session_, stage_names_);
  NextChanges next = looking_ahead ? next_batch_() : NextChanges{};
  bool fold_next = next.changes && next.changes->size() >= 2;
  if (fold_next && next.same_batch && hold_rows_) batch.holds = batch.fold->hold_for(*next.changes) > 0;
  auto writing = std::async(std::launch::async, [&] { batch.fold->write(session_, stage_names_); });
  std::unique_ptr<Folded> ahead;
  if (fold_next) ahead = fold_ahead(*next.changes, batch);
  if (outcomes_known_) {
    announced = true;
    outcomes_known_(&batch.outcomes);
  }
  writing.get();  // when this part is declined or fails, the next one's fold goes with it
  ahead_ = std::move(ahead);
}

std::unique_ptr<FoldSink::Folded> FoldSink::fold_ahead(const std::vector<const RowChange*>& changes,
                                                       const Folded& being_written) {
  std::vector<const Fold*> before = {being_written.fold.get()};  // the latest first
  for (auto f = written_.rbegin(); f != written_.rend(); ++f) before.push_back((*f)->fold.get());
  auto ahead = std::make_unique<Folded>();
  ahead->changes = changes;
  try {
    ahead_session_->exec("BEGIN READ ONLY", {}, "folding the next batch");
    ahead->fold = std::make_unique<Fold>(*ahead_session_, catalog_, defaults_, std::move(before));
    try {
      ahead->fold->run(changes, ahead->outcomes);
      ahead->fold->compare(ahead->outcomes);
    } catch (const Decline& d) {
      ahead->declined = d;
    }
    ahead->fold->forget_before();
    ahead_session_->exec("ROLLBACK", {}, "folding the next batch");
  } catch (const Error&) {  // the next batch is folded in its turn instead
    if (PQstatus(ahead_session_->raw()) == CONNECTION_OK) PQclear(PQexec(ahead_session_->raw(), "ROLLBACK"));
    return nullptr;
  }
  return ahead;
}

}  // namespace auditpitr::replay
