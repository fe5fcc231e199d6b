// RecoveryCheck: capture the touched rows before the replay, fold the logged changes onto them
// after it, and compare with the recovered database (recovery_check.h explains the reasoning).
#include "verify/recovery_check.h"

#include <algorithm>
#include <map>
#include <set>
#include <unordered_map>
#include <unordered_set>

#include "replay/apply/applier.h"
#include "replay/apply/row_statement.h"
#include "src/error.h"
#include "src/pg/connection.h"
#include "src/util/interrupt.h"
#include "verify/manifest.h"

namespace auditpitr::verify {
namespace {

using replay::ChangeAction;
using replay::PgResult;
using replay::PgSession;
using replay::RowChange;
using replay::TargetTable;

constexpr std::size_t kEventsPerChunk = 2000;
constexpr std::size_t kKeysPerQuery = 5000;
const std::string kNull = "\\N";

std::string array_literal(const std::vector<std::string>& items) {
  std::string out = "{";
  for (std::size_t i = 0; i < items.size(); ++i) {
    out += i ? ",\"" : "\"";
    for (char c : items[i]) {
      if (c == '"' || c == '\\') out += '\\';
      out += c;
    }
    out += '"';
  }
  return out + "}";
}

std::string copy_unescape(const std::string& field) {
  std::string out;
  for (std::size_t i = 0; i < field.size(); ++i) {
    char c = field[i];
    if (c != '\\' || i + 1 == field.size()) {
      out += c;
      continue;
    }
    char n = field[++i];
    switch (n) {
      case 'b': out += '\b'; break;
      case 'f': out += '\f'; break;
      case 'n': out += '\n'; break;
      case 'r': out += '\r'; break;
      case 't': out += '\t'; break;
      case 'v': out += '\v'; break;
      default: out += n;
    }
  }
  return out;
}

std::vector<std::string> split_fields(const std::string& line) {
  std::vector<std::string> fields;
  std::size_t start = 0;
  for (std::size_t i = 0; i <= line.size(); ++i) {
    if (i == line.size() || line[i] == '\t') {
      fields.push_back(line.substr(start, i - start));
      start = i + 1;
    }
  }
  return fields;
}

std::string join_fields(const std::vector<std::string>& fields) {
  std::string out;
  for (std::size_t i = 0; i < fields.size(); ++i) out += (i ? "\t" : "") + fields[i];
  return out;
}

/// A table as the check sees it: its columns by name, key positions, and which of its columns
/// cascades look rows up by.
struct Table {
  const TargetTable* target = nullptr;
  TableShape shape;
  std::map<std::string, std::size_t> column_index;
  std::vector<std::size_t> key_positions;
  std::size_t soft_delete = SIZE_MAX;

  std::size_t column(const std::string& name) const {
    auto it = column_index.find(name);
    if (it == column_index.end())
      throw runtime_error("verifying the recovery: table " + shape.qualified() + " has no column '" + name + "'");
    return it->second;
  }
  std::string key_of(const std::vector<std::string>& fields) const {
    std::vector<std::string> key;
    for (std::size_t p : key_positions) key.push_back(fields[p]);
    return join_fields(key);
  }
};

class Tables {
 public:
  Tables(const std::vector<TargetTable>& targets, replay::Mapper& mapper) {
    for (const auto& t : targets) {
      Table table;
      table.target = &t;
      table.shape = {t.schema, t.name, {}, t.primary_key};
      for (const auto& c : t.columns) {
        table.column_index[c.name] = table.shape.columns.size();
        table.shape.columns.push_back(c.name);
      }
      for (const auto& k : t.primary_key) table.key_positions.push_back(table.column(k));
      std::string soft = mapper.soft_delete_column(t.name);
      if (!soft.empty() && table.column_index.count(soft)) table.soft_delete = table.column(soft);
      by_name_.emplace(t.name, tables_.size());
      tables_.push_back(std::move(table));
    }
  }
  std::size_t index(const std::string& name) const {
    auto it = by_name_.find(name);
    if (it == by_name_.end()) throw runtime_error("verifying the recovery: no table '" + name + "'");
    return it->second;
  }
  Table& operator[](std::size_t i) { return tables_[i]; }
  std::size_t size() const { return tables_.size(); }
  std::size_t find_qualified(const std::string& qualified) const {
    for (std::size_t i = 0; i < tables_.size(); ++i)
      if (tables_[i].shape.qualified() == qualified) return i;
    return SIZE_MAX;
  }

