// TargetCatalog: lookups by table name.
#include "replay/apply/target_catalog.h"

#include "src/error.h"
#include "src/pg/connection.h"
#include "src/util/suggest.h"

namespace auditpitr::replay {

const TargetColumn* TargetTable::column(const std::string& column_name) const {
  for (const auto& c : columns)
    if (c.name == column_name) return &c;
  return nullptr;
}

std::string TargetTable::quoted() const { return pg::quote_qualified(schema, name); }

TargetCatalog::TargetCatalog(std::vector<TargetTable> tables) {
  for (auto& t : tables) {
    auto it = tables_.find(t.name);
    if (it == tables_.end() || t.schema == "public") tables_[t.name] = std::move(t);
  }
}

const TargetTable& TargetCatalog::table(const std::string& name) const {
  auto it = tables_.find(name);
  if (it == tables_.end()) {
    std::vector<std::string> names;
    for (const auto& [n, t] : tables_) names.push_back(n);
    std::string list;
    for (const auto& n : names) list += (list.empty() ? "" : ", ") + n;
    throw usage_error("the target database has no table '" + name + "'" + did_you_mean(name, names),
                      "its tables: " + list);
  }
  return it->second;
}

const TargetTable* TargetCatalog::find_qualified(const std::string& qualified_name) const {
  for (const auto& [name, t] : tables_)
    if (t.qualified_name() == qualified_name) return &t;
  return nullptr;
}

}  // namespace auditpitr::replay
