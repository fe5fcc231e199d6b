// Finding an application's audit logs in a folder: each logical log (create.log, …) with its
// rotated siblings (create.log.1, create.log.2.gz, logrotate's dateext create.log-20250123[.gz]),
// ordered oldest first; and the files that look like logs but are not read, to be reported.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace auditpitr::replay {

/// The logical logs, in the order the merge breaks ties (create < update < delete).
inline constexpr std::string_view kCreateLog = "create.log";
inline constexpr std::string_view kUpdateLog = "update.log";
inline constexpr std::string_view kDeleteLog = "delete.log";
inline constexpr std::string_view kErrorLog = "error.log";
inline constexpr std::string_view kAuditLog = "audit.log";

/// One physical file of a logical log.
struct LogFile {
  std::string path;
  unsigned rotation = 0;  ///< N for `name.N` / `name.N.gz` (higher = older); 0 otherwise
  bool gzip = false;      ///< decided by the `.gz` suffix
  /// logrotate's dateext `name-STAMP[.gz]`: the stamp's digits ("20250123", "2025012314"); else empty.
  std::string date;
  /// The file the application appends to: plain `name` (its last line may still be being written).
  bool live() const { return rotation == 0 && date.empty() && !gzip; }
};

/// One logical log: all its files, oldest first: numbered rotations (highest N first), then dateext
/// ones (earliest stamp first), then the live file (or `name.gz`).
struct LogSet {
  std::string name;  ///< e.g. "create.log"
  std::vector<LogFile> files;
  bool empty() const { return files.empty(); }
};

/// Finds `name`, `name.gz`, `name.N[.gz]` and `name-STAMP[.gz]` (STAMP: 6 or more digits, maybe
/// separated by '-' or '_', as logrotate's dateformat writes them) in `dir`. A set with no file at
/// all is empty (not an error: an application may never have deleted anything). Throws a usage
/// Error when `dir` is not a readable folder, and a runtime Error when one rotation exists twice
/// (`create.log.2` and `create.log.2.gz`: which one is right cannot be guessed).
LogSet discover_log_set(const std::string& dir, std::string_view name);

/// The create, update and delete logs of `dir`, in that order (the event sources).
std::vector<LogSet> discover_event_logs(const std::string& dir);

/// A file of the audit folder that looks like a log and is not read: said to the user, never silent.
struct UnreadFile {
  std::string path;
  std::string reason;  ///< e.g. "compressed with xz, which auditpitr does not read (only gzip: .gz)"
  std::string hint;    ///< how to have it read
};

/// The regular files of `dir` that look like logs (a name starting with one of the logical logs
/// in `read`, or holding ".log") and that discover_log_set does not read for the logical logs in
/// `read`, sorted by name. Rotations of logs not in `read` (error.log for replay, audit.log) are
/// not reported: they are left out on purpose. Throws like discover_log_set.
std::vector<UnreadFile> unread_log_files(const std::string& dir, const std::vector<std::string_view>& read);

}  // namespace auditpitr::replay
