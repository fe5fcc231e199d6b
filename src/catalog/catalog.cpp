// Catalog: one readdir, file names matched against the old scripts' scheme.
#include "src/catalog/catalog.h"

#include <dirent.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <map>
#include <regex>

#include "src/catalog/stamp.h"
#include "src/error.h"
#include "src/util/fs.h"
#include "src/util/gzip.h"

namespace auditpitr {
namespace {

const std::regex kDumpName(R"(^(.+)_(\d{8}_\d{6})\.dump\.gz$)");
const std::regex kManifestName(R"(^(.+)_(\d{8}_\d{6})\.manifest\.json$)");
const std::regex kUploadsName(R"(^uploads_(\d{8}_\d{6})\.tar\.gz$)");
const std::regex kTempName(R"(\.tmp-\d+$)");

}  // namespace

std::string dump_file_name(const std::string& dbname, const std::string& stamp) {
  return dbname + "_" + stamp + ".dump.gz";
}
std::string manifest_file_name(const std::string& dbname, const std::string& stamp) {
  return dbname + "_" + stamp + ".manifest.json";
}
std::string latest_link_name(const std::string& dbname) { return dbname + "_latest.dump.gz"; }

const BackupFile* BackupSet::dump_of(const std::string& dbname) const {
  for (const auto& d : dumps)
    if (d.dbname == dbname) return &d;
  return nullptr;
}

std::time_t BackupSet::newest_mtime() const {
  std::time_t t = 0;
  for (const auto& d : dumps) t = std::max(t, d.mtime);
  return t;
}

bool BackupSet::complete() const {
  if (dumps.empty()) return false;
  for (const auto& d : dumps)
    if (d.incomplete()) return false;
  return true;
}

Catalog Catalog::scan(const std::string& dir) {
  Catalog catalog;
  catalog.dir_ = dir;
  DIR* d = ::opendir(dir.c_str());
  if (!d) {
    if (errno == ENOENT) return catalog;
    throw system_error("unable to read backup folder '" + dir + "'", errno);
  }
  std::map<std::string, BackupSet> by_stamp;
  std::map<std::string, std::string> manifests;  // path -> stamp
  while (struct dirent* entry = ::readdir(d)) {
    std::string name = entry->d_name;
    std::smatch m;
    std::string path = join_path(dir, name);
    if (std::regex_search(name, kTempName)) {
      catalog.temporary_files_.push_back(path);
    } else if (std::regex_match(name, m, kDumpName) && is_stamp(m[2])) {
      struct stat st {};
      if (::lstat(path.c_str(), &st) != 0 || !S_ISREG(st.st_mode)) continue;
      BackupFile f;
      f.dbname = m[1];
      f.stamp = m[2];
      f.path = path;
      f.manifest_path = join_path(dir, manifest_file_name(f.dbname, f.stamp));
      f.size = static_cast<uint64_t>(st.st_size);
      f.mtime = st.st_mtime;
      f.written_by_auditpitr = gzip_header_comment(path) == kDumpMarker;
      by_stamp[f.stamp].stamp = f.stamp;
      by_stamp[f.stamp].dumps.push_back(std::move(f));
    } else if (std::regex_match(name, m, kManifestName) && is_stamp(m[2])) {
      manifests[path] = m[2];
    } else if (std::regex_match(name, m, kUploadsName) && is_stamp(m[1])) {
      by_stamp[m[1]].stamp = m[1];
      by_stamp[m[1]].other_files.push_back(path);
    }
  }
  ::closedir(d);
  for (auto& [stamp, set] : by_stamp) {
    for (auto& f : set.dumps) {
      if (manifests.erase(f.manifest_path)) f.has_manifest = true;
    }
    std::sort(set.dumps.begin(), set.dumps.end(), [](auto& a, auto& b) { return a.dbname < b.dbname; });
  }
  for (auto& [path, stamp] : manifests) {  // a manifest whose dump is gone
    by_stamp[stamp].stamp = stamp;
    by_stamp[stamp].other_files.push_back(path);
  }
  for (auto& [stamp, set] : by_stamp) catalog.sets_.push_back(std::move(set));
  std::sort(catalog.sets_.begin(), catalog.sets_.end(), [](auto& a, auto& b) { return a.stamp > b.stamp; });
  return catalog;
}

const BackupSet* Catalog::find(const std::string& stamp) const {
  for (const auto& s : sets_)
    if (s.stamp == stamp) return &s;
  return nullptr;
}

std::string Catalog::linked_latest(const std::string& dbname) const {
  std::string link = join_path(dir_, latest_link_name(dbname));
  char target[4096];
  ssize_t n = ::readlink(link.c_str(), target, sizeof target - 1);
  if (n <= 0) return "";
  target[n] = 0;
  std::smatch m;
  std::string name = base_name(target);
  if (!std::regex_match(name, m, kDumpName) || m[1] != dbname) return "";
  const BackupSet* set = find(m[2]);
  if (!set || !set->dump_of(dbname)) return "";  // broken link
  return m[2];
}

std::string Catalog::newest_complete(const std::string& dbname) const {
  for (const auto& s : sets_) {
    const BackupFile* f = s.dump_of(dbname);
    if (f && !f->incomplete()) return s.stamp;
  }
  return "";
}

std::vector<std::string> Catalog::nearest_stamps(const std::string& stamp, std::size_t count) const {
  std::vector<std::pair<double, std::string>> ranked;
  auto wanted = stamp_to_time(stamp);
  for (const auto& s : sets_) {
    if (!s.complete()) continue;
    double distance = wanted ? std::abs(std::difftime(*stamp_to_time(s.stamp), *wanted)) : ranked.size();
    ranked.emplace_back(distance, s.stamp);
  }
  std::stable_sort(ranked.begin(), ranked.end());
  std::vector<std::string> out;
  for (std::size_t i = 0; i < ranked.size() && i < count; ++i) out.push_back(ranked[i].second);
  return out;
}

const BackupFile& Catalog::resolve(const std::string& stamp_or_latest, const std::string& dbname,
                                   std::string* note) const {
  std::string stamp = stamp_or_latest;
  if (stamp == "latest") {
    stamp = linked_latest(dbname);
    if (stamp.empty()) {
      stamp = newest_complete(dbname);
      if (stamp.empty())
        throw usage_error("no backup of '" + dbname + "' found in '" + dir_ + "'",
                          "create one with 'auditpitr backup'");
      if (note)
        *note = "the link '" + latest_link_name(dbname) + "' is missing or broken: using the newest backup, " + stamp;
    }
  } else if (!is_stamp(stamp)) {
    throw usage_error("'" + stamp + "' is not a backup stamp",
                      "stamps look like 20250123_140530 (see 'auditpitr list'), or use 'latest'");
  }
  const BackupSet* set = find(stamp);
  const BackupFile* file = set ? set->dump_of(dbname) : nullptr;
  if (!file) {
    std::string nearest;
    for (const auto& s : nearest_stamps(stamp)) nearest += (nearest.empty() ? "" : ", ") + s;
    throw usage_error("backup not found: no backup of '" + dbname + "' with stamp " + stamp + " in '" + dir_ + "'",
                      nearest.empty() ? "there are no backups yet: create one with 'auditpitr backup'"
                                      : "the nearest available stamps are: " + nearest);
  }
  if (file->incomplete())
    throw verification_error(
        "backup " + stamp + " of '" + dbname + "' is incomplete: it was interrupted before its manifest was written",
        "use another backup; 'auditpitr prune' removes interrupted ones");
  return *file;
}

}  // namespace auditpitr
