#include "replay/apply/batch_order.h"

#include <algorithm>
#include <numeric>
#include <optional>
#include <unordered_map>

#include "replay/apply/row_statement.h"

namespace auditpitr::replay {
namespace {

// Assigns waves to changes in log order, remembering for each row and table the waves that later
// changes must follow.
class WavePlanner {
 public:
  explicit WavePlanner(const TargetCatalog& catalog) : catalog_(catalog) {}

  /// The change's wave (1, 2, ...); nullopt when it is beyond what the planner reasons about.
  std::optional<std::size_t> place(const RowChange& change) {
    const TargetTable* table = reorderable(change.table);
    if (!table) return std::nullopt;
    std::optional<std::string> row = row_of(*table, change);
    if (!row) return std::nullopt;
    std::vector<std::string> parents;
    for (const auto& [column, parent] : table->references)
      if (const ColumnValue* set = change.find_set(column); set && !set->value.is_null()) {
        if (!canonical_integer(set->value)) return std::nullopt;
        parents.push_back(parent + '\x1f' + set->value.text + ',');  // row_of of the parent's row
      }
    std::vector<std::string> cascaded;
    bool real_delete = change.action == ChangeAction::remove;
    if (!reached_tables(change.cascade, cascaded, real_delete)) return std::nullopt;

    Rows& own = rows_[*row];
    Table& own_table = tables_[table->qualified_name()];
    std::size_t after = std::max({full_barrier_, own_table.cascaded, own.written, own.read});
    for (const auto& p : parents) after = std::max(after, rows_[p].written);
    for (const auto& t : cascaded) after = std::max(after, tables_[t].latest);
    if (real_delete) after = std::max(after, latest_);

    std::size_t wave = after + 1;
    own.written = wave;
    own_table.latest = std::max(own_table.latest, wave);
    for (const auto& p : parents) rows_[p].read = std::max(rows_[p].read, wave);
    for (const auto& t : cascaded) {
      tables_[t].cascaded = wave;
      tables_[t].latest = std::max(tables_[t].latest, wave);
    }
    if (real_delete) full_barrier_ = wave;
    latest_ = std::max(latest_, wave);
    return wave;
  }

 private:
  struct Rows {
    std::size_t written = 0;  // the last wave that changed the row
    std::size_t read = 0;     // the latest wave that pointed a foreign key at it
  };
  struct Table {
    std::size_t cascaded = 0;  // the last wave whose cascade reached the table
    std::size_t latest = 0;    // the latest wave of any change to it
  };

  const TargetTable* reorderable(const std::string& name) const {
    const TargetTable& t = catalog_.table(name);
    return t.set_based && t.plain_references ? &t : nullptr;
  }

  // "schema.table\x1f" + group_row: equal for two changes exactly when their row is.
  static std::optional<std::string> row_of(const TargetTable& table, const RowChange& change) {
    if (change.key.empty()) return std::nullopt;
    for (const auto& k : change.key)
      if (!canonical_integer(k.value)) return std::nullopt;
    for (const auto& s : change.set)  // a key that changes: later changes name the row differently
      for (const auto& k : change.key)
        if (s.column == k.column) return std::nullopt;
    return table.qualified_name() + '\x1f' + group_row(change);
  }

  // The tables `cascade` reaches, recursively; false when one of them is beyond the planner.
  bool reached_tables(const std::vector<CascadeDelete>& cascade, std::vector<std::string>& out,
                      bool& real_delete) const {
    for (const auto& child : cascade) {
      const TargetTable* t = reorderable(child.table);
      if (!t) return false;
      out.push_back(t->qualified_name());
      if (child.soft_delete_column.empty()) real_delete = true;
      if (!reached_tables(child.children, out, real_delete)) return false;
    }
    return true;
  }

  const TargetCatalog& catalog_;
  std::unordered_map<std::string, Rows> rows_;
  std::unordered_map<std::string, Table> tables_;
  std::size_t full_barrier_ = 0;  // the last real delete's wave
  std::size_t latest_ = 0;        // the latest wave so far
};

}  // namespace

std::vector<std::size_t> batch_order(const std::vector<const RowChange*>& changes,
                                     const std::vector<std::string>& shapes, const TargetCatalog& catalog) {
  std::vector<std::size_t> order(changes.size());
  std::iota(order.begin(), order.end(), 0);
  std::vector<std::size_t> waves;
  waves.reserve(changes.size());
  WavePlanner planner(catalog);
  for (const RowChange* change : changes) {
    std::optional<std::size_t> wave = planner.place(*change);
    if (!wave) return order;
    waves.push_back(*wave);
  }
  std::stable_sort(order.begin(), order.end(), [&](std::size_t a, std::size_t b) {
    if (waves[a] != waves[b]) return waves[a] < waves[b];
    return shapes[a] < shapes[b];
  });
  return order;
}

}  // namespace auditpitr::replay
