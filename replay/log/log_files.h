// Finding an application's audit logs in a folder: each logical log (create.log, …) with its
// rotated siblings (create.log.1, create.log.2.gz, …), ordered oldest first.
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
  unsigned rotation = 0;  ///< 0 for the live file; N for `name.N` / `name.N.gz` (higher = older)
  bool gzip = false;      ///< decided by the `.gz` suffix
};

/// One logical log: all its files, oldest first (highest rotation first, the live file last).
struct LogSet {
  std::string name;  ///< e.g. "create.log"
  std::vector<LogFile> files;
  bool empty() const { return files.empty(); }
};

/// Finds `name`, `name.gz`, `name.N` and `name.N.gz` in `dir`. A set with no file at all is empty
/// (not an error: an application may never have deleted anything). Throws a usage Error when
/// `dir` is not a readable folder, and a runtime Error when one rotation exists both plain and
/// gzipped (`create.log.2` and `create.log.2.gz`: which one is right cannot be guessed).
LogSet discover_log_set(const std::string& dir, std::string_view name);

/// The create, update and delete logs of `dir`, in that order (the event sources).
std::vector<LogSet> discover_event_logs(const std::string& dir);

/// All five logical logs of `dir`: create, update, delete, error, audit.
std::vector<LogSet> discover_all_logs(const std::string& dir);

}  // namespace auditpitr::replay
