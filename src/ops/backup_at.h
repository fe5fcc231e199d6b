// Which backup describes a moment: recover, drill and state start from the newest backup at or
// before a time, judged by its manifest's snapshot (or, without one, its stamp).
#pragma once

#include <string>

#include "replay/log/time_parse.h"
#include "src/catalog/catalog.h"

namespace auditpitr::ops {

struct BackupAt {
  BackupFile file;
  replay::TimePoint snapshot;
  /// No readable manifest (old scripts): the stamp, when the backup started, stands in: a weaker bound.
  bool from_stamp = false;
};

/// The moment a backup describes: its manifest's snapshot, or its stamp (see BackupAt::from_stamp).
replay::TimePoint snapshot_of(const BackupFile& backup, bool& from_stamp);

/// The newest backup of `dbname` taken at or before `at`. A usage Error (exit 2) naming the later
/// backups when there is none; `hint` says what the command needs it for.
BackupAt newest_backup_at(const Catalog& catalog, const std::string& backup_dir, const std::string& dbname,
                          replay::TimePoint at, const std::string& hint);

}  // namespace auditpitr::ops
