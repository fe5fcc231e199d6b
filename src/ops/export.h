// `auditpitr export STAMP --sql FILE`: a backup as plain SQL (pg_restore -f), the old guide's
// "Export Backup to SQL", written atomically: a reader never sees half a script.
#pragma once

#include <string>

#include "src/config/config.h"
#include "src/ops/reporter.h"
#include "src/pg/process_runner.h"

namespace auditpitr::ops {

struct ExportRequest {
  std::string stamp;     ///< or "latest"
  std::string alias;     ///< empty: the only configured database (a usage Error when there are several)
  std::string sql_file;  ///< "-": standard output
  bool no_owner = false;
  bool force = false;  ///< replace an existing file (never one in the backup folder)
};

struct ExportResult {
  std::string dbname;
  std::string stamp;
  std::string sql_file;
  uint64_t size = 0;
};

/// Checks the backup, then writes a temporary file beside `sql_file` with pg_restore -f from a
/// VerifiedDump (the bytes that were checked), fsyncs it and renames it into place (0600: the script
/// holds all the data). On failure nothing is left behind. Refuses (before any work) a target in the
/// backup folder, and an existing one without `force`; "-" writes the script to standard output.
ExportResult export_sql(const Config& config, const ExportRequest& request, pg::ProcessRunner& runner,
                        const Reporter& reporter);

}  // namespace auditpitr::ops
