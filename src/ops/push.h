// Off-site copies: push complete backup sets (and the audit logs) to a remote, verifying each copy;
// pull a set back, checked before anything can use it; retention on the remote.
#pragma once

#include <ctime>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "src/catalog/retention.h"
#include "src/config/config.h"
#include "src/ops/reporter.h"
#include "src/pg/process_runner.h"
#include "src/remote/remote_catalog.h"
#include "src/remote/remote_store.h"

namespace auditpitr::ops {

struct CopiedFile {
  std::string name;
  uint64_t size = 0;
  std::string sha256;
};

struct PushedSet {
  std::string stamp;
  std::vector<CopiedFile> files;
  uint64_t bytes = 0;
  bool repaired = false;  ///< the remote held it incomplete or damaged: pushed again whole
};

struct LogsPush {
  std::vector<CopiedFile> uploaded;  ///< new files and files whose size changed
  std::size_t unchanged = 0;
  uint64_t bytes = 0;
};

struct RemotePrune {
  bool dry_run = false;
  std::vector<std::string> deleted_stamps;
  std::vector<std::string> deleted_files;
  std::vector<std::pair<std::string, std::string>> kept;  ///< stamp, why
  std::string policy;                                     ///< describe_policy of the remote's retention
};

struct PushResult {
  std::string remote;       ///< its name
  std::string rclone;       ///< its rclone path
  std::string verified_by;  ///< "sha256", "sha1" or "md5" computed by the remote, or "download" (sha256 of a read back)
  std::vector<PushedSet> pushed;
  std::vector<std::string> already_there;                       ///< complete on the remote before
  std::vector<std::pair<std::string, std::string>> not_pushed;  ///< stamp, why
  std::optional<LogsPush> logs;                                 ///< with --logs
  std::optional<RemotePrune> prune;                             ///< when the remote has a retention policy
  uint64_t bytes = 0;                                           ///< everything uploaded
};

/// Copies every complete local backup set the remote lacks (or holds incomplete): each file to a
/// temporary name, verified by size and checksum, renamed; manifests after their dumps; the set's
/// record last. With `logs`, then the audit folder's new and grown files. Then applies the remote's
/// retention, if it has one. A copy that does not match throws a verification Error naming it.
PushResult push_backups(const Config& config, const RemoteConfig& remote, remote::RemoteStore& store, bool logs,
                        std::time_t now, const Reporter& reporter);

/// Retention on the remote's complete sets (its own keep_* and retention_days): record deleted last.
RemotePrune prune_remote(const Config& config, const RemoteConfig& remote, remote::RemoteStore& store, bool dry_run,
                         std::time_t now, const Reporter& reporter);

struct PullResult {
  std::string remote;
  std::string stamp;
  std::vector<CopiedFile> downloaded;
  std::vector<std::string> already_here;  ///< identical files the backup folder held already
  uint64_t bytes = 0;
  int checked_dumps = 0;     ///< dumps that passed 'auditpitr check' before being renamed into place
  int checked_archives = 0;  ///< [[files]] archives likewise
};

/// Brings a complete set (a stamp or "latest") back into the backup folder: each file downloaded
/// under a temporary name and compared with the push's record (size, sha256), each dump checked
/// as 'auditpitr check' does, and only then renamed into place. A damaged or incomplete remote copy
/// throws a verification Error naming the file, and leaves nothing behind. The caller holds the
/// backup folder's lock.
PullResult pull_backup(const Config& config, const RemoteConfig& remote, remote::RemoteStore& store,
                       const std::string& stamp_or_latest, pg::ProcessRunner& runner, const Reporter& reporter);

}  // namespace auditpitr::ops
