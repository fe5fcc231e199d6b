// What prune may delete, as a pure function of the catalog, the policy, the clock and what was
// read of the files: backups by age (file mtime, as the old script did) or grandfather-father-son
// (the newest of each of the last N days, weeks, months), and files provably left by a killed
// auditpitr. Everything else in the folder is left alone, and said so.
#pragma once

#include <ctime>
#include <map>
#include <string>
#include <vector>

#include "src/catalog/catalog.h"
#include "src/config/config.h"

namespace auditpitr {

/// What prune knows beyond the folder's names.
struct PruneFacts {
  std::vector<std::string> databases;  ///< the configured database names: nothing else is touched
  /// The configured [[files]] names: their archives go with their set, as do the old scripts'
  /// uploads_<stamp>.tar.gz; other archives are left alone.
  std::vector<std::string> files;
  /// Dumps of auditpitr without a manifest whose gzip stream was read and found cut short: path ->
  /// why. Only these dumps are leftovers; a whole one is a backup whose manifest was lost.
  std::map<std::string, std::string> cut_short;
};

struct FileVerdict {
  std::string path;
  std::string reason;
};

struct PrunePlan {
  std::vector<const BackupSet*> expired;    ///< stamps whose backups retention deletes (files_to_delete)
  std::map<std::string, std::string> kept;  ///< stamp -> why it stays ("latest of 'a'", "daily 2025-01-23", ...)
  std::vector<FileVerdict> leftovers;       ///< files of killed auditpitr processes, and why they are that
  std::vector<FileVerdict> ignored;         ///< what prune does not touch, and why
};

/// Every configured database keeps its newest backup and its `latest`, whatever the policy says.
/// The plan points into `catalog`, which must outlive it (hence no temporaries).
PrunePlan plan_prune(const Catalog& catalog, const RetentionPolicy& policy, std::time_t now, const PruneFacts& facts);
PrunePlan plan_prune(Catalog&& catalog, const RetentionPolicy& policy, std::time_t now,
                     const PruneFacts& facts) = delete;

/// The files of an expired set that prune deletes: those of the configured databases, the archives
/// of the configured [[files]] and the old scripts' uploads. Manifests come before their dumps and
/// archives, so that a prune killed half-way leaves a dump without manifest (judged by its content)
/// rather than a manifest without its dump.
std::vector<std::string> files_to_delete(const BackupSet& set, const PruneFacts& facts);

/// Whether prune deletes an archive named `name` with its set: a configured [[files]] name, or the
/// old scripts' "uploads".
bool archive_is_ours(const std::string& name, const PruneFacts& facts);

/// "30 days", "30 days; keep 7 daily, 4 weekly, 12 monthly", "forever".
std::string describe_policy(const RetentionPolicy& policy);

}  // namespace auditpitr
