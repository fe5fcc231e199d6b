// Order-independent checksums of table contents, computed from COPY text rows.
// A table's checksum is the sum (mod 2^64) of one XXH3 hash per row, so the rows' physical order
// never matters while every changed, added or removed row does. One more sum per column hashes
// each value together with its row's primary key, so that comparisons can be limited to the
// columns an audit log can reproduce.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

namespace auditpitr::verify {

/// What is checksummed: a table, its columns in COPY order and its primary-key columns.
struct TableShape {
  std::string schema;
  std::string name;
  std::vector<std::string> columns;
  std::vector<std::string> primary_key;  ///< empty when the table has none
  std::string qualified() const { return schema + "." + name; }
};

struct TableChecksum {
  std::string schema;
  std::string name;
  std::vector<std::string> primary_key;
  uint64_t rows = 0;
  uint64_t row_sum = 0;                         ///< sum of per-row hashes
  std::map<std::string, uint64_t> column_sums;  ///< per column: sum of hash(pk, value)
  /// The columns in COPY order, which row_sum depends on. Empty when unknown (manifests keep only
  /// the names, in column_sums).
  std::vector<std::string> columns;
  std::string qualified() const { return schema + "." + name; }
};

/// The shape a checksum was taken of: its columns in COPY order when known, else in name order.
TableShape shape_of(const TableChecksum& checksum);

/// Accumulates rows in PostgreSQL's COPY text format (tab-separated, \N for NULL, no newline).
class TableChecksummer {
 public:
  explicit TableChecksummer(const TableShape& shape);
  void add_row(const char* line, std::size_t size);
  TableChecksum result() const;

 private:
  std::vector<std::size_t> pk_positions_;
  std::vector<std::string> columns_;
  std::vector<uint64_t> column_sums_;
  TableChecksum sum_;
  std::vector<std::pair<const char*, std::size_t>> fields_;
};

/// The name of the algorithm, recorded in manifests so a future change cannot be mistaken.
constexpr const char* kChecksumAlgorithm = "xxh3-64-sum/copy-text-v1";

}  // namespace auditpitr::verify
