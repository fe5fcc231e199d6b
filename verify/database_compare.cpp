// compare_databases / compare_with_checksums: select, checksum (both sides at once), compare, and
// for two databases, diff the tables that differ inside the same snapshots.
#include "verify/database_compare.h"

#include <algorithm>
#include <chrono>
#include <future>
#include <memory>

#include "src/error.h"
#include "src/util/interrupt.h"
#include "src/util/pause_point.h"
#include "verify/database_checksum.h"
#include "verify/table_diff.h"

namespace auditpitr::verify {
namespace {

using Clock = std::chrono::steady_clock;
using ReadTx = pqxx::transaction<pqxx::repeatable_read, pqxx::read_only>;

double seconds_since(Clock::time_point start) { return std::chrono::duration<double>(Clock::now() - start).count(); }

bool names_table(const std::string& wanted, const TableShape& t) { return wanted == t.qualified() || wanted == t.name; }

bool wanted(const std::vector<std::string>& names, const TableShape& t) {
  return names.empty() || std::any_of(names.begin(), names.end(), [&](const auto& n) { return names_table(n, t); });
}

std::vector<TableShape> selected(std::vector<TableShape> shapes, const std::vector<std::string>& names) {
  shapes.erase(std::remove_if(shapes.begin(), shapes.end(), [&](const TableShape& t) { return !wanted(names, t); }),
               shapes.end());
  return shapes;
}

std::string listed(const std::vector<TableShape>& a, const std::vector<TableShape>& b) {
  std::vector<std::string> names;
  for (const auto* side : {&a, &b})
    for (const auto& t : *side)
      if (std::find(names.begin(), names.end(), t.qualified()) == names.end()) names.push_back(t.qualified());
  std::string out;
  for (std::size_t i = 0; i < names.size() && i < 20; ++i) out += (i ? ", " : "") + names[i];
  return names.size() > 20 ? out + " and " + std::to_string(names.size() - 20) + " more" : out;
}

// Every --table names a table and every --columns entry a column of the compared tables.
void check_names(const DatabaseCompareOptions& o, const std::vector<TableShape>& e, const std::vector<TableShape>& a) {
  for (const auto& name : o.tables) {
    auto named = [&](const TableShape& t) { return names_table(name, t); };
    if (std::none_of(e.begin(), e.end(), named) && std::none_of(a.begin(), a.end(), named))
      throw usage_error("no table '" + name + "' in either database", "the tables: " + listed(e, a));
  }
  for (const auto& column : o.only_columns) {
    std::set<std::string> one{column};
    CompareOptions just{&one, false};
    bool found = false;
    for (const auto* side : {&e, &a})
      for (const auto& t : *side)
        if (wanted(o.tables, t))
          for (const auto& c : t.columns) found = found || column_selected(just, t.schema, t.name, c);
    if (!found)
      throw usage_error("no column '" + column + "' in the compared tables",
                        "name a column as 'column', 'table.column' or 'schema.table.column'");
  }
}

CompareOptions compare_options(const DatabaseCompareOptions& o) {
  return {o.only_columns.empty() ? nullptr : &o.only_columns, false};
}

// One database's side: its connection and the snapshot everything is read in.
struct Side {
  pg::Connection& conn;
  std::unique_ptr<ReadTx> tx;
  std::vector<TableShape> tables;

