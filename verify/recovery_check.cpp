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
#include "verify/database_checksum.h"
#include "verify/manifest.h"
#include "verify/row_fold.h"

namespace auditpitr::verify {
namespace {

using namespace rows;
using replay::ChangeAction;
using replay::PgResult;
using replay::PgSession;
using replay::TargetTable;

/// The recovery's working tables in the `auditpitr` schema: the baseline figures, and the captured
/// rows of each table in a copy of its own (`recover_rows_N`, listed in `recover_captured`) with
/// the table's columns and types, so that COPY gives them back as the table itself would.
void drop_recover_tables(PgSession& db) {
  PgResult r = db.exec(
      "SELECT tablename FROM pg_tables WHERE schemaname = 'auditpitr' AND tablename LIKE 'recover\\_%' "
      "ORDER BY tablename",
      {}, "listing auditpitr's recovery tables");
  for (int row = 0; row < PQntuples(r.get()); ++row)
    db.exec("DROP TABLE " + pg::quote_qualified("auditpitr", PQgetvalue(r.get(), row, 0)), {},
            "removing the recovery's working tables");
}

/// The copies of the captured rows, created (empty, keyed like their table) when first used.
class CapturedCopies {
 public:
  CapturedCopies(PgSession& db, Tables& tables) : db_(db), tables_(tables) {
    db_.exec(
        "CREATE SCHEMA IF NOT EXISTS auditpitr; "
        "CREATE TABLE auditpitr.recover_baseline (manifest text NOT NULL); "
        "CREATE TABLE auditpitr.recover_captured (table_name text NOT NULL, copy_name text NOT NULL); "
        "CREATE TABLE auditpitr.recover_keys (table_name text NOT NULL, key text NOT NULL)",
        {}, "creating auditpitr's recovery tables");
  }

  /// Records keys of table `t` as touched (the rows judge() compares).
  void record_keys(std::size_t t, const std::vector<std::string>& keys) {
    std::string table = copy_field(tables_[t].shape.qualified().data(), tables_[t].shape.qualified().size());
    std::vector<std::string> lines;
    lines.reserve(keys.size());
    for (const auto& k : keys) lines.push_back(table + "\t" + copy_field(k.data(), k.size()));
    db_.copy_in("COPY auditpitr.recover_keys FROM STDIN", lines, "recording the touched rows' keys");
  }

  /// Copies the rows of table `t` that `filter` picks (load_keys); with `returning`, gives back
  /// the key of every row picked, as key_of renders it (also of rows copied before).
  std::vector<std::string> copy_rows(std::size_t t, const std::string& filter, bool returning) {
    const Table& table = tables_[t];
    std::string sql = "WITH picked AS (SELECT " + pg::quote_ident_list(table.shape.columns) + " FROM " +
                      table.target->quoted() + " WHERE " + filter + "), stored AS (INSERT INTO " + copy_of(t) +
                      " SELECT * FROM picked ON CONFLICT DO NOTHING) ";
    sql += returning ? "SELECT " + pg::quote_ident_list(table.target->primary_key) + " FROM picked" : "SELECT 1";
    PgResult r = db_.exec(sql, {}, "capturing rows of " + table.shape.qualified());
    std::vector<std::string> keys;
    if (!returning) return keys;
    std::vector<std::string> fields(static_cast<std::size_t>(PQnfields(r.get())));
    for (int row = 0; row < PQntuples(r.get()); ++row) {
      for (std::size_t c = 0; c < fields.size(); ++c) fields[c] = field_of(r.get(), row, static_cast<int>(c));
      keys.push_back(join_fields(fields));
    }
    return keys;
  }

 private:
  std::string copy_of(std::size_t t) {
    auto known = names_.find(t);
    if (known != names_.end()) return known->second;
    const Table& table = tables_[t];
    std::string name = "recover_rows_" + std::to_string(names_.size() + 1);
    std::string quoted = pg::quote_qualified("auditpitr", name);
    db_.exec("CREATE TABLE " + quoted + " AS SELECT " + pg::quote_ident_list(table.shape.columns) + " FROM " +
                 table.target->quoted() + " WITH NO DATA; ALTER TABLE " + quoted + " ADD PRIMARY KEY (" +
                 pg::quote_ident_list(table.target->primary_key) + ")",
             {}, "creating the copy of " + table.shape.qualified() + "'s captured rows");
    db_.exec("INSERT INTO auditpitr.recover_captured VALUES ($1, $2)", {table.shape.qualified(), name},
             "creating the copy of " + table.shape.qualified() + "'s captured rows");
    return names_[t] = quoted;
  }

