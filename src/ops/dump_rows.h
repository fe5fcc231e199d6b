// Table rows read straight from a backup's dump, without restoring it: the checked dump is
// inflated (VerifiedDump), `pg_restore --data-only -t TABLE… -f -` writes the tables' COPY text,
// and that text is parsed as it streams. state reads one row this way, lost the baseline's rows.
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "src/catalog/catalog.h"
#include "src/config/config.h"
#include "src/ops/verified_dump.h"
#include "src/pg/pg_tools.h"
#include "src/pg/process_runner.h"

namespace auditpitr::ops {

/// One row of a COPY block: its table ("public.projects", unquoted), the block's columns, and
/// the row's fields as COPY text ("\N" is NULL; see verify::rows::copy_unescape).
using DumpRowFn = std::function<void(const std::string& table, const std::vector<std::string>& columns,
                                     const std::vector<std::string>& fields)>;

/// The same row as its line of COPY text, fields separated by tabs, not split (valid during the call).
using DumpLineFn =
    std::function<void(const std::string& table, const std::vector<std::string>& columns, std::string_view line)>;

/// Parses pg_restore's plain output: `COPY schema.table (a, "b c") FROM stdin;`, rows, `\.`.
class CopyTextReader {
 public:
  explicit CopyTextReader(DumpLineFn on_line) : on_line_(std::move(on_line)) {}
  void feed(const char* data, std::size_t size);
  bool saw_copy() const { return saw_copy_; }

 private:
  void line(std::string_view text);
  DumpLineFn on_line_;
  std::string pending_, table_;
  std::vector<std::string> columns_;
  bool in_copy_ = false, saw_copy_ = false;
};

/// A backup's dump, checked (a verification Error, exit 3, when it is damaged) and inflated into a
/// temporary copy pg_restore reads (VerifiedDump), with the pg_restore that suits it. It uses no
/// database: lost prepares it on a thread of its own while the logs are read.
class PreparedDump {
 public:
  PreparedDump(const Config& config, const BackupFile& backup, pg::ProcessRunner& runner);
  PreparedDump(const PreparedDump&) = delete;
  PreparedDump& operator=(const PreparedDump&) = delete;

  const BackupFile& backup() const { return backup_; }
  const std::string& archive_path() const { return archive_->path(); }
  const pg::Tool& pg_restore() const { return pg_restore_; }

 private:
  BackupFile backup_;
  std::unique_ptr<VerifiedDump> archive_;
  pg::Tool pg_restore_;
};

/// Streams the rows of `tables` (names, as pg_restore -t takes them) of `backup` to `on_row`,
/// after checking the backup (a verification Error, exit 3, when it is damaged).
void read_dump_tables(const Config& config, const BackupFile& backup, const std::vector<std::string>& tables,
                      pg::ProcessRunner& runner, const DumpRowFn& on_row);
/// Same, each row handed over as its line (rows whose field count is not the block's included).
void read_dump_lines(const Config& config, const BackupFile& backup, const std::vector<std::string>& tables,
                     pg::ProcessRunner& runner, const DumpLineFn& on_line);
/// Same, from a dump prepared ahead.
void read_dump_lines(const Config& config, const PreparedDump& dump, const std::vector<std::string>& tables,
                     pg::ProcessRunner& runner, const DumpLineFn& on_line);

}  // namespace auditpitr::ops
