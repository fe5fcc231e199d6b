// `auditpitr schedule`: when the jobs run (daily@02:00, weekly@Sun@03:00, monthly) and the cron
// lines or systemd units that run them, as text to install. Nothing is installed.
#pragma once

#include <string>
#include <vector>

namespace auditpitr::ops {

/// When a job runs, parsed from a spec (docs/schedule.md): daily, weekly on a day, or monthly on the 1st.
struct When {
  enum class Period { daily, weekly, monthly } period = Period::daily;
  int weekday = 0;  ///< 0 Sunday .. 6 Saturday (weekly)
  int hour = 0;
  int minute = 0;
};

/// "daily[@HH:MM]" (02:00), "weekly[@DAY[@HH:MM]]" (Sunday 03:00), "monthly[@HH:MM]" (the 1st, 04:00).
/// Throws a usage Error naming `option` and the accepted forms.
When parse_when(const std::string& spec, const std::string& option);

/// The spec written back in full ("weekly@Sun@03:00").
std::string when_text(const When& when);
/// The cron time fields: "MIN HOUR DAY-OF-MONTH MONTH DAY-OF-WEEK".
std::string cron_fields(const When& when);
/// systemd's OnCalendar= value.
std::string on_calendar(const When& when);

/// One job to schedule: `job` names it (the units' and lock's names), `args` follow the binary.
struct ScheduledJob {
  std::string job;
  When when;
  std::vector<std::string> args;
};

/// What the jobs run: the binary and the configuration file, both absolute.
struct ScheduleTarget {
  std::string binary;
  std::string config;
  std::string user;  ///< who runs them (the systemd units' User=)
};

struct ScheduleFile {
  std::string name;  ///< "crontab", or the unit's file name
  std::string content;
};

/// The crontab lines (for 'crontab -e'): each job under flock, so that a run never overlaps the last.
ScheduleFile cron_schedule(const ScheduleTarget& target, const std::vector<ScheduledJob>& jobs);
/// Per job a oneshot service (output to the journal) and its timer (Persistent=true).
std::vector<ScheduleFile> systemd_schedule(const ScheduleTarget& target, const std::vector<ScheduledJob>& jobs);

/// Refuses (usage Error) a path cron or systemd would not read as written: a control character, '%', a quote, '\'.
void require_schedulable_path(const std::string& path, const std::string& what);

}  // namespace auditpitr::ops
