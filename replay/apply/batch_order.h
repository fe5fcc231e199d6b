// The order in which the PostgreSQL sink sends a batch's changes: the log's order, loosened just
// enough that changes of one statement shape on different rows come together and share set-based
// statements (docs/replay.md, "Batches"). Each change is placed in the earliest "wave" after every
// earlier change it depends on; waves go out in turn, and inside a wave the changes are sorted by
// shape. A change depends on an earlier one when
//   - both touch the same row (its primary key);
//   - one sets a foreign key pointing at the row the other touches (parents are created before
//     their children, and a child written before its parent's change stays before it);
//   - the earlier one is a cascading delete reaching the later one's table, or the later one is a
//     cascading delete reaching the earlier one's table (a cascade sees the rows alive at its time);
//   - either is a real delete (the database's own ON DELETE actions may reach any table).
// Whatever it cannot reason about keeps the log's order for the whole batch: a table that is not
// set_based (another unique key, a trigger, a rule), a foreign key of several columns, a key that
// is not an integer in canonical form, an update of a key column.
#pragma once

#include <cstddef>
#include <string>
#include <vector>

#include "replay/apply/target_catalog.h"
#include "replay/mapping/mapping.h"

namespace auditpitr::replay {

/// A permutation of 0..changes.size()-1: the order to send `changes` in. `shapes` are their
/// statement_shape()s.
std::vector<std::size_t> batch_order(const std::vector<const RowChange*>& changes,
                                     const std::vector<std::string>& shapes, const TargetCatalog& catalog);

}  // namespace auditpitr::replay