 private:
  std::vector<Table> tables_;
  std::map<std::string, std::size_t> by_name_;
};

/// Logged values in their columns' text form, as PostgreSQL renders them (COPY-escaped), asked for
/// a chunk of changes at a time: one query per column and conversion.
class Renderer {
 public:
  Renderer(PgSession& db, Tables& tables) : db_(db), tables_(tables) {}

  void request(std::size_t table, std::size_t column, const replay::Value& value) {
    if (value.is_null()) return;
    const auto& col = tables_[table].target->columns[column];
    pending_[{table, column, static_cast<int>(replay::conversion_of(col, value.kind)), value.kind}].insert(value.text);
  }
  /// Renders everything requested since the last call.
  void render() {
    for (auto& [group, texts] : pending_) render_group(group, texts);
    pending_.clear();
  }
  /// The rendered text; nullopt when PostgreSQL could not convert the value (its event was a conflict).
  std::optional<std::string> get(std::size_t table, std::size_t column, const replay::Value& value) const {
    if (value.is_null()) return kNull;
    const auto& col = tables_[table].target->columns[column];
    Group group{table, column, static_cast<int>(replay::conversion_of(col, value.kind)), value.kind};
    auto it = done_.find({group, value.text});
    if (it == done_.end()) return std::nullopt;
    return it->second;
  }
  void clear() { done_.clear(); }

 private:
  using Group = std::tuple<std::size_t, std::size_t, int, replay::Value::Kind>;

  void render_group(const Group& group, const std::set<std::string>& texts) {
    std::vector<std::string> items(texts.begin(), texts.end());
    for (std::size_t i = 0; i < items.size(); i += kKeysPerQuery) {
      std::vector<std::string> part(items.begin() + static_cast<long>(i),
                                    items.begin() + static_cast<long>(std::min(items.size(), i + kKeysPerQuery)));
      if (!render_batch(group, part))
        for (const auto& one : part) render_batch(group, {one});  // finds the values that do not convert
    }
  }

  bool render_batch(const Group& group, const std::vector<std::string>& items) {
    const Table& table = tables_[std::get<0>(group)];
    const auto& col = table.target->columns[std::get<1>(group)];
    std::string sql = "SELECT " + replay::typed_value_sql(col, std::get<3>(group), "u.x") +
                      " FROM unnest($1::text[]) WITH ORDINALITY AS u(x, n) ORDER BY n";
    PgResult r = db_.try_exec(sql, {array_literal(items)});
    if (PQresultStatus(r.get()) != PGRES_TUPLES_OK) return false;
    for (int row = 0; row < PQntuples(r.get()); ++row) {
      std::string text =
          PQgetisnull(r.get(), row, 0)
              ? kNull
              : copy_field(PQgetvalue(r.get(), row, 0), static_cast<std::size_t>(PQgetlength(r.get(), row, 0)));
      done_[{group, items[static_cast<std::size_t>(row)]}] = std::move(text);
    }
    return true;
  }

