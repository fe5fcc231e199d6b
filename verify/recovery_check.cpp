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
#include "verify/row_fold.h"

namespace auditpitr::verify {
namespace {

using namespace rows;
using replay::ChangeAction;
using replay::PgResult;
using replay::PgSession;
using replay::TargetTable;

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
  CompactFolding folding(tables, mapper_);
  for_each_chunk(events, mapper_, folding, from, {}, [&](std::vector<FoldChange>& chunk) {
    for (const auto& c : chunk)
      for (const auto& k : c.key) renderer.request(c.table, k.column, k.value);
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
                                          const std::function<std::vector<TableChecksum>()>& actual_sums,
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
  CompactFolding folding(tables, mapper_);
  for_each_chunk(events, mapper_, folding, from, refused, [&](std::vector<FoldChange>& chunk) {
    fold.request(chunk, renderer);
    for (const auto& c : chunk) fold.apply(c, renderer);
    renderer.clear();
  });

  auto find = [](const std::vector<TableChecksum>& sums, const std::string& qualified) -> const TableChecksum* {
    for (const auto& s : sums)
      if (s.qualified() == qualified) return &s;
    return nullptr;
  };
  std::vector<TableChecksum> actual = actual_sums();
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
