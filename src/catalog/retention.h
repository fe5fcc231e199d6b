// Which backups retention deletes: by age (file mtime, as the old script did), and when
// configured grandfather-father-son (the newest of each of the last N days, weeks, months).
// A pure function of the catalog, the policy and the clock, so it is tested without a server.
#pragma once

#include <ctime>
#include <map>
#include <string>
#include <vector>

#include "src/catalog/catalog.h"
#include "src/config/config.h"

namespace auditpitr {

struct PrunePlan {
  std::vector<const BackupSet*> expired;  ///< whole stamps to delete (every file of the stamp)
  std::map<std::string, std::string>
      kept;                            ///< stamp -> why it stays ("newest", "daily 2025-01-23", "younger than 30 days")
  std::vector<std::string> leftovers;  ///< files of interrupted backups: incomplete dumps, orphan manifests, temp files
};

/// The newest complete backup is never deleted, whatever the policy says. The plan points into
/// `catalog`, which must outlive it (hence no temporaries).
PrunePlan plan_prune(const Catalog& catalog, const RetentionPolicy& policy, std::time_t now);
PrunePlan plan_prune(Catalog&& catalog, const RetentionPolicy& policy, std::time_t now) = delete;

/// Every file of a backup set (dumps, manifests, uploads).
std::vector<std::string> files_of(const BackupSet& set);

/// "30 days", "30 days; keep 7 daily, 4 weekly, 12 monthly", "forever".
std::string describe_policy(const RetentionPolicy& policy);

}  // namespace auditpitr