  PgSession& db_;
  Tables& tables_;
  std::map<Group, std::set<std::string>> pending_;
  std::map<std::pair<Group, std::string>, std::string> done_;
};

/// Reads (from, until] of the events, maps them, and hands their row changes over in chunks; the
/// events whose hash is in `skip` are left out.
template <typename Fn>
void for_each_chunk(replay::AuditEventSource& events, replay::Mapper& mapper, replay::TimePoint from,
                    const std::set<std::string>& skip, Fn fn) {
  std::vector<RowChange> chunk;
  std::size_t in_chunk = 0;
  replay::AuditEvent event;
  while (events.next(event)) {
    if (event.time <= from || (!skip.empty() && skip.count(replay::event_hash(event.json)))) continue;
    replay::MapResult mapped = mapper.map(event);
    if (mapped.outcome != replay::MapOutcome::mapped) continue;
    for (auto& c : mapped.changes) chunk.push_back(std::move(c));
    if (++in_chunk == kEventsPerChunk) {
      throw_if_interrupted();
      fn(chunk);
      chunk.clear();
      in_chunk = 0;
    }
  }
  if (!chunk.empty()) fn(chunk);
}

/// Rows of a table read by their keys: `SELECT every column WHERE key IN (...)`, as COPY lines.
std::vector<std::string> read_rows(PgSession& db, const Table& table, const std::string& where_column,
                                   const std::vector<std::string>& keys_of_column_or_key) {
  std::vector<std::string> lines;
  const TargetTable& t = *table.target;
  std::string columns;
  for (std::size_t i = 0; i < t.columns.size(); ++i) columns += (i ? ", " : "") + pg::quote_ident(t.columns[i].name);
  std::vector<std::string> match = where_column.empty() ? t.primary_key : std::vector<std::string>{where_column};
  std::string left, right, unnest_args, names;
  for (std::size_t i = 0; i < match.size(); ++i) {
    const auto& col = t.columns[table.column(match[i])];
    left += (i ? ", " : "") + pg::quote_ident(col.name);
    right += (i ? ", " : "") + std::string("(u.k") + std::to_string(i) + ")::" + col.type;
    unnest_args += (i ? ", " : "") + std::string("$") + std::to_string(i + 1) + "::text[]";
    names += (i ? ", " : "") + std::string("k") + std::to_string(i);
  }
  std::string sql = "SELECT " + columns + " FROM " + t.quoted() + " WHERE (" + left + ") IN (SELECT " + right +
                    " FROM unnest(" + unnest_args + ") AS u(" + names + "))";
  for (std::size_t start = 0; start < keys_of_column_or_key.size(); start += kKeysPerQuery) {
    std::vector<std::vector<std::string>> parts(match.size());
    for (std::size_t k = start; k < std::min(keys_of_column_or_key.size(), start + kKeysPerQuery); ++k) {
      auto fields = split_fields(keys_of_column_or_key[k]);
      if (fields.size() != match.size()) continue;
      for (std::size_t i = 0; i < match.size(); ++i) parts[i].push_back(copy_unescape(fields[i]));
    }
    replay::Params params;
    for (auto& p : parts) params.push_back(array_literal(p));
    PgResult r = db.exec(sql, params, "reading rows of " + table.shape.qualified());
    for (int row = 0; row < PQntuples(r.get()); ++row) {
      std::vector<std::string> fields;
      for (int c = 0; c < PQnfields(r.get()); ++c)
        fields.push_back(
            PQgetisnull(r.get(), row, c)
                ? kNull
                : copy_field(PQgetvalue(r.get(), row, c), static_cast<std::size_t>(PQgetlength(r.get(), row, c))));
      lines.push_back(join_fields(fields));
    }
  }
  return lines;
}

/// The key of a change's row as the table's key fields in their canonical text; nullopt when a
/// key value does not convert (PostgreSQL refused the event: a type conflict).
std::optional<std::string> key_of(const RowChange& c, std::size_t table, Tables& tables, const Renderer& renderer) {
  const Table& t = tables[table];
  std::vector<std::string> fields(t.shape.columns.size());
  for (const auto& k : c.key) {
    auto text = renderer.get(table, t.column(k.column), k.value);
    if (!text) return std::nullopt;
    fields[t.column(k.column)] = *text;
  }
  return t.key_of(fields);
}

void request_cascade_times(const std::vector<replay::CascadeDelete>& cascades, replay::TimePoint time, Tables& tables,
                           Renderer& renderer) {
  for (const auto& c : cascades) {
    std::size_t t = tables.index(c.table);
    if (!c.soft_delete_column.empty())
      renderer.request(t, tables[t].column(c.soft_delete_column),
                       replay::Value::of(replay::Value::Kind::timestamp, replay::format_rfc3339(time)));
    request_cascade_times(c.children, time, tables, renderer);
  }
}

void request_values(const std::vector<RowChange>& chunk, bool with_set, Tables& tables, Renderer& renderer) {
  for (const auto& c : chunk) {
    std::size_t t = tables.index(c.table);
    for (const auto& k : c.key) renderer.request(t, tables[t].column(k.column), k.value);
    if (!with_set) continue;
    for (const auto& s : c.set) renderer.request(t, tables[t].column(s.column), s.value);
    request_cascade_times(c.cascade, c.time, tables, renderer);
  }
  renderer.render();
}

/// One row of the fold: its fields (COPY text) and where each comes from.
enum class Origin : uint8_t { backup, logged, unknown };
struct ModelRow {
  bool existed_before = false;
  bool exists = false;
  std::vector<std::string> fields;
  std::vector<Origin> origin;
};

/// The logged changes folded onto the captured rows, by docs/replay.md's semantics.
class Fold {
 public:
  Fold(Tables& tables, replay::Mapper& mapper) : tables_(tables), rows_(tables.size()), captured_(tables.size()) {
    for (std::size_t t = 0; t < tables.size(); ++t) index_cascades(mapper.cascades_of(tables[t].target->name));
  }

