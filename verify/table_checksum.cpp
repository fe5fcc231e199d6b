// TableChecksummer: split a COPY line on tabs (COPY escapes tabs inside values), hash, add.
#include "verify/table_checksum.h"

#include <xxhash.h>

#include <algorithm>

#include "src/error.h"

namespace auditpitr::verify {

TableChecksummer::TableChecksummer(const TableShape& shape) : columns_(shape.columns) {
  sum_.schema = shape.schema;
  sum_.name = shape.name;
  sum_.primary_key = shape.primary_key;
  sum_.columns = shape.columns;
  for (const auto& key : shape.primary_key) {
    auto it = std::find(columns_.begin(), columns_.end(), key);
    if (it == columns_.end())
      throw runtime_error("primary key column '" + key + "' of " + shape.qualified() + " is not among its columns");
    pk_positions_.push_back(static_cast<std::size_t>(it - columns_.begin()));
  }
  column_sums_.assign(columns_.size(), 0);
}

void TableChecksummer::add_row(const char* line, std::size_t size) {
  ++sum_.rows;
  sum_.row_sum += XXH3_64bits(line, size);
  fields_.clear();
  const char* start = line;
  const char* end = line + size;
  for (const char* p = line; p <= end; ++p) {
    if (p == end || *p == '\t') {
      fields_.emplace_back(start, static_cast<std::size_t>(p - start));
      start = p + 1;
    }
  }
  if (fields_.size() != columns_.size())
    throw runtime_error("table " + sum_.qualified() + ": a row has " + std::to_string(fields_.size()) +
                        " fields, expected " + std::to_string(columns_.size()));
  // The key hash seeds every column hash: a value moved to another row changes the sum.
  XXH64_hash_t key = 0;
  for (std::size_t pos : pk_positions_) key = XXH3_64bits_withSeed(fields_[pos].first, fields_[pos].second, key);
  for (std::size_t i = 0; i < fields_.size(); ++i)
    column_sums_[i] += XXH3_64bits_withSeed(fields_[i].first, fields_[i].second, key);
}

TableChecksum TableChecksummer::result() const {
  TableChecksum out = sum_;
  for (std::size_t i = 0; i < columns_.size(); ++i) out.column_sums[columns_[i]] = column_sums_[i];
  return out;
}

TableShape shape_of(const TableChecksum& checksum) {
  TableShape shape{checksum.schema, checksum.name, checksum.columns, checksum.primary_key};
  if (shape.columns.empty())
    for (const auto& column : checksum.column_sums) shape.columns.push_back(column.first);
  return shape;
}

}  // namespace auditpitr::verify
