// The backup folder as a catalog: which backups exist, of which databases, with or without a
// manifest, which runs stopped part-way, and what `latest` means. Files of the old scripts (no
// manifest) are backups too. Reading only: what may be deleted is retention's question.
#pragma once

#include <cstdint>
#include <ctime>
#include <string>
#include <vector>

namespace auditpitr {

/// Text at the start of the gzip header comment of every dump auditpitr writes.
constexpr const char* kDumpMarker = "auditpitr backup";

/// Text of the gzip header comment of every file archive auditpitr writes.
constexpr const char* kArchiveMarker = "auditpitr archive";

/// The gzip header comment of a dump written by a run that backs up `run_databases` and archives
/// the [[files]] `run_files`: the marker, then both lists, so that a dump tells which set it
/// belongs to even without its manifest ("; files=" only when there are archives).
std::string dump_comment(const std::vector<std::string>& run_databases, const std::vector<std::string>& run_files = {});

struct BackupFile {
  std::string dbname;
  std::string stamp;
  std::string path;           ///< <dir>/<dbname>_<stamp>.dump.gz[.age]
  std::string manifest_path;  ///< <dir>/<dbname>_<stamp>.manifest.json (may not exist)
  /// The manifest file exists. Whether it is valid is known only once read: a damaged one is
  /// treated as missing (ops::check_backup says so), never as a reason to distrust the dump.
  bool has_manifest = false;
  bool written_by_auditpitr = false;  ///< the gzip header starts with kDumpMarker, or it is encrypted
  bool encrypted = false;             ///< <dbname>_<stamp>.dump.gz.age: age-encrypted (docs/encryption.md)
  /// What the run that wrote it backed up (empty: not recorded): from the gzip header comment, or for
  /// an encrypted dump from its manifest.
  std::vector<std::string> run_databases;
  std::vector<std::string> run_files;  ///< the [[files]] archives that run made (empty: none or not recorded)
  uint64_t size = 0;
  std::time_t mtime = 0;
  /// Written by auditpitr, which always writes a manifest, but none is there.
  bool manifest_missing() const { return written_by_auditpitr && !has_manifest; }
};

/// A folder's archive in a set: <name>_<stamp>.tar.gz ([[files]], or the old scripts' uploads).
struct ArchiveFile {
  std::string name;  ///< the [[files]] name ("uploads")
  std::string stamp;
  std::string path;           ///< <dir>/<name>_<stamp>.tar.gz[.age]
  std::string manifest_path;  ///< <dir>/<name>_<stamp>.tar.gz.manifest.json (may not exist)
  bool has_manifest = false;
  bool written_by_auditpitr = false;  ///< the gzip header starts with kArchiveMarker, or it is encrypted
  bool encrypted = false;             ///< <name>_<stamp>.tar.gz.age (docs/encryption.md)
  uint64_t size = 0;
  std::time_t mtime = 0;
  bool manifest_missing() const { return written_by_auditpitr && !has_manifest; }
};

/// All files sharing one stamp: the backup set of one run.
struct BackupSet {
  std::string stamp;
  std::vector<BackupFile> dumps;            ///< one per database, by name
  std::vector<ArchiveFile> archives;        ///< one per [[files]] name (old scripts: uploads), by name
  std::vector<std::string> lone_manifests;  ///< manifests whose dump or archive is not there
  /// Every archive of the set and each archive's manifest (paths): what a copy of the whole set
  /// takes beside its dumps and their manifests.
  std::vector<std::string> other_files;
  const BackupFile* dump_of(const std::string& dbname) const;
  const ArchiveFile* archive_of(const std::string& name) const;
  std::time_t newest_mtime() const;
  /// Databases the run meant to back up whose dump is not there: it stopped part-way (or is still
  /// running). Empty for a whole set, and for the old scripts' sets, which record no plan.
  std::vector<std::string> missing_databases() const;
  /// [[files]] archives the run meant to make that are not there (it stopped before them).
  std::vector<std::string> missing_archives() const;
  bool partial() const { return !missing_databases().empty() || !missing_archives().empty(); }
  /// "the run stopped before backing up 'b' and archiving 'uploads'" ("" when whole).
  std::string partial_reason() const;
  /// Why this set cannot be `latest` ("" when it can): dumps or archives missing, or a dump or
  /// archive of auditpitr's without its manifest (the run stopped before writing it, or it was
  /// lost: either way the run is not proven finished).
  std::string not_latest_reason() const;
};

/// A file named like a temporary file (fs.h's temporary_file_target), and the name it stands for.
struct TemporaryFile {
  std::string path;
  std::string target;  ///< the final path it would have been renamed to
};

class Catalog {
 public:
  /// Reads the folder (a missing folder is an empty catalog).
  static Catalog scan(const std::string& dir);
  /// A catalog of sets known otherwise (an off-site copy's records): `dir` names where they are.
  static Catalog of_sets(std::string dir, std::vector<BackupSet> sets);

  const std::string& dir() const { return dir_; }
  /// Newest first.
  const std::vector<BackupSet>& sets() const { return sets_; }
  const BackupSet* find(const std::string& stamp) const;

  /// What `latest` means for these databases together: the newest set that is not partial and
  /// holds a dump of each. Empty when there is none.
  std::string latest_stamp(const std::vector<std::string>& dbnames) const;

  /// The stamp named by a stamp or "latest" for these databases: one stamp for all of them. For
  /// "latest", `note` says when some database has a newer backup that is not used (partial set,
  /// or a set without the others). Throws a usage Error when it is not a stamp or there is none.
  std::string resolve_stamp(const std::string& stamp_or_latest, const std::vector<std::string>& dbnames,
                            std::string* note = nullptr) const;

  /// The backup of `dbname` named by a stamp or "latest". Throws a usage Error listing the
  /// nearest stamps when it does not exist, and a verification Error when the set is partial
  /// and lacks it.
  const BackupFile& resolve(const std::string& stamp_or_latest, const std::string& dbname,
                            std::string* note = nullptr) const;

  /// Up to `count` stamps closest in time to `stamp` (or the newest when it is not a stamp).
  std::vector<std::string> nearest_stamps(const std::string& stamp, std::size_t count = 3) const;

  /// Entries named like temporary files (whose they are is for the reader to decide).
  const std::vector<TemporaryFile>& temporary_files() const { return temporary_files_; }
  /// Entries that are neither backup files nor named like temporary files nor auditpitr's lock.
  const std::vector<std::string>& unrecognised() const { return unrecognised_; }

 private:
  std::string dir_;
  std::vector<BackupSet> sets_;
  std::vector<TemporaryFile> temporary_files_;
  std::vector<std::string> unrecognised_;
};

/// Appended to the names of encrypted backup files and their latest links: the old scripts'
/// "*.dump.gz" never matches them, so none of their gunzips is handed an encrypted file.
constexpr const char* kEncryptedSuffix = ".age";
/// Whether a backup file's name says it is encrypted (ends in kEncryptedSuffix).
bool encrypted_name(const std::string& name);

/// File names, one place for the scheme shared with the old scripts.
std::string dump_file_name(const std::string& dbname, const std::string& stamp, bool encrypted = false);
std::string manifest_file_name(const std::string& dbname, const std::string& stamp);
std::string latest_link_name(const std::string& dbname, bool encrypted = false);
std::string archive_file_name(const std::string& name, const std::string& stamp, bool encrypted = false);
std::string archive_manifest_file_name(const std::string& name, const std::string& stamp);

/// "a, b and c".
std::string join_names(const std::vector<std::string>& names);

}  // namespace auditpitr
