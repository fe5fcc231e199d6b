// prune_backups: read what the names cannot tell (is a dump without manifest cut short?), plan
// with plan_prune, then unlink file by file and fsync the folder.
#include "src/ops/prune.h"

#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <set>

#include "src/error.h"
#include "src/util/fs.h"
#include "src/util/gzip.h"
#include "src/util/interrupt.h"

namespace auditpitr::ops {
namespace {

void remove_file(const std::string& path) {
  if (::unlink(path.c_str()) != 0 && errno != ENOENT) throw system_error("unable to delete '" + path + "'", errno);
}

// Reads the whole gzip stream: the reason when it ends inside a member, "" when it is whole,
// damaged otherwise or unreadable (none of which proves an interrupted writer).
std::string cut_short_reason(const std::string& path) {
  static thread_local char buffer[1 << 17];
  try {
    GzipReader reader(path);
    try {
      while (reader.read(buffer, sizeof buffer) > 0 && !interrupt_requested()) {
      }
    } catch (const Error& e) {
      if (reader.cut_short()) return "its gzip stream is cut short (" + gzip_problem(e) + ")";
    }
  } catch (const Error&) {  // cannot be opened: nothing is proven, the file stays
  }
  throw_if_interrupted();  // a file read only in part proves nothing either
  return "";
}

PruneFacts read_facts(const Config& config, const Catalog& catalog) {
  PruneFacts facts;
  for (const auto& db : config.databases) facts.databases.push_back(db.dbname);
  for (const auto& f : config.files) facts.files.push_back(f.name);
  for (const auto& set : catalog.sets())
    for (const auto& d : set.dumps) {
      bool configured = std::find(facts.databases.begin(), facts.databases.end(), d.dbname) != facts.databases.end();
      // An encrypted dump is renamed into place only once age has written its last byte: never cut short.
      if (!d.manifest_missing() || !configured || d.encrypted) continue;
      std::string reason = cut_short_reason(d.path);
      if (!reason.empty()) facts.cut_short[d.path] = reason;
    }
  return facts;
}

}  // namespace

PruneResult prune_backups(const Config& config, bool dry_run, std::time_t now, const Reporter& reporter) {
  PruneResult result;
  result.dry_run = dry_run;
  Catalog catalog = Catalog::scan(config.backup_dir);
  PruneFacts facts = read_facts(config, catalog);
  PrunePlan plan = plan_prune(catalog, config.retention, now, facts);
  for (const auto& [stamp, why] : plan.kept) result.kept.emplace_back(stamp, why);
  const std::string verb = dry_run ? "would delete" : "deleting";
  std::set<std::string> deleted;
  auto delete_file = [&](const std::string& file, const std::string& why) {
    if (!deleted.insert(file).second) return;
    throw_if_interrupted();  // the files not yet deleted are found again by the next prune
    reporter.info(verb + " " + base_name(file) + " (" + why + ")");
    if (!dry_run) remove_file(file);
    result.deleted_files.push_back(file);
  };
  for (const auto& leftover : plan.leftovers) {
    delete_file(leftover.path, leftover.reason);
    result.leftovers.push_back(leftover);
  }
  for (const BackupSet* set : plan.expired) {
    result.deleted_stamps.push_back(set->stamp);
    for (const auto& file : files_to_delete(*set, facts))
      delete_file(
          file, "backup " + set->stamp + " is not kept by the retention policy: " + describe_policy(config.retention));
  }
  for (const auto& ignored : plan.ignored)
    reporter.info("leaving " + base_name(ignored.path) + " alone (" + ignored.reason + ")");
  result.ignored = plan.ignored;
  if (!dry_run && !result.deleted_files.empty()) fsync_directory(config.backup_dir);
  return result;
}

}  // namespace auditpitr::ops
