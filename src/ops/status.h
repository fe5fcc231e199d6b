// auditpitr status: is everything in order, at a glance (docs/status.md)? Per database the newest
// complete backup and its age, the last backup/drill/push outcomes, the backup folder's free space
// against the next backup, and whether the audit logs cover the time since the newest backup. Reads
// only: the backup folder, the records, the audit folder's newest files; no server is contacted.
#pragma once

#include <ctime>
#include <optional>
#include <string>
#include <vector>

#include "replay/log/event.h"
#include "replay/log/log_files.h"
#include "src/config/config.h"
#include "src/ops/outcome_record.h"

namespace auditpitr::ops {

struct DatabaseStatus {
  std::string alias, dbname;
  std::string stamp;            ///< the newest complete backup ("" when none)
  std::time_t backup_time = 0;  ///< its snapshot time (the manifest's; the stamp's without one)
  std::string snapshot_time_utc;
  int64_t age_seconds = 0;
  uint64_t size = 0;
  bool ok = false;
  std::string problem;
};

/// A recorded outcome and what status makes of it.
struct OutcomeStatus {
  std::string operation;
  std::optional<OutcomeRecord> record;  ///< nullopt: never recorded
  std::string unreadable;               ///< the record exists but cannot be read (why)
  bool ok() const { return unreadable.empty() && (!record || record->ok); }
};

struct SpaceStatus {
  bool known = false;  ///< the backup folder exists and its free space could be read
  uint64_t free_bytes = 0, needed_bytes = 0, margin_bytes = 0;
  std::string as_large_as;  ///< which backups the need comes from ("" when none yet)
  std::string problem;
  bool ok() const { return problem.empty(); }
};

/// A stretch without any audit event in the window longer than max_log_lag.
struct Silence {
  replay::TimePoint from, to;
  bool until_now = false;  ///< the last one: from the newest event (or the snapshot) to now
};

struct LogStatus {
  bool configured = false;  ///< there is an [audit] section
  std::string audit_dir, alias, dbname;
  std::string since_stamp;                         ///< the audit database's newest complete backup ("" when none)
  std::optional<replay::TimePoint> since;          ///< its snapshot time: the window's start
  uint64_t events = 0;                             ///< events after `since` in the files read
  std::optional<replay::TimePoint> first, newest;  ///< of those
  /// Some event at or before `since`, or an older non-empty log file: nothing is missing between
  /// the backup and the logs.
  bool reaches_back = false;
  uint64_t files_read = 0, files_skipped = 0, malformed_lines = 0;
  std::vector<Silence> silences;
  std::vector<replay::UnreadFile> unread_files;  ///< looking like logs, not read, written in the window
  std::vector<std::string> problems;
  bool ok() const { return problems.empty(); }
};

struct StatusReport {
  std::time_t now = 0;
  std::string backup_dir;
  StatusLimits limits;
  std::vector<DatabaseStatus> databases;
  OutcomeStatus last_backup, last_drill, last_push;
  SpaceStatus space;
  LogStatus logs;
  /// One line per thing that needs attention; empty when healthy.
  std::vector<std::string> attention() const;
  bool healthy() const { return attention().empty(); }
};

/// "12 s", "3 min", "7 h 12 min", "26 h", "3 d 4 h": ages and limits as status words them.
std::string age_text(int64_t seconds);

/// Collects the status as of `now`. Throws only for configuration problems and an unreadable backup
/// folder; everything else found wanting is a problem in the report.
StatusReport collect_status(const Config& config, std::time_t now);

/// One JSON object (docs/status.md).
std::string status_json(const StatusReport& report);

/// One line of the human report: a check and its verdict.
struct StatusLine {
  bool ok = true;
  bool info = false;  ///< neither OK nor ATTENTION: a fact (a push that never ran)
  std::string text;
};
std::vector<StatusLine> status_lines(const StatusReport& report);

/// The report as Prometheus text format (node_exporter's textfile collector; docs/status.md).
std::string status_metrics(const StatusReport& report);

}  // namespace auditpitr::ops