  PgSession& db_;
  Tables& tables_;
  std::map<std::size_t, std::string> names_;
};

/// The rows the deletes of `parents` cascade to, found in the restored copy (recursively).
void capture_cascades(PgSession& db, Tables& tables, replay::Mapper& mapper, CapturedCopies& copies,
                      std::map<std::size_t, std::set<std::string>> parents) {
  std::set<std::tuple<std::size_t, std::string, std::string>> asked;  // (child, fk, parent key)
  while (!parents.empty()) {
    std::map<std::size_t, std::set<std::string>> next;
    for (const auto& [parent, keys] : parents) {
      for (const auto& c : mapper.cascades_of(tables[parent].target->name)) {
        std::size_t child = tables.index(c.table);
        std::vector<std::string> ask;
        for (const auto& k : keys)
          if (asked.insert({child, c.foreign_key, k}).second) ask.push_back(k);
        if (ask.empty() || tables[child].key_positions.empty()) continue;
        std::string filter = load_keys(db, tables[child], {c.foreign_key}, ask);
        std::vector<std::string> found = copies.copy_rows(child, filter, true);
        copies.record_keys(child, found);
        for (auto& key : found) next[child].insert(std::move(key));
      }
    }
    parents = std::move(next);
  }
}

}  // namespace

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
  auto r = db.exec("SELECT to_regclass('auditpitr.recover_captured') IS NOT NULL", {}, "reading auditpitr's schema");
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
  CompactFolding folding(tables, mapper_);
  for_each_chunk(events, mapper_, folding, from, {}, [&](std::vector<FoldChange>& chunk) {
    for (const auto& c : chunk)
      for (const auto& k : c.key) renderer.request(c.table, k.column, c.value(k));
    renderer.render();
    for (const auto& c : chunk) {
      std::size_t t = c.table;
      auto key = key_of(c, tables, renderer);
      if (!key || tables[t].key_positions.empty()) continue;
      keys[t].insert(*key);
      if (c.action == ChangeAction::remove || c.action == ChangeAction::soft_delete) deleted[t].insert(*key);
    }
    renderer.clear();
  });

  // The rows are copied on the server, in one transaction with the figures: a crash leaves all
  // of it or none.
  db.exec("BEGIN", {}, "storing the rows before the replay");
  drop_recover_tables(db);
  CapturedCopies copies(db, tables);
  for (const auto& [t, set] : keys) {
    std::vector<std::string> touched(set.begin(), set.end());
    copies.record_keys(t, touched);
    copies.copy_rows(t, load_keys(db, tables[t], tables[t].target->primary_key, touched), false);
  }
  capture_cascades(db, tables, mapper_, copies, deleted);
  Manifest figures;
  figures.tables = baseline;
  db.exec("INSERT INTO auditpitr.recover_baseline VALUES ($1)", {manifest_to_json(figures)},
          "storing the baseline figures");
  db.exec("DROP TABLE IF EXISTS pg_temp.auditpitr_keys", {}, "storing the rows before the replay");
  db.exec("COMMIT", {}, "storing the rows before the replay");
}

void RecoveryCheck::discard(PgSession& db) { drop_recover_tables(db); }

TouchedKeys RecoveryCheck::touched_keys(PgSession& db) {
  TouchedKeys keys;
  db.copy_out(
      "COPY auditpitr.recover_keys TO STDOUT",
      [&](const char* line, std::size_t size) {
        std::string_view text(line, size);
        std::size_t tab = text.find('\t');
        if (tab == std::string_view::npos) return;
        keys[copy_unescape(std::string(text.substr(0, tab)))].insert(copy_unescape(std::string(text.substr(tab + 1))));
      },
      "reading the touched rows' keys");
  return keys;
}