  explicit Side(pg::Connection& c) : conn(c) {
    conn.set_canonical_output();
    try {
      tx = std::make_unique<ReadTx>(conn.raw());
      tables = list_tables(*tx);
    } catch (const std::exception& e) {
      pg::rethrow_as_error(e, "listing the tables", conn);
    }
  }
  std::vector<TableChecksum> checksum(const std::function<void(const TableShape&)>& progress) {
    try {
      return checksum_tables(*tx, tables, progress);
    } catch (const std::exception& e) {
      pg::rethrow_as_error(e, "checksumming the tables", conn);
    }
  }
  const TableShape* find(const TableComparison& t) const {
    for (const auto& s : tables)
      if (s.schema == t.schema && s.name == t.name) return &s;
    return nullptr;
  }
};

// Told each table as it starts: stops there on Ctrl-C (inside a table, the COPY loop's business).
std::function<void(const TableShape&)> table_progress(const DatabaseCompareOptions& o) {
  return [&o](const TableShape& t) {
    throw_if_interrupted();
    if (o.progress) o.progress(t.qualified());
  };
}

// Both sides at once, each on its own connection: the comparison takes as long as the slower one.
std::pair<std::vector<TableChecksum>, std::vector<TableChecksum>> checksum_both(Side& e, Side& a,
                                                                                const DatabaseCompareOptions& o) {
  auto actual =
      std::async(std::launch::async, [&a] { return a.checksum([](const TableShape&) { throw_if_interrupted(); }); });
  std::vector<TableChecksum> expected;
  try {
    expected = e.checksum(table_progress(o));
  } catch (...) {
    a.conn.raw().cancel_query();
    try {
      actual.get();
    } catch (...) {
    }
    throw;
  }
  return {std::move(expected), actual.get()};
}

// The request for a table's rows, or why there is none.
std::string diff_request(const TableShape& es, const TableShape& as, const DatabaseCompareOptions& o,
                         TableDiffRequest& r) {
  if (es.primary_key != as.primary_key) return "the primary keys differ";
  r = {es.schema, es.name, {}, es.primary_key, o.max_keys};
  CompareOptions only = compare_options(o);
  for (const auto& c : es.columns)
    if (std::count(as.columns.begin(), as.columns.end(), c) && column_selected(only, es.schema, es.name, c))
      r.columns.push_back(c);
  return r.columns.empty() ? "no compared column is in both tables" : "";
}

void diff_one(Side& e, Side& a, const DatabaseCompareOptions& o, TableComparison& t) {
  const TableShape *es = e.find(t), *as = a.find(t);
  TableDiffRequest request;
  t.diff_skipped = diff_request(*es, *as, o, request);
  if (!t.diff_skipped.empty()) return;
  if (o.progress) o.progress("rows of " + t.qualified());
  try {
    t.diff = diff_table(*e.tx, *a.tx, request);
  } catch (const std::exception& ex) {
    pg::rethrow_as_error(ex, "comparing the rows of " + t.qualified() + " with " + e.conn.describe(), a.conn);
  }
  if (!t.diff->keyed()) return;  // whole rows matched: no row is "changed"
  for (auto& c : t.columns) {
    auto it = t.diff->changed_by_column.find(c.name);
    if (it != t.diff->changed_by_column.end()) c.rows_different = it->second;
  }
}

}  // namespace

bool DatabaseComparison::equal() const { return differing_tables() == 0; }

std::size_t DatabaseComparison::differing_tables() const {
  return static_cast<std::size_t>(
      std::count_if(tables.begin(), tables.end(), [](const auto& t) { return !t.equal(); }));
}

DatabaseComparison compare_databases(pg::Connection& expected, pg::Connection& actual,
                                     const DatabaseCompareOptions& options) {
  Side e(expected), a(actual);
  check_names(options, e.tables, a.tables);
  e.tables = selected(std::move(e.tables), options.tables);
  a.tables = selected(std::move(a.tables), options.tables);
  DatabaseComparison result;
  pause_point("verify-checksums");
  auto start = Clock::now();
  auto [expected_sums, actual_sums] = checksum_both(e, a, options);
  result.tables = compare_tables(expected_sums, actual_sums, compare_options(options));
  result.checksum_seconds = seconds_since(start);
  if (!options.diff) return result;
  start = Clock::now();
  for (auto& t : result.tables)
    if (!t.equal() && t.in_expected && t.in_actual) diff_one(e, a, options, t);
  result.diff_seconds = seconds_since(start);
  return result;
}

DatabaseComparison compare_with_checksums(const std::vector<TableChecksum>& expected, pg::Connection& actual,
                                          const DatabaseCompareOptions& options) {
  Side a(actual);
  std::vector<TableShape> expected_shapes;
  for (const auto& t : expected) expected_shapes.push_back(shape_of(t));
  check_names(options, expected_shapes, a.tables);
  a.tables = selected(std::move(a.tables), options.tables);
  std::vector<TableChecksum> chosen;
  for (const auto& t : expected)
    if (wanted(options.tables, shape_of(t))) chosen.push_back(t);
  DatabaseComparison result;
  auto start = Clock::now();
  result.tables = compare_tables(chosen, a.checksum(table_progress(options)), compare_options(options));
  result.checksum_seconds = seconds_since(start);
  return result;
}

}  // namespace auditpitr::verify
