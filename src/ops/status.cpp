// collect_status: the catalog for the backups, the outcome records, statvfs for the space, and the
// audit logs' files written since the newest backup's snapshot (older ones cannot hold its window).
#include "src/ops/status.h"

#include <sys/stat.h>

#include <chrono>

#include "replay/log/event_stream.h"
#include "replay/log/time_parse.h"
#include "src/catalog/catalog.h"
#include "src/catalog/stamp.h"
#include "src/error.h"
#include "src/ops/analyze.h"
#include "src/ops/backup.h"
#include "src/ops/verified_dump.h"
#include "src/util/format.h"
#include "src/util/fs.h"
#include "verify/manifest.h"

namespace auditpitr::ops {
namespace {

using std::chrono::seconds;

replay::TimePoint time_point(std::time_t t) { return replay::TimePoint(seconds(t)); }

std::time_t to_time_t(replay::TimePoint t) {
  return static_cast<std::time_t>(std::chrono::duration_cast<seconds>(t.time_since_epoch()).count());
}

DatabaseStatus database_status(const Catalog& catalog, const DatabaseConfig& db, const StatusLimits& limits,
                               std::time_t now) {
  DatabaseStatus s;
  s.alias = db.alias;
  s.dbname = db.dbname;
  s.stamp = catalog.latest_stamp({db.dbname});
  if (s.stamp.empty()) {
    s.problem = "no complete backup of " + db.dbname + " in the backup folder";
    return s;
  }
  const BackupFile& file = *catalog.find(s.stamp)->dump_of(db.dbname);
  s.size = file.size;
  s.backup_time = stamp_to_time(s.stamp).value_or(file.mtime);
  if (file.has_manifest) {
    // A damaged manifest is check's business: the stamp's time is close enough for an age.
    try {
      s.snapshot_time_utc = verify::load_manifest(file.manifest_path).snapshot_time_utc;
      if (auto t = replay::parse_rfc3339(s.snapshot_time_utc)) s.backup_time = to_time_t(*t);
    } catch (const Error&) {
      s.snapshot_time_utc.clear();
    }
  }
  s.age_seconds = static_cast<int64_t>(now) - static_cast<int64_t>(s.backup_time);
  s.ok = limits.max_backup_age_seconds == 0 || s.age_seconds <= limits.max_backup_age_seconds;
  if (!s.ok)
    s.problem = "the newest backup of " + db.dbname + " (" + s.stamp + ") is " + age_text(s.age_seconds) +
                " old, more than the " + age_text(limits.max_backup_age_seconds) + " allowed";
  return s;
}

OutcomeStatus outcome_status(const std::string& backup_dir, const std::string& operation) {
  OutcomeStatus s;
  s.operation = operation;
  try {
    s.record = read_outcome(backup_dir, operation);
  } catch (const Error& e) {
    s.unreadable = e.what();
  }
  return s;
}

SpaceStatus space_status(const Config& config, const Catalog& catalog) {
  SpaceStatus s;
  std::vector<const DatabaseConfig*> all = config.select({});
  RoomNeeded needed = room_needed_for_backup(config, catalog, all);
  s.needed_bytes = needed.bytes;
  s.as_large_as = needed.from;
  s.margin_bytes = free_space_margin();
  if (!path_exists(config.backup_dir)) {
    s.problem = "the backup folder '" + config.backup_dir + "' does not exist (the first backup creates it)";
    return s;
  }
  try {
    s.free_bytes = free_space(config.backup_dir);
    s.known = true;
  } catch (const Error& e) {
    s.problem = e.what();
    return s;
  }
  if (!room_for(s.free_bytes, s.needed_bytes))
    s.problem = "not enough free space in '" + config.backup_dir + "' for the next backup: it needs " +
                human_size(s.needed_bytes) + " (as large as the last: " + s.as_large_as + ") and a margin of " +
                human_size(s.margin_bytes) + ", " + human_size(s.free_bytes) + " are free";
  return s;
}

std::time_t mtime_of(const std::string& path, uint64_t* size = nullptr) {
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0) return 0;
  if (size) *size = static_cast<uint64_t>(st.st_size);
  return st.st_mtime;
}

// The files of each change log that can hold an event after `oldest`: those last written at or
// after it (a log file is written after the events it holds, give or take the clocks' skew).
std::vector<replay::LogSet> files_written_since(const std::string& dir, std::time_t oldest, LogStatus& s) {
  std::vector<replay::LogSet> sets = replay::discover_event_logs(dir);
  for (auto& set : sets) {
    std::vector<replay::LogFile> kept;
    for (auto& file : set.files) {
      uint64_t size = 0;
      if (mtime_of(file.path, &size) >= oldest) {
        kept.push_back(std::move(file));
      } else {
        ++s.files_skipped;
        if (size > 0) s.reaches_back = true;  // the logs go back further than the window
      }
    }
    s.files_read += kept.size();
    set.files = std::move(kept);
  }
  return sets;
}

void read_window(LogStatus& s, const std::vector<replay::LogSet>& sets, int64_t max_lag, std::time_t now) {
  replay::EventStream stream(sets);
  replay::AuditEvent event;
  std::optional<replay::TimePoint> previous;  // the last event in the window
  while (stream.next(event)) {
    if (event.time <= *s.since) {
      s.reaches_back = true;
      continue;
    }
    ++s.events;
    if (!s.first) s.first = event.time;
    replay::TimePoint from = previous.value_or(*s.since);
    if (max_lag > 0 && event.time - from > seconds(max_lag)) s.silences.push_back({from, event.time, false});
    previous = event.time;
  }
  s.newest = previous;
  for (const auto& reader : stream.readers())
    for (const auto& file : reader->stats()) s.malformed_lines += file.bad_lines();
  replay::TimePoint last = previous.value_or(*s.since);
  if (max_lag > 0 && time_point(now) - last > seconds(max_lag)) s.silences.push_back({last, time_point(now), true});
}

LogStatus log_status(const Config& config, const Catalog& catalog, std::time_t now) {
  LogStatus s;
  if (config.audit_dir.empty()) return s;
  s.configured = true;
  s.audit_dir = config.audit_dir;
  const DatabaseConfig& db = config.database(config.audit_database);
  s.alias = db.alias;
  s.dbname = db.dbname;
  DatabaseStatus backup = database_status(catalog, db, StatusLimits{0, 0}, now);
  if (backup.stamp.empty()) return s;  // no window yet: the backup check says so
  s.since_stamp = backup.stamp;
  s.since = time_point(backup.backup_time);
  if (!path_exists(s.audit_dir)) {
    s.problems.push_back("the audit folder '" + s.audit_dir + "' does not exist");
    return s;
  }
  std::time_t oldest = backup.backup_time - config.audit_skew_margin_seconds;
  try {
    read_window(s, files_written_since(s.audit_dir, oldest, s), config.status.max_log_lag_seconds, now);
    for (auto& unread : replay::unread_log_files(s.audit_dir, kReplayedLogs))
      if (mtime_of(unread.path) >= oldest) s.unread_files.push_back(std::move(unread));
  } catch (const Error& e) {
    s.problems.push_back(std::string("the audit logs cannot be read: ") + e.what());
    return s;
  }
  std::string since_text = "backup " + s.since_stamp + "'s snapshot (" + display_time(*s.since) + ")";
  if (!s.reaches_back)
    s.problems.push_back(s.first ? "the audit logs begin at " + display_time(*s.first) + ", after " + since_text +
                                       ": the changes in between cannot be replayed"
                                 : "the audit logs hold no event at or after " + since_text);
  for (const auto& silence : s.silences) {
    std::string length = age_text(to_time_t(silence.to) - to_time_t(silence.from));
    if (silence.until_now)
      s.problems.push_back("no audit event for " + length + " (since " + display_time(silence.from) +
                           "), more than the " + age_text(config.status.max_log_lag_seconds) +
                           " allowed: is the application still writing its logs into '" + s.audit_dir + "'?");
    else
      s.problems.push_back("the audit logs are silent for " + length + " between " + display_time(silence.from) +
                           " and " + display_time(silence.to) + ", more than the " +
                           age_text(config.status.max_log_lag_seconds) + " allowed");
  }
  for (const auto& unread : s.unread_files)
    s.problems.push_back("'" + unread.path +
                         "' looks like an audit log written since the backup but is not read: " + unread.reason);
  return s;
}

}  // namespace