RecoveredRead read_recovered(pqxx::transaction_base& tx, TouchedKeys keys) {
  RecoveredRead read;
  read.looked_for = std::move(keys);
  const std::unordered_set<std::string>* wanted = nullptr;
  std::vector<std::string>* picked = nullptr;
  std::vector<std::size_t> key_at;
  auto start_table = [&](const TableShape& shape) {
    auto found = read.looked_for.find(shape.qualified());
    wanted = found == read.looked_for.end() ? nullptr : &found->second;
    picked = &read.touched_rows[shape.qualified()];
    key_at.clear();
    for (const auto& k : shape.primary_key)
      key_at.push_back(
          static_cast<std::size_t>(std::find(shape.columns.begin(), shape.columns.end(), k) - shape.columns.begin()));
  };
  std::vector<std::string_view> fields;
  std::string key;
  auto pick = [&](const TableShape& shape, std::string_view line) {
    if (!wanted || key_at.empty()) return;
    split_field_views(line, fields);
    if (fields.size() != shape.columns.size()) return;
    key.clear();
    for (std::size_t i = 0; i < key_at.size(); ++i) (i ? key.append(1, '\t') : key).append(fields[key_at[i]]);
    if (wanted->count(key)) picked->emplace_back(line);
  };
  read.checksums = checksum_tables(tx, list_tables(tx), start_table, pick);
  return read;
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

/// The recovered rows of `rows`' keys: picked by read_recovered, or read by key when it did not
/// look for them.
std::vector<std::string> touched_rows(PgSession& db, const Table& table, const RowMap<ModelRow>& rows,
                                      RecoveredRead& recovered) {
  std::vector<std::string> lines;
  std::vector<std::string_view> fields;
  for (auto& line : recovered.touched_rows[table.shape.qualified()]) {
    split_field_views(line, fields);
    if (fields.size() == table.shape.columns.size() && rows.count(table.key_of(fields)))
      lines.push_back(std::move(line));
  }
  auto looked_for = recovered.looked_for.find(table.shape.qualified());
  std::vector<std::string> unread;
  for (const auto& [key, row] : rows)
    if (looked_for == recovered.looked_for.end() || !looked_for->second.count(key)) unread.push_back(key);
  if (unread.empty()) return lines;
  std::string filter = load_keys(db, table, table.target->primary_key, unread);
  db.copy_out(
      "COPY (SELECT " + pg::quote_ident_list(table.shape.columns) + " FROM " + table.target->quoted() + " WHERE " +
          filter + ") TO STDOUT",
      [&](const char* line, std::size_t size) { lines.emplace_back(line, size); },
      "reading the recovered rows of " + table.shape.qualified());
  return lines;
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

struct RecoveryCheck::Folded {
  Folded(const std::vector<TargetTable>& targets, replay::Mapper& mapper)
      : tables(targets, mapper), fold(tables, mapper) {}
  Tables tables;
  Fold fold;  ///< refers to `tables`: a Folded stays where it was made
  std::vector<TableChecksum> baseline;
};

std::shared_ptr<RecoveryCheck::Folded> RecoveryCheck::fold(PgSession& db, replay::AuditEventSource& events,
                                                           replay::TimePoint from,
                                                           const std::set<std::string>& refused) {
  db.exec(pg::kCanonicalOutputSql, {}, "setting the session's output format");
  auto folded = std::make_shared<Folded>(tables_, mapper_);
  Tables& tables = folded->tables;
  Fold& fold = folded->fold;
  auto r = db.exec("SELECT manifest FROM auditpitr.recover_baseline", {}, "reading the baseline figures");
  auto text = replay::first_value(r.get());
  if (!text)
    throw runtime_error("the recovery's baseline figures are missing from " + db.describe(),
                        "run the recovery again from the start (a new target database)");
  folded->baseline = parse_manifest(*text, "auditpitr.recover_baseline").tables;

  r = db.exec("SELECT table_name, copy_name FROM auditpitr.recover_captured", {}, "reading the rows before the replay");
  for (int row = 0; row < PQntuples(r.get()); ++row) {
    std::size_t t = tables.find_qualified(PQgetvalue(r.get(), row, 0));
    if (t == SIZE_MAX) continue;
    db.copy_out(
        "COPY " + pg::quote_qualified("auditpitr", PQgetvalue(r.get(), row, 1)) + " (" +
            pg::quote_ident_list(tables[t].shape.columns) + ") TO STDOUT",
        [&](const char* line, std::size_t size) { fold.load(t, std::string(line, size)); },
        "reading the rows before the replay");
  }
  r.reset();
  Renderer renderer(db, tables);
  CompactFolding folding(tables, mapper_);
  for_each_chunk(events, mapper_, folding, from, refused, [&](std::vector<FoldChange>& chunk) {
    fold.request(chunk, renderer);
    for (const auto& c : chunk) fold.apply(c, renderer);
    renderer.clear();
  });
  return folded;
}

RecoveryVerification RecoveryCheck::judge(PgSession& db, Folded& folded,
                                          const std::function<RecoveredRead()>& actual_read) {
  db.exec(pg::kCanonicalOutputSql, {}, "setting the session's output format");
  Tables& tables = folded.tables;
  Fold& fold = folded.fold;
  const std::vector<TableChecksum>& baseline = folded.baseline;
  auto find = [](const std::vector<TableChecksum>& sums, const std::string& qualified) -> const TableChecksum* {
    for (const auto& s : sums)
      if (s.qualified() == qualified) return &s;
    return nullptr;
  };
  RecoveredRead recovered = actual_read();
  const std::vector<TableChecksum>& actual = recovered.checksums;
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
    std::vector<std::string> actual_lines = touched_rows(db, table, rows, recovered);
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
        if (row.mark(c).origin == Origin::unknown) ++unknown[c];
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
