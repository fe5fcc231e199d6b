// `auditpitr backup`: for each database, a snapshot, a pg_dump of it compressed once into
// <dbname>_<stamp>.dump.gz, and a manifest with the snapshot's counts and checksums.
#pragma once

#include <string>
#include <vector>

#include "src/catalog/catalog.h"
#include "src/config/config.h"
#include "src/ops/file_archive.h"
#include "src/ops/prune.h"
#include "src/ops/reporter.h"
#include "src/pg/process_runner.h"

namespace auditpitr::ops {

struct DatabaseBackup {
  std::string alias;
  std::string dbname;
  std::string path;
  std::string manifest_path;
  std::string snapshot_time_utc;
  uint64_t size = 0;
  uint64_t uncompressed_size = 0;
  uint64_t rows = 0;
  std::size_t tables = 0;
  double seconds = 0;
};

struct BackupResult {
  std::string stamp;
  std::vector<DatabaseBackup> databases;
  std::vector<FilesBackup> files;  ///< the [[files]] archives, made after the dumps
  PruneResult retention;
};

/// Backs up the selected databases (all when `aliases` is empty) under one stamp, archives every
/// [[files]] folder after them (so that the files the dumps refer to are in the set), moves the
/// `_latest` links once all of them are written, then applies retention. On any failure, files of
/// the failing database are removed and the Error is rethrown: the databases done before it stay,
/// as a set the catalog lists as partial and never takes for `latest`.
BackupResult run_backup(const Config& config, const std::vector<std::string>& aliases, pg::ProcessRunner& runner,
                        const Reporter& reporter);

/// What the next backup of `dbs` is expected to need: the sizes of each one's newest complete
/// backup in `catalog` and of each [[files]] folder's newest archive (a first backup has nothing to go by: 0), and
/// which backups those are
/// ("portfolio_db's of 20250123_020000, ..."; empty when none). backup refuses to start, and status
/// says ATTENTION, when the backup folder's free space cannot hold it (room_for).
struct RoomNeeded {
  uint64_t bytes = 0;
  std::string from;
};
RoomNeeded room_needed_for_backup(const Config& config, const Catalog& catalog,
                                  const std::vector<const DatabaseConfig*>& dbs);

/// Version of auditpitr written into manifests.
extern const char* const kToolVersion;

}  // namespace auditpitr::ops
