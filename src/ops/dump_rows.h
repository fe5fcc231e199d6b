// Table rows read straight from a backup's dump, without restoring it: the checked dump is
// inflated (VerifiedDump), `pg_restore --data-only -t TABLE… -f -` writes the tables' COPY text,
// and that text is parsed as it streams. state reads one row this way, lost the baseline's rows.
#pragma once

#include <functional>
#include <string>
#include <vector>

#include "src/catalog/catalog.h"
#include "src/config/config.h"
#include "src/pg/process_runner.h"

namespace auditpitr::ops {

/// One row of a COPY block: its table ("public.projects", unquoted), the block's columns, and
/// the row's fields as COPY text ("\N" is NULL; see verify::rows::copy_unescape).
using DumpRowFn = std::function<void(const std::string& table, const std::vector<std::string>& columns,
                                     const std::vector<std::string>& fields)>;

/// Parses pg_restore's plain output: `COPY schema.table (a, "b c") FROM stdin;`, rows, `\.`.
class CopyTextReader {
 public:
  explicit CopyTextReader(DumpRowFn on_row) : on_row_(std::move(on_row)) {}
  void feed(const char* data, std::size_t size);
  bool saw_copy() const { return saw_copy_; }

 private:
  void line(const std::string& text);
  DumpRowFn on_row_;
  std::string pending_, table_;
  std::vector<std::string> columns_;
  bool in_copy_ = false, saw_copy_ = false;
};

/// Streams the rows of `tables` (names, as pg_restore -t takes them) of `backup` to `on_row`,
/// after checking the backup (a verification Error, exit 3, when it is damaged).
void read_dump_tables(const Config& config, const BackupFile& backup, const std::vector<std::string>& tables,
                      pg::ProcessRunner& runner, const DumpRowFn& on_row);

}  // namespace auditpitr::ops