  void load(std::size_t table, const std::string& line) {
    captured_[table].push_back(line);
    ModelRow row;
    row.existed_before = row.exists = true;
    row.fields = split_fields(line);
    if (row.fields.size() != tables_[table].shape.columns.size()) return;
    row.origin.assign(row.fields.size(), Origin::backup);
    std::string key = tables_[table].key_of(row.fields);
    for (std::size_t c = 0; c < row.fields.size(); ++c) index_field(table, c, key, {}, row.fields[c]);
    rows_[table].emplace(std::move(key), std::move(row));
  }

  void apply(const RowChange& c, const Renderer& renderer) {
    renderer_ = &renderer;
    std::size_t t = tables_.index(c.table);
    auto key = key_of(c, t, tables_, renderer);
    if (!key) return;  // a key PostgreSQL cannot take: the event was refused
    ModelRow& row = row_of(t, *key);
    switch (c.action) {
      case ChangeAction::insert: {
        bool created = !row.exists;
        if (created) {
          row.exists = true;
          for (std::size_t i = 0; i < row.fields.size(); ++i) set(t, *key, row, i, std::nullopt);  // defaults
          for (const auto& k : c.key) logged(t, *key, row, k);
        }
        for (const auto& s : c.set) {
          bool creation_stamp = s.origin == replay::ValueOrigin::event_time && s.column == "created_at";
          if (created || !creation_stamp) logged(t, *key, row, s);
        }
        break;
      }
      case ChangeAction::update:
        if (!row.exists) return;
        for (const auto& s : c.set) logged(t, *key, row, s);
        break;
      case ChangeAction::soft_delete: {
        if (!row.exists || !alive(t, row)) return;
        for (const auto& s : c.set) logged(t, *key, row, s);
        cascade(c.cascade, *key, c.time, renderer);
        break;
      }
      case ChangeAction::remove:
        if (!row.exists) return;
        row.exists = false;
        cascade(c.cascade, *key, c.time, renderer);
        break;
    }
  }

  std::unordered_map<std::string, ModelRow>& rows(std::size_t table) { return rows_[table]; }
  /// The table's rows as capture() stored them, before the replay.
  const std::vector<std::string>& captured(std::size_t table) const { return captured_[table]; }

 private:
  ModelRow& row_of(std::size_t t, const std::string& key) {
    auto [it, inserted] = rows_[t].try_emplace(key);
    if (inserted) {
      it->second.fields.assign(tables_[t].shape.columns.size(), kNull);
      it->second.origin.assign(tables_[t].shape.columns.size(), Origin::unknown);
    }
    return it->second;
  }

