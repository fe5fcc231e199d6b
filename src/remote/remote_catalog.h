// What an off-site copy holds: the backup files at the remote's root under their local names, and
// per set a record written last by push (pushed/<stamp>.json: each file's size and sha256), so that
// a set whose push stopped part-way is recognisable as such: it has no record.
#pragma once

#include <cstdint>
#include <ctime>
#include <optional>
#include <string>
#include <vector>

#include "src/catalog/catalog.h"
#include "src/remote/remote_store.h"

namespace auditpitr::remote {

/// Where push keeps its records and the audit logs, relative to the remote's root.
constexpr const char* kPushedFolder = "pushed";
constexpr const char* kAuditFolder = "audit";

struct PushedFile {
  std::string name;  ///< its name, at the remote's root as in the backup folder
  /// "dump", "manifest" (a dump's), "archive" ([[files]] or the old scripts' uploads_<stamp>.tar.gz)
  /// or "archive_manifest"
  std::string kind;
  std::string dbname;   ///< dumps and their manifests
  std::string archive;  ///< archives and their manifests: the [[files]] name
  uint64_t size = 0;
  std::string sha256;
  std::time_t mtime = 0;                   ///< of the local file when it was pushed: retention by age
  bool written_by_auditpitr = false;       ///< dumps and archives: the gzip header's marker
  std::vector<std::string> run_databases;  ///< dumps: what the run backed up
  std::vector<std::string> run_files;      ///< dumps: the archives the run made
};

struct PushRecord {
  std::string stamp;
  std::string pushed_at;    ///< RFC 3339, UTC
  std::string verified_by;  ///< how each copy was verified: "sha256", "sha1", "md5" (the remote's) or "download"
  std::vector<PushedFile> files;
  const PushedFile* file(const std::string& name) const;
};

/// "pushed/<stamp>.json".
std::string record_path(const std::string& stamp);
/// One line of JSON (records are read back concatenated).
std::string record_json(const PushRecord& record);

struct RemoteSet {
  std::string stamp;
  std::optional<PushRecord> record;   ///< none: the push did not finish
  std::vector<RemoteObject> files;    ///< backup files at the root with this stamp
  std::vector<std::string> problems;  ///< why a recorded set is not whole there (a file missing or resized)
  bool complete() const { return record && problems.empty(); }
  /// "complete", "incomplete: the push did not finish (no record)", "damaged: …".
  std::string state() const;
};

struct RemoteListing {
  std::string where;                    ///< the store's description
  std::vector<RemoteSet> sets;          ///< newest first
  std::vector<RemoteObject> temporary;  ///< temporary names of a push (or pull) that stopped part-way
  std::vector<RemoteObject> other;      ///< anything else at the root
  std::vector<RemoteObject> logs;       ///< audit/ files
  std::vector<std::string> unreadable_records;
  const RemoteSet* find(const std::string& stamp) const;
  /// The newest complete set holding a dump of each of `dbnames`; "" when none.
  std::string latest(const std::vector<std::string>& dbnames) const;
  /// The complete sets as a catalog (paths are names on the remote), for retention.
  Catalog catalog() const;
};

/// The remote's sets (one listing of the root, one read of every record). With `details`, also the
/// audit logs and the temporary names in pushed/ (two more listings: each is a program start).
RemoteListing read_remote(RemoteStore& store, bool details = true);

/// A set as the catalog sees it, from its record (paths are the record's names).
BackupSet backup_set_of(const PushRecord& record);

}  // namespace auditpitr::remote
