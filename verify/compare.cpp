// compare_checksums: tables matched by qualified name, then counts, rows, columns.
#include "verify/compare.h"

#include <map>

namespace auditpitr::verify {
namespace {

bool column_selected(const CompareOptions& o, const TableChecksum& t, const std::string& column) {
  if (!o.only_columns) return true;
  return o.only_columns->count(t.qualified() + "." + column) || o.only_columns->count(t.name + "." + column);
}

void compare_table(const TableChecksum& e, const TableChecksum& a, const CompareOptions& o,
                   std::vector<Difference>& out) {
  if (e.rows != a.rows) {
    out.push_back({e.qualified(), "", std::to_string(e.rows) + " rows expected, " + std::to_string(a.rows) + " found"});
    return;
  }
  if (!o.only_columns && e.row_sum == a.row_sum) return;
  std::size_t before = out.size();
  for (const auto& [column, sum] : e.column_sums) {
    if (!column_selected(o, e, column)) continue;
    auto it = a.column_sums.find(column);
    if (it == a.column_sums.end()) {
      out.push_back({e.qualified(), column, "column missing"});
    } else if (it->second != sum) {
      out.push_back({e.qualified(), column, "values differ"});
    }
  }
  if (!o.only_columns && out.size() == before) out.push_back({e.qualified(), "", "content differs"});
}

}  // namespace

std::vector<Difference> compare_checksums(const std::vector<TableChecksum>& expected,
                                          const std::vector<TableChecksum>& actual, const CompareOptions& options) {
  std::map<std::string, const TableChecksum*> found;
  for (const auto& t : actual) found[t.qualified()] = &t;
  std::vector<Difference> out;
  for (const auto& e : expected) {
    auto it = found.find(e.qualified());
    if (it == found.end()) {
      out.push_back({e.qualified(), "", "table missing"});
      continue;
    }
    compare_table(e, *it->second, options, out);
    found.erase(it);
  }
  if (!options.ignore_extra_tables)
    for (const auto& [name, t] : found) out.push_back({name, "", "unexpected table"});
  return out;
}

std::string describe(const Difference& d) { return d.table + (d.column.empty() ? "" : "." + d.column) + ": " + d.what; }

}  // namespace auditpitr::verify
