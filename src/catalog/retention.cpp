// plan_prune: mark what policy keeps, expire the rest of what is old enough.
#include "src/catalog/retention.h"

#include <signal.h>

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

// Keeps the newest set of each of the last `count` periods that have backups (restic's rule).
void keep_generations(const std::vector<const BackupSet*>& sets, int count, const char* format, const char* label,
                      std::map<std::string, std::string>& kept) {
  std::set<std::string> seen;
  for (const BackupSet* s : sets) {
    if (static_cast<int>(seen.size()) >= count) break;
    std::string key = period_key(*stamp_to_time(s->stamp), format);
    if (seen.insert(key).second) kept.emplace(s->stamp, std::string(label) + " " + key);
  }
}

bool temp_file_is_stale(const std::string& path) {
  static const std::regex pid_suffix(R"(\.tmp-(\d+)$)");
  std::smatch m;
  if (!std::regex_search(path, m, pid_suffix)) return false;
  pid_t pid = static_cast<pid_t>(std::stol(m[1]));
  return ::kill(pid, 0) != 0;  // its writer is gone
}

}  // namespace

std::vector<std::string> files_of(const BackupSet& set) {
  std::vector<std::string> files;
  for (const auto& d : set.dumps) {
    files.push_back(d.path);
    if (d.has_manifest) files.push_back(d.manifest_path);
  }
  files.insert(files.end(), set.other_files.begin(), set.other_files.end());
  return files;
}

PrunePlan plan_prune(const Catalog& catalog, const RetentionPolicy& policy, std::time_t now) {
  PrunePlan plan;
  std::vector<const BackupSet*> complete;
  for (const auto& set : catalog.sets()) {
    if (set.complete()) {
      complete.push_back(&set);
      continue;
    }
    for (const auto& d : set.dumps) {
      if (!d.incomplete()) continue;
      plan.leftovers.push_back(d.path);
    }
    if (set.dumps.empty()) {
      for (const auto& f : set.other_files)
        if (f.size() > 14 && f.compare(f.size() - 14, 14, ".manifest.json") == 0) plan.leftovers.push_back(f);
    }
  }
  for (const auto& t : catalog.temporary_files())
    if (temp_file_is_stale(t)) plan.leftovers.push_back(t);

  if (complete.empty()) return plan;
  plan.kept.emplace(complete.front()->stamp, "newest");
  if (policy.uses_generations()) {
    keep_generations(complete, policy.keep_daily, "%Y-%m-%d", "daily", plan.kept);
    keep_generations(complete, policy.keep_weekly, "%G-W%V", "weekly", plan.kept);
    keep_generations(complete, policy.keep_monthly, "%Y-%m", "monthly", plan.kept);
  } else if (policy.retention_days == 0) {
    for (const BackupSet* s : complete) plan.kept.emplace(s->stamp, "retention keeps forever");
  }
  const double max_age = policy.retention_days * 86400.0;
  for (const BackupSet* s : complete) {
    if (plan.kept.count(s->stamp)) continue;
    if (policy.retention_days > 0 && std::difftime(now, s->newest_mtime()) <= max_age) {
      plan.kept.emplace(s->stamp, "younger than " + std::to_string(policy.retention_days) + " days");
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
