// MappingCatalog: lookups by table name over verify::TableShape.
#include "replay/mapping/mapping_catalog.h"

#include <algorithm>

namespace auditpitr::replay {

MappingCatalog::MappingCatalog(std::vector<verify::TableShape> tables) {
  // public first, so that the first table of a name is the one unqualified SQL would find.
  std::stable_sort(tables.begin(), tables.end(),
                   [](const auto& a, const auto& b) { return (a.schema == "public") > (b.schema == "public"); });
  for (auto& t : tables)
    if (!table(t.name)) tables_.push_back(std::move(t));
  std::sort(tables_.begin(), tables_.end(), [](const auto& a, const auto& b) { return a.name < b.name; });
}

const verify::TableShape* MappingCatalog::table(const std::string& name) const {
  for (const auto& t : tables_)
    if (t.name == name) return &t;
  return nullptr;
}

bool MappingCatalog::has_column(const std::string& table_name, const std::string& column) const {
  const verify::TableShape* t = table(table_name);
  return t && std::find(t->columns.begin(), t->columns.end(), column) != t->columns.end();
}

std::string MappingCatalog::column_list(const std::string& table_name) const {
  std::string list;
  if (const verify::TableShape* t = table(table_name))
    for (const auto& c : t->columns) list += (list.empty() ? "" : ", ") + c;
  return list;
}

std::string MappingCatalog::table_list() const {
  std::string list;
  for (const auto& t : tables_) list += (list.empty() ? "" : ", ") + t.name;
  return list;
}

}  // namespace auditpitr::replay
