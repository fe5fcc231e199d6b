// Schedules as text: spec parsing, crontab lines, systemd service + timer units.
#include "src/ops/schedule.h"

#include <cstdio>

#include "src/error.h"
#include "src/util/format.h"
#include "src/util/sha256.h"

namespace auditpitr::ops {
namespace {

const char* const kDays[] = {"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"};
const char* const kForms = "daily@HH:MM, weekly@DAY@HH:MM (DAY Mon..Sun), monthly@HH:MM; the time may be left out";

[[noreturn]] void bad_spec(const std::string& spec, const std::string& option, const std::string& why) {
  throw usage_error("invalid schedule '" + spec + "' for " + option + ": " + why,
                    "use " + std::string(kForms) + " (e.g. " + option + " daily@02:00)");
}

bool parse_time(const std::string& text, When& when) {
  unsigned h = 0, m = 0;
  char rest = 0;
  if (text.size() != 5 || std::sscanf(text.c_str(), "%2u:%2u%c", &h, &m, &rest) != 2) return false;
  if (h > 23 || m > 59) return false;
  when.hour = static_cast<int>(h);
  when.minute = static_cast<int>(m);
  return true;
}

// "Mon" or "monday", any case.
int parse_day(const std::string& text) {
  static const char* const full[] = {"sunday", "monday", "tuesday", "wednesday", "thursday", "friday", "saturday"};
  std::string lower;
  for (char c : text) lower += static_cast<char>(c >= 'A' && c <= 'Z' ? c - 'A' + 'a' : c);
  for (int d = 0; d < 7; ++d)
    if (lower == full[d] || lower == std::string(full[d], 3)) return d;
  return -1;
}

std::vector<std::string> split_at(const std::string& text) {
  std::vector<std::string> parts;
  std::size_t start = 0;
  for (std::size_t at; (at = text.find('@', start)) != std::string::npos; start = at + 1)
    parts.push_back(text.substr(start, at - start));
  parts.push_back(text.substr(start));
  return parts;
}

std::string two_digits(int n) { return (n < 10 ? "0" : "") + std::to_string(n); }

std::string lock_path(const ScheduleTarget& target, const std::string& job) {
  Sha256 sha;
  sha.update(target.config.data(), target.config.size());
  return "/run/lock/auditpitr-" + job + "-" + sha.hex_digest().substr(0, 8) + ".lock";
}

std::string quoted_for_systemd(const std::string& word) {
  return word.find(' ') == std::string::npos ? word : "\"" + word + "\"";
}

std::string command_words(const ScheduleTarget& target, const ScheduledJob& job,
                          std::string (*quote)(const std::string&)) {
  std::string line = quote(target.binary) + " -c " + quote(target.config);
  for (const auto& arg : job.args) line += " " + quote(arg);
  return line;
}

}  // namespace

When parse_when(const std::string& spec, const std::string& option) {
  std::vector<std::string> parts = split_at(spec);
  When when;
  const std::string& period = parts[0];
  std::size_t time_at = 1;
  if (period == "daily") {
    when = {When::Period::daily, 0, 2, 0};
  } else if (period == "weekly") {
    when = {When::Period::weekly, 0, 3, 0};
    if (parts.size() > 1) {
      when.weekday = parse_day(parts[1]);
      if (when.weekday < 0) bad_spec(spec, option, "'" + parts[1] + "' is not a day (Mon..Sun)");
      time_at = 2;
    }
  } else if (period == "monthly") {
    when = {When::Period::monthly, 0, 4, 0};
  } else {
    bad_spec(spec, option, "it starts with daily, weekly or monthly");
  }
  if (parts.size() > time_at + 1) bad_spec(spec, option, "too many '@'");
  if (parts.size() == time_at + 1 && !parse_time(parts[time_at], when))
    bad_spec(spec, option, "'" + parts[time_at] + "' is not a time HH:MM (00:00 to 23:59)");
  return when;
}

std::string when_text(const When& when) {
  std::string time = two_digits(when.hour) + ":" + two_digits(when.minute);
  switch (when.period) {
    case When::Period::daily: return "daily@" + time;
    case When::Period::weekly: return "weekly@" + std::string(kDays[when.weekday]) + "@" + time;
    case When::Period::monthly: return "monthly@" + time;
  }
  return "";
}

std::string cron_fields(const When& when) {
  std::string time = std::to_string(when.minute) + " " + std::to_string(when.hour);
  switch (when.period) {
    case When::Period::daily: return time + " * * *";
    case When::Period::weekly: return time + " * * " + std::to_string(when.weekday);
    case When::Period::monthly: return time + " 1 * *";
  }
  return "";
}

std::string on_calendar(const When& when) {
  std::string time = two_digits(when.hour) + ":" + two_digits(when.minute) + ":00";
  switch (when.period) {
    case When::Period::daily: return "*-*-* " + time;
    case When::Period::weekly: return std::string(kDays[when.weekday]) + " *-*-* " + time;
    case When::Period::monthly: return "*-*-01 " + time;
  }
  return "";
}

void require_schedulable_path(const std::string& path, const std::string& what) {
  for (char c : path)
    if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f || c == '%' || c == '"' || c == '\'' || c == '\\' || c == '$')
      throw usage_error(what + " '" + printable(path) +
                            "' holds a character cron or systemd would not read as written ('" +
                            printable(std::string(1, c)) + "')",
                        "move it to a path of plain characters (spaces are fine)");
}

ScheduleFile cron_schedule(const ScheduleTarget& target, const std::vector<ScheduledJob>& jobs) {
  std::string text = "# auditpitr schedule for " + target.config +
                     "\n# Install with 'crontab -e' as the user that runs the backups (" + target.user +
                     "). flock -n skips a run while the previous one still runs;\n"
                     "# cron mails what a job prints (its errors) to that user.\n";
  for (const auto& job : jobs)
    text += "# " + job.job + ", " + when_text(job.when) + "\n" + cron_fields(job.when) + " flock -n " +
            lock_path(target, job.job) + " " + command_words(target, job, shell_word) + "\n";
  return {"crontab", text};
}

std::vector<ScheduleFile> systemd_schedule(const ScheduleTarget& target, const std::vector<ScheduledJob>& jobs) {
  std::vector<ScheduleFile> files;
  for (const auto& job : jobs) {
    std::string unit = "auditpitr-" + job.job;
    files.push_back({unit + ".service",
                     "[Unit]\n"
                     "Description=auditpitr " +
                         job.job + " (" + target.config +
                         ")\n"
                         "Wants=network-online.target\n"
                         "After=network-online.target\n"
                         "\n"
                         "[Service]\n"
                         "# oneshot: the timer never starts it again while a run is still going\n"
                         "Type=oneshot\n"
                         "User=" +
                         target.user +
                         "\n"
                         "ExecStart=" +
                         command_words(target, job, quoted_for_systemd) +
                         "\n"
                         "StandardOutput=journal\n"
                         "StandardError=journal\n"
                         "SyslogIdentifier=" +
                         unit + "\n"});
    files.push_back({unit + ".timer",
                     "[Unit]\n"
                     "Description=auditpitr " +
                         job.job + ", " + when_text(job.when) +
                         "\n"
                         "\n"
                         "[Timer]\n"
                         "OnCalendar=" +
                         on_calendar(job.when) +
                         "\n"
                         "# a run missed while the machine was off runs at the next boot\n"
                         "Persistent=true\n"
                         "Unit=" +
                         unit +
                         ".service\n"
                         "\n"
                         "[Install]\n"
                         "WantedBy=timers.target\n"});
  }
  return files;
}

}  // namespace auditpitr::ops