  bool alive(std::size_t t, const ModelRow& row) const {
    std::size_t soft = tables_[t].soft_delete;
    // A soft-delete column an insert left to its default is taken as NULL: gorm's default.
    return soft == SIZE_MAX || row.origin[soft] == Origin::unknown || row.fields[soft] == kNull;
  }

  void logged(std::size_t t, const std::string& key, ModelRow& row, const replay::ColumnValue& value) {
    std::size_t column = tables_[t].column(value.column);
    set(t, key, row, column, renderer_->get(t, column, value.value));
  }

  void set(std::size_t t, const std::string& key, ModelRow& row, std::size_t column,
           const std::optional<std::string>& value) {
    index_field(t, column, key, row.origin[column] == Origin::unknown ? std::string() : row.fields[column],
                value.value_or(std::string()));
    row.fields[column] = value.value_or(kNull);
    row.origin[column] = value ? Origin::logged : Origin::unknown;
  }

  void cascade(const std::vector<replay::CascadeDelete>& cascades, const std::string& parent_key,
               replay::TimePoint time, const Renderer& renderer) {
    for (const auto& c : cascades) {
      std::size_t t = tables_.index(c.table);
      std::size_t fk = tables_[t].column(c.foreign_key);
      auto it = by_fk_.find({t, fk});
      if (it == by_fk_.end()) continue;
      auto found = it->second.find(parent_key);
      if (found == it->second.end()) continue;
      std::vector<std::string> children(found->second.begin(), found->second.end());
      for (const auto& child_key : children) {
        ModelRow& child = rows_[t].at(child_key);
        if (!child.exists) continue;
        if (c.soft_delete_column.empty()) {
          child.exists = false;
        } else {
          if (!alive(t, child)) continue;  // deleted earlier: keeps its own time, its children too
          std::size_t soft = tables_[t].column(c.soft_delete_column);
          set(t, child_key, child, soft,
              renderer.get(t, soft, replay::Value::of(replay::Value::Kind::timestamp, replay::format_rfc3339(time))));
        }
        cascade(c.children, child_key, time, renderer);
      }
    }
  }

  void index_cascades(const std::vector<replay::CascadeDelete>& cascades) {
    for (const auto& c : cascades) {
      std::size_t t = tables_.index(c.table);
      by_fk_[{t, tables_[t].column(c.foreign_key)}];
      index_cascades(c.children);
    }
  }

  void index_field(std::size_t t, std::size_t column, const std::string& key, const std::string& old_value,
                   const std::string& new_value) {
    auto it = by_fk_.find({t, column});
    if (it == by_fk_.end()) return;
    if (!old_value.empty()) it->second[old_value].erase(key);
    if (!new_value.empty() && new_value != kNull) it->second[new_value].insert(key);
  }

