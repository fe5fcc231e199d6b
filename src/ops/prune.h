// Deleting what retention expires, and the leftovers of killed auditpitr processes; saying why
// for each file deleted, and naming what is left alone.
#pragma once

#include <ctime>
#include <string>
#include <vector>

#include "src/catalog/retention.h"
#include "src/config/config.h"
#include "src/ops/reporter.h"

namespace auditpitr::ops {

struct PruneResult {
  std::vector<std::string> deleted_stamps;
  std::vector<std::string> deleted_files;                 ///< every file removed (or that would be, on a dry run)
  std::vector<FileVerdict> leftovers;                     ///< files of killed processes among them, with why
  std::vector<FileVerdict> ignored;                       ///< what prune left alone, with why
  std::vector<std::pair<std::string, std::string>> kept;  ///< stamp, reason
  bool dry_run = false;
};

/// Applies the configured retention to the backup folder. The caller holds the folder's lock, so
/// no backup is writing there. Dumps of auditpitr without a manifest are read whole (gzip) first:
/// only one provably cut short is deleted as a leftover.
PruneResult prune_backups(const Config& config, bool dry_run, std::time_t now, const Reporter& reporter);

}  // namespace auditpitr::ops