std::string age_text(int64_t seconds) {
  if (seconds < 0) seconds = 0;
  int64_t m = seconds / 60, h = seconds / 3600, d = seconds / 86400;
  if (seconds < 120) return std::to_string(seconds) + " s";
  if (seconds < 7200) return std::to_string(m) + " min";
  if (seconds < 172800) return std::to_string(h) + " h" + (m % 60 ? " " + std::to_string(m % 60) + " min" : "");
  return std::to_string(d) + " d" + (h % 24 ? " " + std::to_string(h % 24) + " h" : "");
}

std::vector<std::string> StatusReport::attention() const {
  std::vector<std::string> out;
  for (const auto& db : databases)
    if (!db.ok) out.push_back(db.problem);
  for (const OutcomeStatus* o : {&last_backup, &last_drill, &last_push}) {
    if (!o->unreadable.empty()) out.push_back(o->unreadable);
    else if (!o->ok()) out.push_back("the last " + o->operation + " failed: " + o->record->detail);
  }
  if (!space.ok()) out.push_back(space.problem);
  for (const auto& p : logs.problems) out.push_back(p);
  return out;
}

StatusReport collect_status(const Config& config, std::time_t now) {
  StatusReport r;
  r.now = now;
  r.backup_dir = config.backup_dir;
  r.limits = config.status;
  Catalog catalog = Catalog::scan(config.backup_dir);
  for (const auto& db : config.databases) r.databases.push_back(database_status(catalog, db, config.status, now));
  r.last_backup = outcome_status(config.backup_dir, "backup");
  r.last_drill = outcome_status(config.backup_dir, "drill");
  r.last_push = outcome_status(config.backup_dir, "push");
  r.space = space_status(config, catalog);
  r.logs = log_status(config, catalog, now);
  return r;
}

}  // namespace auditpitr::ops
