// The outcome of the last run of an operation (backup, drill, push), kept in the backup folder as
// <backup_dir>/.auditpitr/last-<operation>.json so that `auditpitr status` can tell whether the last
// one failed. Recording is best effort: it never changes the operation's own outcome.
#pragma once

#include <cstdint>
#include <ctime>
#include <optional>
#include <string>

namespace auditpitr::ops {

struct OutcomeRecord {
  std::string operation;  ///< "backup", "drill", "push": a file-name part ([a-z_-]+)
  bool ok = false;
  std::time_t started = 0;
  std::time_t finished = 0;
  std::string stamp;   ///< the backup it made or worked on ("" when none)
  std::string detail;  ///< a one-line summary, or the error's message when it failed
  uint64_t bytes = 0;  ///< what it wrote or sent (0 when not applicable)
};

/// The folder of auditpitr's own records inside the backup folder; the catalog ignores it.
constexpr const char* kRecordsFolder = ".auditpitr";

/// <backup_dir>/.auditpitr/last-<operation>.json.
std::string outcome_path(const std::string& backup_dir, const std::string& operation);

/// Writes the record atomically (temporary name, fsync, rename), creating .auditpitr (0700) in an
/// existing backup folder. Never throws: a record that cannot be written is a warning on stderr,
/// since the operation itself succeeded or failed on its own account.
void record_outcome(const std::string& backup_dir, const OutcomeRecord& record) noexcept;

/// The last recorded outcome of `operation`; nullopt when none was recorded. Throws a runtime Error
/// naming the file when it exists but cannot be read or parsed.
std::optional<OutcomeRecord> read_outcome(const std::string& backup_dir, const std::string& operation);

/// The record as JSON (one object: format, operation, ok, started, finished, stamp, detail, bytes).
std::string outcome_json(const OutcomeRecord& record);

}  // namespace auditpitr::ops
