#include "src/ops/backup_at.h"

#include "src/error.h"
#include "src/ops/analyze.h"
#include "verify/manifest.h"

namespace auditpitr::ops {

replay::TimePoint snapshot_of(const BackupFile& backup, bool& from_stamp) {
  from_stamp = true;
  if (backup.has_manifest) {
    try {
      if (auto t = replay::parse_rfc3339(verify::load_manifest(backup.manifest_path).snapshot_time_utc)) {
        from_stamp = false;
        return *t;
      }
    } catch (const Error&) {
      // judged by its stamp, as restore does with a damaged manifest
    }
  }
  return replay::parse_cli_time(backup.stamp, "the backup's stamp");
}

BackupAt newest_backup_at(const Catalog& catalog, const std::string& backup_dir, const std::string& dbname,
                          replay::TimePoint at, const std::string& hint) {
  std::vector<std::string> later;
  for (const auto& set : catalog.sets()) {  // newest first
    const BackupFile* dump = set.dump_of(dbname);
    if (!dump) continue;
    BackupAt chosen{*dump, {}, false};
    chosen.snapshot = snapshot_of(*dump, chosen.from_stamp);
    if (chosen.snapshot <= at) return chosen;
    later.push_back(set.stamp);
  }
  std::string existing = later.empty() ? "there is no backup of '" + dbname + "' in " + backup_dir
                                       : "its backups (" + join_names(later) + ") were all taken after it";
  throw usage_error("no backup of '" + dbname + "' was taken at or before " + display_time(at) + ": " + existing, hint);
}

}  // namespace auditpitr::ops
