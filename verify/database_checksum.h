// Checksums of a whole database (or chosen tables) read through COPY inside a transaction,
// so that a backup's manifest and a later restore or recovery are measured the same way.
#pragma once

#include <functional>
#include <pqxx/pqxx>
#include <string_view>
#include <vector>

#include "verify/table_checksum.h"

namespace auditpitr::verify {

/// The ordinary tables of the database (system schemas and auditpitr's own bookkeeping schema
/// `auditpitr`, docs/replay.md, excluded), ordered by schema and name, with columns in attribute
/// order (generated columns excluded, as COPY does) and primary keys.
std::vector<TableShape> list_tables(pqxx::transaction_base& tx);

/// Each row of a table as it is checksummed: its COPY line without the newline.
using RowTap = std::function<void(const TableShape&, std::string_view line)>;

/// Streams `COPY table (columns) TO STDOUT` and checksums it, each row also handed to `tap`
/// (optional). The connection's output settings must be canonical (pg::Connection::set_canonical_output).
TableChecksum checksum_table(pqxx::transaction_base& tx, const TableShape& shape, const RowTap& tap = {});

/// All the given tables; `progress` (optional) is told each table as it starts. SIGINT/SIGTERM
/// cancel the COPY in progress and throw the stop's Error (src/util/interrupt.h).
std::vector<TableChecksum> checksum_tables(pqxx::transaction_base& tx, const std::vector<TableShape>& tables,
                                           const std::function<void(const TableShape&)>& progress = {},
                                           const RowTap& tap = {});

}  // namespace auditpitr::verify
