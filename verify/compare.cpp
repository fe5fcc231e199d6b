// compare_tables: tables matched by qualified name, then counts, whole rows and columns;
// compare_checksums lists what compare_tables found different.
#include "verify/compare.h"

#include <algorithm>
#include <map>

namespace auditpitr::verify {
namespace {

// The columns of a checksum in COPY order when known (a manifest keeps only their names).
std::vector<std::string> column_names(const TableChecksum& t) { return shape_of(t).columns; }

std::string key_text(const std::vector<std::string>& key) {
  if (key.empty()) return "none";
  std::string out;
  for (const auto& k : key) out += (out.empty() ? "" : ", ") + k;
  return "(" + out + ")";
}

ColumnComparison compare_column(const TableChecksum& e, const TableChecksum& a, const std::string& column) {
  ColumnComparison c{column, Verdict::equal, Presence::both, {}, {}};
  auto mine = e.column_sums.find(column);
  auto theirs = a.column_sums.find(column);
  if (theirs == a.column_sums.end() || mine == e.column_sums.end()) {
    c.verdict = Verdict::not_comparable;
    c.presence = theirs == a.column_sums.end() ? Presence::expected_only : Presence::actual_only;
    c.why = theirs == a.column_sums.end() ? "only in the expected table" : "only in the actual table";
  } else if (e.primary_key != a.primary_key) {
    // Column sums hash each value with its row's key: other keys, other sums.
    c.verdict = Verdict::not_comparable;
    c.why = "the primary keys differ: " + key_text(e.primary_key) + " expected, " + key_text(a.primary_key) + " found";
  } else if (mine->second != theirs->second) {
    c.verdict = Verdict::different;
  }
  return c;
}

void compare_content(const TableChecksum& e, const TableChecksum& a, TableComparison& c) {
  std::vector<std::string> mine = column_names(e), theirs = column_names(a);
  if (std::is_permutation(mine.begin(), mine.end(), theirs.begin(), theirs.end())) {
    if (!e.columns.empty() && !a.columns.empty() && mine != theirs) {
      c.content = Verdict::not_comparable;
      c.content_why = "the columns are in another order";
    } else if (e.row_sum != a.row_sum) {
      c.content = Verdict::different;
    }
  } else {
    c.content = Verdict::not_comparable;
    c.content_why = "the tables have different columns";
  }
}

TableComparison compare_table(const TableChecksum& e, const TableChecksum& a, const CompareOptions& o) {
  TableComparison c;
  c.schema = e.schema;
  c.name = e.name;
  c.primary_key = e.primary_key;
  c.expected_rows = e.rows;
  c.actual_rows = a.rows;
  if (!o.only_columns) compare_content(e, a, c);
  std::vector<std::string> names = column_names(e);
  for (const auto& column : column_names(a))
    if (!e.column_sums.count(column)) names.push_back(column);
  for (const auto& column : names)
    if (column_selected(o, e.schema, e.name, column)) c.columns.push_back(compare_column(e, a, column));
  return c;
}

TableComparison one_sided(const TableChecksum& t, bool expected) {
  TableComparison c;
  c.schema = t.schema;
  c.name = t.name;
  c.primary_key = t.primary_key;
  c.in_expected = expected;
  c.in_actual = !expected;
  (expected ? c.expected_rows : c.actual_rows) = t.rows;
  return c;
}

}  // namespace

const char* verdict_name(Verdict verdict) {
  switch (verdict) {
    case Verdict::equal: return "equal";
    case Verdict::different: return "different";
    case Verdict::not_comparable: return "not_comparable";
  }
  return "?";
}

bool column_selected(const CompareOptions& o, const std::string& schema, const std::string& table,
                     const std::string& column) {
  if (!o.only_columns) return true;
  return o.only_columns->count(schema + "." + table + "." + column) || o.only_columns->count(table + "." + column) ||
         o.only_columns->count(column);
}

bool TableComparison::equal() const {
  if (!in_expected || !in_actual || !rows_equal() || content != Verdict::equal) return false;
  for (const auto& c : columns)
    if (c.verdict != Verdict::equal) return false;
  return !diff || diff->empty();
}

std::vector<TableComparison> compare_tables(const std::vector<TableChecksum>& expected,
                                            const std::vector<TableChecksum>& actual, const CompareOptions& options) {
  std::map<std::string, const TableChecksum*> found;
  for (const auto& t : actual) found[t.qualified()] = &t;
  std::vector<TableComparison> out;
  for (const auto& e : expected) {
    auto it = found.find(e.qualified());
    out.push_back(it == found.end() ? one_sided(e, true) : compare_table(e, *it->second, options));
    if (it != found.end()) found.erase(it);
  }
  if (!options.ignore_extra_tables)
    for (const auto& t : actual)
      if (found.count(t.qualified())) out.push_back(one_sided(t, false));
  return out;
}

std::vector<Difference> differences(const TableComparison& t, const CompareOptions& options) {
  std::string table = t.qualified();
  if (!t.in_actual) return {{table, "", "table missing"}};
  if (!t.in_expected) return {{table, "", "unexpected table"}};
  if (!t.rows_equal())
    return {
        {table, "", std::to_string(t.expected_rows) + " rows expected, " + std::to_string(t.actual_rows) + " found"}};
  std::vector<Difference> out;
  for (const auto& c : t.columns) {
    if (c.verdict == Verdict::different) out.push_back({table, c.name, "values differ"});
    if (c.verdict != Verdict::not_comparable) continue;
    if (c.presence == Presence::expected_only) out.push_back({table, c.name, "column missing"});
    else if (c.presence == Presence::actual_only) out.push_back({table, c.name, "unexpected column"});
    else out.push_back({table, c.name, "not comparable: " + c.why});
  }
  if (out.empty() && !options.only_columns && t.content != Verdict::equal)
    out.push_back({table, "", t.content == Verdict::different ? "content differs" : t.content_why});
  return out;
}

std::vector<Difference> compare_checksums(const std::vector<TableChecksum>& expected,
                                          const std::vector<TableChecksum>& actual, const CompareOptions& options) {
  std::vector<Difference> out;
  for (const auto& t : compare_tables(expected, actual, options)) {
    auto found = differences(t, options);
    out.insert(out.end(), found.begin(), found.end());
  }
  return out;
}

std::string describe(const Difference& d) { return d.table + (d.column.empty() ? "" : "." + d.column) + ": " + d.what; }

}  // namespace auditpitr::verify
