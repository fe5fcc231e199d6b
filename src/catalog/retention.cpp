// plan_prune: sort every entry of the folder into ours (backups of configured databases, our
// temporary files) and not ours; mark what policy keeps, expire the rest of what is old enough.
#include "src/catalog/retention.h"

#include <sys/stat.h>

#include <algorithm>
#include <regex>
#include <set>

#include "src/catalog/stamp.h"
#include "src/util/fs.h"

namespace auditpitr {
namespace {

std::string period_key(std::time_t t, const char* format) {
  std::tm tm{};
  localtime_r(&t, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, format, &tm);
  return buf;
}

void keep(std::map<std::string, std::string>& kept, const std::string& stamp, const std::string& why) {
  if (stamp.empty()) return;
  std::string& reasons = kept[stamp];
  if ((", " + reasons + ", ").find(", " + why + ", ") == std::string::npos)
    reasons += (reasons.empty() ? "" : ", ") + why;
}

// Keeps the newest set of each of the last `count` periods that have backups (restic's rule).
void keep_generations(const std::vector<const BackupSet*>& sets, int count, const char* format, const char* label,
                      std::map<std::string, std::string>& kept) {
  std::set<std::string> seen;
  for (const BackupSet* s : sets) {
    if (static_cast<int>(seen.size()) >= count) break;
    std::string key = period_key(*stamp_to_time(s->stamp), format);
    if (seen.insert(key).second) keep(kept, s->stamp, std::string(label) + " " + key);
  }
}

class Sorter {
 public:
  Sorter(const Catalog& catalog, const PruneFacts& facts) : catalog_(catalog), facts_(facts) {}

  bool configured(const std::string& dbname) const {
    return std::find(facts_.databases.begin(), facts_.databases.end(), dbname) != facts_.databases.end();
  }
  bool cut_short(const BackupFile& dump) const { return facts_.cut_short.count(dump.path) > 0; }

  // Backups of configured databases that are not cut short: what retention weighs.
  bool holds_backups(const BackupSet& set) const {
    for (const auto& d : set.dumps)
      if (configured(d.dbname) && !cut_short(d)) return true;
    return false;
  }

  void sort_files(PrunePlan& plan) const {
    for (const auto& set : catalog_.sets()) {
      for (const auto& d : set.dumps) {
        if (!configured(d.dbname)) {
          plan.ignored.push_back({d.path, "database '" + d.dbname + "' is not in the configuration"});
          if (d.has_manifest)
            plan.ignored.push_back({d.manifest_path, "database '" + d.dbname + "' is not in the configuration"});
        } else if (cut_short(d)) {
          plan.leftovers.push_back({d.path, "written by auditpitr, no manifest, and " + facts_.cut_short.at(d.path)});
        }
      }
      for (const auto& a : set.archives) {
        if (archive_is_ours(a.name, facts_)) continue;
        plan.ignored.push_back({a.path, "no [[files]] entry is named '" + a.name + "'"});
        if (a.has_manifest) plan.ignored.push_back({a.manifest_path, "no [[files]] entry is named '" + a.name + "'"});
      }
      for (const auto& m : set.lone_manifests)
        plan.ignored.push_back({m, "a manifest whose dump or archive is not there"});
    }
    for (const auto& t : catalog_.temporary_files()) sort_temporary(t, plan);
    for (const auto& path : catalog_.unrecognised()) plan.ignored.push_back({path, "not a file auditpitr writes"});
  }

 private:
  // Ours: a regular file (or the link's temporary symlink) named after a file auditpitr writes
  // for a configured database, which no running process holds.
  void sort_temporary(const TemporaryFile& t, PrunePlan& plan) const {
    static const std::regex ours(
        R"(^(.+)_(\d{8}_\d{6}\.(dump\.gz(\.age)?|dump|manifest\.json)|latest\.dump\.gz(\.age)?)$)");
    static const std::regex archive(R"(^(.+)_\d{8}_\d{6}\.(tar\.gz(\.age)?|tar\.gz\.manifest\.json)$)");
    std::smatch m;
    std::string target = base_name(t.target);
    struct stat st {};
    bool ours_archive = std::regex_match(target, m, archive) && archive_is_ours(m[1], facts_);
    if (!ours_archive && (!std::regex_match(target, m, ours) || !configured(m[1]))) {
      plan.ignored.push_back({t.path, "not a temporary name auditpitr uses for a configured database"});
      return;
    }
    bool link_temp = !ours_archive && m[3].length() == 0;  // replace_symlink's temporary is itself a symlink
    if (::lstat(t.path.c_str(), &st) != 0 || !(S_ISREG(st.st_mode) || (link_temp && S_ISLNK(st.st_mode)))) {
      plan.ignored.push_back({t.path, "named like a temporary file of auditpitr's but not a file it writes"});
    } else if (file_being_written(t.path)) {
      plan.ignored.push_back({t.path, "a running auditpitr is writing it"});
    } else {
      plan.leftovers.push_back(
          {t.path, "temporary file of an auditpitr process that was stopped before finishing " + base_name(t.target)});
    }
  }

