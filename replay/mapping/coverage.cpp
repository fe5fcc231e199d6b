// CoverageTracker: counts, per table and column, what the mapped changes write and how.
#include "replay/mapping/coverage.h"

#include <algorithm>

namespace auditpitr::replay {

void CoverageTracker::add(const RowChange& change) {
  TableUse& table = tables_[change.table];
  bool insert = change.action == ChangeAction::insert;
  bool update = change.action == ChangeAction::update;
  if (insert) ++table.inserts;
  else if (update) ++table.updates;
  else ++table.deletes;
  auto note = [&](const ColumnValue& value) {
    ColumnUse& use = table.columns[value.column];
    use.at_insert |= insert;
    use.at_update |= update;
    use.logged_value |= value.origin != ValueOrigin::event_time;
    use.operations.insert(change.operation);
  };
  for (const auto& v : change.set) note(v);
  if (insert)
    for (const auto& k : change.key) note(k);
}

std::vector<TableCoverage> CoverageTracker::result(const MappingCatalog& catalog) const {
  std::vector<TableCoverage> result;
  for (const auto& shape : catalog.tables()) {
    TableCoverage t;
    t.table = shape.name;
    auto found = tables_.find(shape.name);
    const TableUse* use = found == tables_.end() ? nullptr : &found->second;
    if (use) {
      t.inserts = use->inserts;
      t.updates = use->updates;
      t.deletes = use->deletes;
    }
    for (const auto& column : shape.columns) {
      ColumnCoverageEntry entry;
      entry.column = column;
      auto c = use ? use->columns.find(column) : decltype(use->columns.end()){};
      bool written = use && c != use->columns.end();
      bool is_key = std::find(shape.primary_key.begin(), shape.primary_key.end(), column) != shape.primary_key.end();
      if (written) entry.written_by = c->second.operations;
      if (is_key) entry.coverage = ColumnCoverage::key;
      else if (!written) entry.coverage = ColumnCoverage::never_written;
      else if (!c->second.logged_value) entry.coverage = ColumnCoverage::automatic_timestamp;
      else if (c->second.at_insert && c->second.at_update) entry.coverage = ColumnCoverage::created_and_updated;
      else if (c->second.at_insert) entry.coverage = ColumnCoverage::created_only;
      else entry.coverage = ColumnCoverage::updated_only;
      t.columns.push_back(std::move(entry));
    }
    result.push_back(std::move(t));
  }
  return result;
}

const char* coverage_name(ColumnCoverage coverage) {
  switch (coverage) {
    case ColumnCoverage::key: return "key";
    case ColumnCoverage::created_and_updated: return "created_and_updated";
    case ColumnCoverage::created_only: return "created_only";
    case ColumnCoverage::updated_only: return "updated_only";
    case ColumnCoverage::automatic_timestamp: return "automatic_timestamp";
    case ColumnCoverage::never_written: return "never_written";
  }
  return "?";
}

const char* coverage_meaning(ColumnCoverage coverage) {
  switch (coverage) {
    case ColumnCoverage::key: return "identifies rows";
    case ColumnCoverage::created_and_updated: return "written by logged creates and updates";
    case ColumnCoverage::created_only: return "written only at creation: later changes are not logged, may be stale";
    case ColumnCoverage::updated_only: return "written only by updates: new rows start with the default";
    case ColumnCoverage::automatic_timestamp: return "event time: reflects logged changes only";
    case ColumnCoverage::never_written: return "never written by any event: keeps the backup's value or the default";
  }
  return "?";
}

}  // namespace auditpitr::replay
