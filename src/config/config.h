// auditpitr.toml: what to back up, where, for how long; hooks; where the audit logs are.
// Relative paths resolve against the configuration file's folder.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "src/pg/conninfo.h"

namespace auditpitr {

struct RetentionPolicy {
  int retention_days = 30;  ///< delete backups older than this (by mtime); 0 keeps forever
  int keep_daily = 0;       ///< grandfather-father-son: keep the newest of each of the last N days
  int keep_weekly = 0;
  int keep_monthly = 0;
  bool uses_generations() const { return keep_daily > 0 || keep_weekly > 0 || keep_monthly > 0; }
};

/// [status]: when `auditpitr status` says ATTENTION (docs/status.md). 0 turns a check off.
struct StatusLimits {
  int64_t max_backup_age_seconds = 26 * 3600;  ///< a daily backup, with two hours of slack
  /// The longest the audit logs may be silent in the window since the newest backup (between its
  /// snapshot and the first event, between events, and from the newest event to now).
  int64_t max_log_lag_seconds = 48 * 3600;
};

struct DatabaseConfig {
  std::string alias;     ///< what the command line names
  std::string dbname;    ///< the database, and the backup file prefix
  std::string conninfo;  ///< libpq connection string (may be empty: PG* environment)
  /// Parsed connection settings for this database.
  pg::ConnInfo connect_info() const;
};

/// [[files]]: a folder archived with every backup as <name>_<stamp>.tar.gz (docs/configuration.md).
struct FilesConfig {
  std::string name;  ///< the archive's file prefix ("uploads": the old scripts' uploads_<stamp>.tar.gz)
  std::string path;  ///< the folder archived, and where `restore --files` puts it back
};

/// [[remotes]]: an off-site copy of the backup folder (and the audit logs) on any rclone remote.
struct RemoteConfig {
  std::string name;           ///< what --remote names
  std::string rclone;         ///< rclone's path: "s3remote:bucket/portfolio", "sftpbox:backups", or a local folder
  std::string config_file;    ///< rclone.conf holding the remote's credentials; empty: rclone's own default
  RetentionPolicy retention;  ///< applied by push and 'prune --remote'; default: keep forever
};

struct Config {
  std::string path;    ///< the file it came from
  std::string folder;  ///< its folder: base of relative paths

  std::string backup_dir;
  RetentionPolicy retention;
  int compression_level = 6;  ///< gzip level of the .dump.gz files (1-9)
  /// [backup] encrypt_to: age recipients (public keys); when set, backup files are encrypted
  /// (docs/encryption.md). Empty: plain .dump.gz.
  std::vector<std::string> encrypt_to;
  /// The age identity file that decrypts encrypted backups: [backup] identity_file, or --identity
  /// (which replaces it). Empty when neither is given.
  std::string identity_file;
  std::string identity_origin;  ///< which of the two named it, for messages

  std::vector<DatabaseConfig> databases;
  std::vector<FilesConfig> files;  ///< [[files]], in the file's order; empty when none

  /// [restore]: the share (percent) of the server's connections a restore's pg_restore jobs leave free.
  int free_connections_percent = 50;

  std::vector<std::string> pre_restore_hook;  ///< argv, empty when not configured
  std::vector<std::string> post_restore_hook;

  std::string audit_dir;       ///< empty when there is no [audit] section
  std::string audit_database;  ///< alias the audit events replay into
  std::string audit_mapping;   ///< rules file, empty when none
  /// replay starts this long before a restored backup's snapshot time (docs/replay.md)
  int audit_skew_margin_seconds = 5;

  std::string pg_bin_dir;  ///< [tools] bin_dir: where pg_dump/pg_restore live; empty: automatic
  /// [tools] exec: argv prefix pg_dump/pg_restore run through (`podman exec -i NAME`); empty: on this host
  std::vector<std::string> pg_exec;
  StatusLimits status;

  std::vector<RemoteConfig> remotes;

  /// The remote with this name, or the only one when `name` is empty. Throws a usage Error naming
  /// the configured remotes (or saying there is none).
  const RemoteConfig& remote(const std::string& name) const;

  /// The database with this alias. Throws a usage Error listing the known aliases.
  const DatabaseConfig& database(const std::string& alias) const;
  /// The alias of the configured database named `dbname`; "" when none is (a backup of another).
  std::string alias_of(const std::string& dbname) const;
  /// The named databases, or all of them when `aliases` is empty ("all" also means all).
  std::vector<const DatabaseConfig*> select(const std::vector<std::string>& aliases) const;
  /// The [[files]] entry named `name`; nullptr when none is.
  const FilesConfig* files_named(const std::string& name) const;
};

/// "26h", "90m", "45s", "2d" (one whole number and a unit), or "0" (off): the seconds. Throws a
/// usage Error naming `what` otherwise.
int64_t parse_duration_setting(const std::string& text, const std::string& what);

/// Reads and validates the file. Errors (exit 2) name the file, the line and the key.
Config load_config(const std::string& path);

/// Parses configuration text; `path` names it in messages and anchors relative paths.
Config parse_config(const std::string& text, const std::string& path);

}  // namespace auditpitr
