// The backup folder as a catalog: which backups exist, of which databases, with or without a
// manifest, complete or not. Files of the old scripts (no manifest) are backups too.
#pragma once

#include <cstdint>
#include <ctime>
#include <string>
#include <vector>

namespace auditpitr {

/// Text in the gzip header of every dump auditpitr writes: such a dump without its manifest is
/// an interrupted backup, never a valid one.
constexpr const char* kDumpMarker = "auditpitr backup";

struct BackupFile {
  std::string dbname;
  std::string stamp;
  std::string path;           ///< <dir>/<dbname>_<stamp>.dump.gz
  std::string manifest_path;  ///< <dir>/<dbname>_<stamp>.manifest.json (may not exist)
  bool has_manifest = false;
  bool written_by_auditpitr = false;  ///< the gzip header carries kDumpMarker
  uint64_t size = 0;
  std::time_t mtime = 0;
  /// Ours but no manifest: the backup was interrupted before it finished.
  bool incomplete() const { return written_by_auditpitr && !has_manifest; }
};

/// All files sharing one stamp.
struct BackupSet {
  std::string stamp;
  std::vector<BackupFile> dumps;         ///< one per database
  std::vector<std::string> other_files;  ///< uploads_<stamp>.tar.gz and orphan manifests
  const BackupFile* dump_of(const std::string& dbname) const;
  std::time_t newest_mtime() const;
  bool complete() const;  ///< at least one dump and none incomplete
};

class Catalog {
 public:
  /// Reads the folder (a missing folder is an empty catalog).
  static Catalog scan(const std::string& dir);

  const std::string& dir() const { return dir_; }
  /// Newest first.
  const std::vector<BackupSet>& sets() const { return sets_; }
  const BackupSet* find(const std::string& stamp) const;

  /// The stamp that `<dbname>_latest.dump.gz` points at; empty when missing or broken.
  std::string linked_latest(const std::string& dbname) const;
  /// The newest complete backup of the database; empty when there is none.
  std::string newest_complete(const std::string& dbname) const;

  /// The backup of `dbname` named by a stamp or "latest" (link first, else the newest, saying so
  /// through `note`). Throws a usage Error listing the nearest stamps when it does not exist, and
  /// a verification Error when the backup is incomplete.
  const BackupFile& resolve(const std::string& stamp_or_latest, const std::string& dbname,
                            std::string* note = nullptr) const;

  /// Up to `count` stamps closest in time to `stamp` (or the newest when it is not a stamp).
  std::vector<std::string> nearest_stamps(const std::string& stamp, std::size_t count = 3) const;

  /// Leftover temporary files of interrupted writers (*.tmp-<pid>).
  std::vector<std::string> temporary_files() const { return temporary_files_; }

 private:
  std::string dir_;
  std::vector<BackupSet> sets_;
  std::vector<std::string> temporary_files_;
};

/// File names, one place for the scheme shared with the old scripts.
std::string dump_file_name(const std::string& dbname, const std::string& stamp);
std::string manifest_file_name(const std::string& dbname, const std::string& stamp);
std::string latest_link_name(const std::string& dbname);

}  // namespace auditpitr