  const Catalog& catalog_;
  const PruneFacts& facts_;
};

}  // namespace

bool archive_is_ours(const std::string& name, const PruneFacts& facts) {
  return name == "uploads" || std::find(facts.files.begin(), facts.files.end(), name) != facts.files.end();
}

std::vector<std::string> files_to_delete(const BackupSet& set, const PruneFacts& facts) {
  std::vector<std::string> manifests, dumps;
  for (const auto& d : set.dumps) {
    if (std::find(facts.databases.begin(), facts.databases.end(), d.dbname) == facts.databases.end()) continue;
    if (d.has_manifest) manifests.push_back(d.manifest_path);
    dumps.push_back(d.path);
  }
  for (const auto& a : set.archives) {
    if (!archive_is_ours(a.name, facts)) continue;
    if (a.has_manifest) manifests.push_back(a.manifest_path);
    dumps.push_back(a.path);
  }
  manifests.insert(manifests.end(), dumps.begin(), dumps.end());
  return manifests;
}

PrunePlan plan_prune(const Catalog& catalog, const RetentionPolicy& policy, std::time_t now, const PruneFacts& facts) {
  PrunePlan plan;
  Sorter sorter(catalog, facts);
  sorter.sort_files(plan);

  std::vector<const BackupSet*> candidates, finished;
  for (const auto& set : catalog.sets()) {
    if (!sorter.holds_backups(set)) continue;
    candidates.push_back(&set);
    if (set.not_latest_reason().empty()) finished.push_back(&set);
  }
  keep(plan.kept, catalog.latest_stamp(facts.databases), "latest");
  for (const auto& db : facts.databases) {
    keep(plan.kept, catalog.latest_stamp({db}), "latest of '" + db + "'");
    for (const BackupSet* s : candidates) {
      const BackupFile* dump = s->dump_of(db);
      if (!dump || sorter.cut_short(*dump)) continue;
      keep(plan.kept, s->stamp, "newest of '" + db + "'");
      break;
    }
  }
  if (policy.uses_generations()) {
    keep_generations(finished, policy.keep_daily, "%Y-%m-%d", "daily", plan.kept);
    keep_generations(finished, policy.keep_weekly, "%G-W%V", "weekly", plan.kept);
    keep_generations(finished, policy.keep_monthly, "%Y-%m", "monthly", plan.kept);
  } else if (policy.retention_days == 0) {
    for (const BackupSet* s : candidates) keep(plan.kept, s->stamp, "retention keeps forever");
  }
  const double max_age = policy.retention_days * 86400.0;
  for (const BackupSet* s : candidates) {
    if (plan.kept.count(s->stamp)) continue;
    if (policy.retention_days > 0 && std::difftime(now, s->newest_mtime()) <= max_age) {
      keep(plan.kept, s->stamp, "younger than " + std::to_string(policy.retention_days) + " days");
      continue;
    }
    plan.expired.push_back(s);
  }
  return plan;
}

std::string describe_policy(const RetentionPolicy& policy) {
  std::string text = policy.retention_days > 0 ? std::to_string(policy.retention_days) + " days"
                                               : (policy.uses_generations() ? "" : "forever");
  if (policy.uses_generations()) {
    if (!text.empty()) text += "; ";
    text += "keep " + std::to_string(policy.keep_daily) + " daily, " + std::to_string(policy.keep_weekly) +
            " weekly, " + std::to_string(policy.keep_monthly) + " monthly";
  }
  return text;
}

}  // namespace auditpitr
