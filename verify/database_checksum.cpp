// Reading tables for checksums: catalog query plus libpqxx's COPY stream.
#include "verify/database_checksum.h"

#include <pqxx/stream_from>

#include "src/pg/connection.h"
#include "src/util/interrupt.h"

namespace auditpitr::verify {
namespace {

std::vector<std::string> parse_name_array(const pqxx::field& field) {
  std::vector<std::string> names;
  if (field.is_null()) return names;
  auto parser = field.as_array();
  for (auto item = parser.get_next(); item.first != pqxx::array_parser::done; item = parser.get_next()) {
    if (item.first == pqxx::array_parser::string_value) names.push_back(item.second);
  }
  return names;
}

}  // namespace

std::vector<TableShape> list_tables(pqxx::transaction_base& tx) {
  pqxx::result rows = tx.exec(std::string(R"SQL(
    SELECT n.nspname, c.relname,
      (SELECT array_agg(a.attname ORDER BY a.attnum) FROM pg_attribute a
        WHERE a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped AND a.attgenerated = ''),
      (SELECT array_agg(a.attname ORDER BY k.ord) FROM pg_index i
        CROSS JOIN LATERAL unnest(i.indkey) WITH ORDINALITY AS k(attnum, ord)
        JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum = k.attnum
        WHERE i.indrelid = c.oid AND i.indisprimary)
    FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
    WHERE )SQL") + pg::kUserTablesCondition +
                              " ORDER BY 1, 2");
  std::vector<TableShape> tables;
  for (const auto& row : rows) {
    TableShape t;
    t.schema = row[0].as<std::string>();
    t.name = row[1].as<std::string>();
    t.columns = parse_name_array(row[2]);
    t.primary_key = parse_name_array(row[3]);
    tables.push_back(std::move(t));
  }
  return tables;
}

TableChecksum checksum_table(pqxx::transaction_base& tx, const TableShape& shape, const RowTap& tap) {
  TableChecksummer summer(shape);
  std::string columns = pg::quote_ident_list(shape.columns);
  // libpqxx 6.4 puts the table text into the COPY statement as it is: quoting is ours.
  pqxx::stream_from stream(tx, pg::quote_qualified(shape.schema, shape.name) + " (" + columns + ")");
  std::string line;
  while (stream.get_raw_line(line)) {
    summer.add_row(line.data(), line.size());
    if (tap) tap(shape, std::string_view(line.data(), line.size() - (!line.empty() && line.back() == '\n')));
  }
  stream.complete();
  return summer.result();
}

std::vector<TableChecksum> checksum_tables(pqxx::transaction_base& tx, const std::vector<TableShape>& tables,
                                           const std::function<void(const TableShape&)>& progress, const RowTap& tap) {
  std::vector<TableChecksum> sums;
  // A COPY blocks in libpq, for a big table's rows or for a lock another session holds: on Ctrl-C
  // or SIGTERM it is cancelled on the server, and the error that follows is the stop's.
  InterruptWatch watch([&tx] { tx.conn().cancel_query(); });
  try {
    for (const auto& t : tables) {
      throw_if_interrupted();
      if (progress) progress(t);
      sums.push_back(checksum_table(tx, t, tap));
    }
  } catch (...) {
    throw_if_interrupted();
    throw;
  }
  return sums;
}

}  // namespace auditpitr::verify
