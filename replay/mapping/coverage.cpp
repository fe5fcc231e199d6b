// CoverageTracker: counts, per table and column, what the mapped changes write and how.
#include "replay/mapping/coverage.h"

#include <algorithm>

namespace auditpitr::replay {

void CoverageTracker::add(const MappedEvent& mapped) {
  const MappedOperation& op = *mapped.operation;
  if (operation_names_.size() <= op.id) operation_names_.resize(op.id + 1);
  if (operation_names_[op.id].empty()) operation_names_[op.id] = op.name;
  for (const CompactChange& change : mapped.changes) {
    if (tables_.size() <= change.table) tables_.resize(change.table + 1);
    TableUse& table = tables_[change.table];
    bool insert = change.action == ChangeAction::insert;
    bool update = change.action == ChangeAction::update;
    if (insert) ++table.inserts;
    else if (update) ++table.updates;
    else ++table.deletes;
    auto note = [&](const CompactValue& value) {
      if (table.columns.size() <= value.column) table.columns.resize(value.column + 1);
      ColumnUse& use = table.columns[value.column];
      use.written = true;
      use.at_insert |= insert;
      use.at_update |= update;
      use.logged_value |= value.source != ValueSource::event_time;
      if (std::find(use.operations.begin(), use.operations.end(), op.id) == use.operations.end())
        use.operations.push_back(op.id);
    };
    for (const auto& v : mapped.set(change)) note(v);
    if (insert)
      for (const auto& v : mapped.key(change)) note(v);
  }
}

std::vector<TableCoverage> CoverageTracker::result(const MappingCatalog& catalog) const {
  std::vector<TableCoverage> result;
  const auto& shapes = catalog.tables();
  for (std::size_t table = 0; table < shapes.size(); ++table) {
    const verify::TableShape& shape = shapes[table];
    TableCoverage t;
    t.table = shape.name;
    const TableUse* use = table < tables_.size() ? &tables_[table] : nullptr;
    if (use) {
      t.inserts = use->inserts;
      t.updates = use->updates;
      t.deletes = use->deletes;
    }
    for (std::size_t column = 0; column < shape.columns.size(); ++column) {
      ColumnCoverageEntry entry;
      entry.column = shape.columns[column];
      static const ColumnUse unused;
      const ColumnUse& c = use && column < use->columns.size() ? use->columns[column] : unused;
      bool is_key =
          std::find(shape.primary_key.begin(), shape.primary_key.end(), entry.column) != shape.primary_key.end();
      for (uint32_t id : c.operations) entry.written_by.insert(operation_names_[id]);
      if (is_key) entry.coverage = ColumnCoverage::key;
      else if (!c.written) entry.coverage = ColumnCoverage::never_written;
      else if (!c.logged_value) entry.coverage = ColumnCoverage::automatic_timestamp;
      else if (c.at_insert && c.at_update) entry.coverage = ColumnCoverage::created_and_updated;
      else if (c.at_insert) entry.coverage = ColumnCoverage::created_only;
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
