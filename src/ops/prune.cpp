// prune_backups: plan with plan_prune, then unlink file by file and fsync the folder.
#include "src/ops/prune.h"

#include <unistd.h>

#include <cerrno>

#include "src/error.h"
#include "src/util/fs.h"

namespace auditpitr::ops {
namespace {

void remove_file(const std::string& path) {
  if (::unlink(path.c_str()) != 0 && errno != ENOENT) throw system_error("unable to delete '" + path + "'", errno);
}

}  // namespace

PruneResult prune_backups(const Config& config, bool dry_run, std::time_t now, const Reporter& reporter) {
  PruneResult result;
  result.dry_run = dry_run;
  Catalog catalog = Catalog::scan(config.backup_dir);
  PrunePlan plan = plan_prune(catalog, config.retention, now);
  for (const auto& [stamp, why] : plan.kept) result.kept.emplace_back(stamp, why);
  const std::string verb = dry_run ? "would delete" : "deleting";
  for (const BackupSet* set : plan.expired) {
    result.deleted_stamps.push_back(set->stamp);
    for (const auto& file : files_of(*set)) {
      reporter.info(verb + " " + base_name(file));
      if (!dry_run) remove_file(file);
      result.deleted_files.push_back(file);
    }
  }
  for (const auto& file : plan.leftovers) {
    reporter.info(verb + " " + base_name(file) + " (left by an interrupted backup)");
    if (!dry_run) remove_file(file);
    result.leftovers.push_back(file);
    result.deleted_files.push_back(file);
  }
  if (!dry_run && !result.deleted_files.empty()) fsync_directory(config.backup_dir);
  return result;
}

}  // namespace auditpitr::ops