  Tables& tables_;
  std::vector<std::unordered_map<std::string, ModelRow>> rows_;
  std::vector<std::vector<std::string>> captured_;
  std::map<std::pair<std::size_t, std::size_t>, std::unordered_map<std::string, std::set<std::string>>> by_fk_;
  const Renderer* renderer_ = nullptr;
};

void create_tables(PgSession& db) {
  db.exec(
      "CREATE SCHEMA IF NOT EXISTS auditpitr; "
      "CREATE TABLE IF NOT EXISTS auditpitr.recover_rows (table_name text NOT NULL, line text NOT NULL); "
      "CREATE TABLE IF NOT EXISTS auditpitr.recover_baseline (manifest text NOT NULL)",
      {}, "creating auditpitr's recovery tables");
}

/// The keys of the rows the deletes of `parents` cascade to, found in the restored copy (recursively).
void capture_cascades(PgSession& db, Tables& tables, replay::Mapper& mapper,
                      std::map<std::size_t, std::set<std::string>> parents,
                      std::map<std::size_t, std::set<std::string>>& lines) {
  std::set<std::tuple<std::size_t, std::string, std::string>> asked;  // (child, fk, parent key)
  while (!parents.empty()) {
    std::map<std::size_t, std::set<std::string>> next;
    for (const auto& [parent, keys] : parents) {
      for (const auto& c : mapper.cascades_of(tables[parent].target->name)) {
        std::size_t child = tables.index(c.table);
        std::vector<std::string> ask;
        for (const auto& k : keys)
          if (asked.insert({child, c.foreign_key, k}).second) ask.push_back(k);
        if (ask.empty()) continue;
        for (auto& line : read_rows(db, tables[child], c.foreign_key, ask)) {
          next[child].insert(tables[child].key_of(split_fields(line)));
          lines[child].insert(std::move(line));
        }
      }
    }
    parents = std::move(next);
  }
}

}  // namespace

std::string copy_field(const char* text, std::size_t size) {
  std::string out;
  out.reserve(size);
  for (std::size_t i = 0; i < size; ++i) {
    char c = text[i];
    switch (c) {
      case '\\': out += "\\\\"; break;
      case '\b': out += "\\b"; break;
      case '\f': out += "\\f"; break;
      case '\n': out += "\\n"; break;
      case '\r': out += "\\r"; break;
      case '\t': out += "\\t"; break;
      case '\v': out += "\\v"; break;
      default: out += c;
    }
  }
  return out;
}

const char* state_name(ColumnCheck::State state) {
  switch (state) {
    case ColumnCheck::State::equal: return "equal";
    case ColumnCheck::State::different: return "different";
    case ColumnCheck::State::not_verifiable: return "not_verifiable";
  }
  return "?";
}

bool TableCheck::ok() const {
  if (expected_rows != actual_rows || missing_rows || extra_rows || !untouched_equal) return false;
  for (const auto& c : columns)
    if (c.state == ColumnCheck::State::different) return false;
  return true;
}

bool RecoveryVerification::ok() const {
  return std::all_of(tables.begin(), tables.end(), [](const TableCheck& t) { return t.ok(); });
}

RecoveryCheck::RecoveryCheck(std::vector<replay::TargetTable> tables, replay::Mapper& mapper)
    : tables_(std::move(tables)), mapper_(mapper) {}

bool RecoveryCheck::captured(PgSession& db) {
  auto r = db.exec("SELECT to_regclass('auditpitr.recover_baseline') IS NOT NULL", {}, "reading auditpitr's schema");
  if (replay::first_value(r.get()).value_or("f") != "t") return false;
  r = db.exec("SELECT count(*) FROM auditpitr.recover_baseline", {}, "reading auditpitr's schema");
  return replay::first_value(r.get()).value_or("0") != "0";
}

void RecoveryCheck::capture(PgSession& db, replay::AuditEventSource& events, replay::TimePoint from,
                            const std::vector<TableChecksum>& baseline) {
  db.exec(pg::kCanonicalOutputSql, {}, "setting the session's output format");
  Tables tables(tables_, mapper_);
  Renderer renderer(db, tables);
  std::map<std::size_t, std::set<std::string>> keys, deleted;
  for_each_chunk(events, mapper_, from, {}, [&](std::vector<RowChange>& chunk) {
    request_values(chunk, false, tables, renderer);
    for (const auto& c : chunk) {
      std::size_t t = tables.index(c.table);
      auto key = key_of(c, t, tables, renderer);
      if (!key || tables[t].key_positions.empty()) continue;
      keys[t].insert(*key);
      if (c.action == ChangeAction::remove || c.action == ChangeAction::soft_delete) deleted[t].insert(*key);
    }
    renderer.clear();
  });
  std::map<std::size_t, std::set<std::string>> lines;
  for (const auto& [t, set] : keys)
    for (auto& line : read_rows(db, tables[t], "", std::vector<std::string>(set.begin(), set.end())))
      lines[t].insert(std::move(line));
  capture_cascades(db, tables, mapper_, deleted, lines);

  create_tables(db);
  db.exec("BEGIN", {}, "storing the rows before the replay");
  db.exec("TRUNCATE auditpitr.recover_rows, auditpitr.recover_baseline", {}, "storing the rows before the replay");
  for (const auto& [t, set] : lines) {
    std::vector<std::string> all(set.begin(), set.end());
    for (std::size_t i = 0; i < all.size(); i += kKeysPerQuery) {
      std::vector<std::string> part(all.begin() + static_cast<long>(i),
                                    all.begin() + static_cast<long>(std::min(all.size(), i + kKeysPerQuery)));
      db.exec("INSERT INTO auditpitr.recover_rows SELECT $1, unnest($2::text[])",
              {tables[t].shape.qualified(), array_literal(part)}, "storing the rows before the replay");
    }
  }
  Manifest figures;
  figures.tables = baseline;
  db.exec("INSERT INTO auditpitr.recover_baseline VALUES ($1)", {manifest_to_json(figures)},
          "storing the baseline figures");
  db.exec("COMMIT", {}, "storing the rows before the replay");
}

void RecoveryCheck::discard(PgSession& db) {
  db.exec("DROP TABLE IF EXISTS auditpitr.recover_rows, auditpitr.recover_baseline", {},
          "removing the recovery's working tables");
}

namespace {

/// Sums of the given lines' hashes, as TableChecksummer adds them when fed from COPY (whose rows
/// end with their newline, so the last column's value does too).
TableChecksum sums_of(const TableShape& shape, const std::vector<const std::string*>& lines) {
  TableChecksummer sums(shape);
  for (const auto* line : lines) {
    std::string row = *line + "\n";
    sums.add_row(row.data(), row.size());
  }
  return sums.result();
}

TableCheck check_whole(const TableShape& shape, const TableChecksum* expected, const TableChecksum* actual) {
  TableCheck check;
  check.table = shape.qualified();
  if (!expected || !actual) {
    check.note = expected ? "missing from the recovered database" : "not in the backup";
    check.untouched_equal = false;
    return check;
  }
  check.expected_rows = expected->rows;
  check.actual_rows = actual->rows;
  check.untouched_equal = expected->row_sum == actual->row_sum;
  for (const auto& column : shape.columns) {
    ColumnCheck c{column, ColumnCheck::State::equal, 0, {}};
    auto e = expected->column_sums.find(column);
    auto a = actual->column_sums.find(column);
    if (e == expected->column_sums.end() || a == actual->column_sums.end()) {
      c.state = ColumnCheck::State::not_verifiable;
      c.why = "not in the backup's figures";
    } else if (e->second != a->second) {
      c.state = ColumnCheck::State::different;
      c.why = "differs from the backup, and no logged change touched this table";
    }
    check.columns.push_back(c);
  }
  return check;
}

}  // namespace

RecoveryVerification RecoveryCheck::check(PgSession& db, replay::AuditEventSource& events, replay::TimePoint from,
                                          const std::vector<TableChecksum>& actual,
                                          const std::set<std::string>& refused) {
  db.exec(pg::kCanonicalOutputSql, {}, "setting the session's output format");
  Tables tables(tables_, mapper_);
  auto r = db.exec("SELECT manifest FROM auditpitr.recover_baseline", {}, "reading the baseline figures");
  auto text = replay::first_value(r.get());
  if (!text)
    throw runtime_error("the recovery's baseline figures are missing from " + db.describe(),
                        "run the recovery again from the start (a new target database)");
  std::vector<TableChecksum> baseline = parse_manifest(*text, "auditpitr.recover_baseline").tables;

  Fold fold(tables, mapper_);
  r = db.exec("SELECT table_name, line FROM auditpitr.recover_rows", {}, "reading the rows before the replay");
  for (int row = 0; row < PQntuples(r.get()); ++row) {
    std::size_t t = tables.find_qualified(PQgetvalue(r.get(), row, 0));
    if (t != SIZE_MAX) fold.load(t, PQgetvalue(r.get(), row, 1));
  }
  r.reset();
  Renderer renderer(db, tables);
  for_each_chunk(events, mapper_, from, refused, [&](std::vector<RowChange>& chunk) {
    request_values(chunk, true, tables, renderer);
    for (const auto& c : chunk) fold.apply(c, renderer);
    renderer.clear();
  });

  auto find = [](const std::vector<TableChecksum>& sums, const std::string& qualified) -> const TableChecksum* {
    for (const auto& s : sums)
      if (s.qualified() == qualified) return &s;
    return nullptr;
  };
  RecoveryVerification result;
  for (std::size_t t = 0; t < tables.size(); ++t) {
    throw_if_interrupted();
    const Table& table = tables[t];
    const TableChecksum* expected = find(baseline, table.shape.qualified());
    const TableChecksum* got = find(actual, table.shape.qualified());
    auto& rows = fold.rows(t);
    if (rows.empty() || !expected || !got) {
      result.tables.push_back(check_whole(table.shape, expected, got));
      continue;
    }
    std::vector<std::string> keys;
    for (const auto& [key, row] : rows) keys.push_back(key);
    std::vector<std::string> actual_lines = read_rows(db, table, "", keys);
    std::unordered_map<std::string, const std::string*> actual_by_key;
    std::vector<const std::string*> actual_touched, before_touched;
    for (const auto& line : actual_lines) {
      actual_by_key[table.key_of(split_fields(line))] = &line;
      actual_touched.push_back(&line);
    }
    TableCheck check;
    check.table = table.shape.qualified();
    check.touched_rows = rows.size();
    uint64_t before_count = 0, expected_count = 0;
    std::vector<uint64_t> differing(table.shape.columns.size()), unknown(table.shape.columns.size());
    for (const auto& [key, row] : rows) {
      if (row.existed_before) ++before_count;
      if (row.exists) ++expected_count;
      auto found = actual_by_key.find(key);
      if (!row.exists) {
        if (found != actual_by_key.end()) ++check.extra_rows;
        continue;
      }
      if (found == actual_by_key.end()) {
        ++check.missing_rows;
        continue;
      }
      auto fields = split_fields(*found->second);
      for (std::size_t c = 0; c < fields.size() && c < row.fields.size(); ++c) {
        if (row.origin[c] == Origin::unknown) ++unknown[c];
        else if (row.fields[c] != fields[c]) ++differing[c];
      }
    }
    for (const auto& line : fold.captured(t)) before_touched.push_back(&line);
    TableChecksum before_share = sums_of(table.shape, before_touched);
    TableChecksum actual_share = sums_of(table.shape, actual_touched);
    check.expected_rows = expected->rows - before_count + expected_count;
    check.actual_rows = got->rows;
    check.untouched_equal = got->row_sum - actual_share.row_sum == expected->row_sum - before_share.row_sum &&
                            got->rows - actual_share.rows == expected->rows - before_share.rows;
    for (std::size_t c = 0; c < table.shape.columns.size(); ++c) {
      const std::string& name = table.shape.columns[c];
      ColumnCheck column{name, ColumnCheck::State::equal, 0, {}};
      auto e = expected->column_sums.find(name);
      auto a = got->column_sums.find(name);
      bool untouched_same = e != expected->column_sums.end() && a != got->column_sums.end() &&
                            a->second - actual_share.column_sums[name] == e->second - before_share.column_sums[name];
      if (differing[c] || !untouched_same) {
        column.state = ColumnCheck::State::different;
        column.rows = differing[c];
        column.why = differing[c] ? std::to_string(differing[c]) + " row(s) the logs changed hold another value"
                                  : "rows the logs did not touch differ from the backup";
      } else if (unknown[c]) {
        column.state = ColumnCheck::State::not_verifiable;
        column.rows = unknown[c];
        column.why = std::to_string(unknown[c]) +
                     " row(s) created by logged inserts that do not carry this column (it took its default)";
      }
      check.columns.push_back(std::move(column));
    }
    result.tables.push_back(std::move(check));
  }
  return result;
}

}  // namespace auditpitr::verify
