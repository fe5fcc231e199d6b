// auditpitr schedule: prints the cron lines or systemd units that run the backups on a schedule
// (ops/schedule.h), for the running binary and the configuration file, both as absolute paths.
#include <pwd.h>
#include <unistd.h>

#include <climits>
#include <memory>

#include "src/cli/cli_support.h"
#include "src/error.h"
#include "src/ops/analyze.h"
#include "src/ops/schedule.h"
#include "src/util/fs.h"
#include "src/util/json_writer.h"

namespace auditpitr::cli {
namespace {

struct ScheduleOptions {
  std::string print;
  std::string backup;
  std::string push;
  std::string drill;
  bool json = false;
};

std::string running_binary() {
  char buf[PATH_MAX];
  ssize_t n = ::readlink("/proc/self/exe", buf, sizeof buf - 1);
  if (n <= 0) throw system_error("unable to find the path of the running auditpitr (/proc/self/exe)", errno);
  return std::string(buf, static_cast<std::size_t>(n));
}

std::string running_user() {
  const struct passwd* pw = ::getpwuid(::geteuid());
  if (!pw) throw runtime_error("the user " + std::to_string(::geteuid()) + " running auditpitr has no name");
  return pw->pw_name;
}

// The backup (daily@02:00 unless --backup says otherwise), and the push and the drill when asked for:
// each refused by name when the configuration could not run it, rather than failing every night.
std::vector<ops::ScheduledJob> jobs_of(const ScheduleOptions& opts, const Config& config) {
  std::vector<ops::ScheduledJob> jobs{
      {"backup", ops::parse_when(opts.backup.empty() ? "daily@02:00" : opts.backup, "--backup"), {"backup"}}};
  if (!opts.push.empty()) {
    if (config.remotes.empty())
      throw usage_error(
          "--push needs a [[remotes]] section in " + config.path + ": there is nowhere to push to",
          "add one (docs/push.md), e.g. [[remotes]] name = \"offsite\" rclone = \"s3remote:bucket/portfolio\"");
    std::vector<std::string> args{"push"};
    if (!config.audit_dir.empty()) args.push_back("--logs");  // the logs leave the machine with the backups
    jobs.push_back({"push", ops::parse_when(opts.push, "--push"), args});
  }
  if (!opts.drill.empty()) {
    ops::require_audit_section(config);  // the drill replays the audit logs
    jobs.push_back({"drill", ops::parse_when(opts.drill, "--drill"), {"drill"}});
  }
  return jobs;
}

std::string to_json(const std::string& format, const ops::ScheduleTarget& target,
                    const std::vector<ops::ScheduledJob>& jobs, const std::vector<ops::ScheduleFile>& files) {
  JsonWriter w;
  w.begin_object().field("print", format).field("binary", target.binary).field("config", target.config);
  w.field("user", target.user).key("jobs").begin_array();
  for (const auto& j : jobs) w.begin_object().field("job", j.job).field("when", ops::when_text(j.when)).end_object();
  w.end_array().key("files").begin_array();
  for (const auto& f : files) w.begin_object().field("name", f.name).field("content", f.content).end_object();
  w.end_array().end_object();
  return w.str();
}

int run_schedule(const GlobalOptions& global, const ScheduleOptions& opts) {
  if (opts.print != "cron" && opts.print != "systemd")
    throw usage_error("--print takes cron or systemd, not '" + opts.print + "'",
                      "auditpitr schedule --print cron (or systemd)");
  // A schedule of a configuration that does not load would fail every night.
  auto jobs = jobs_of(opts, load(global));
  ops::ScheduleTarget target{running_binary(), absolute_path(global.config_path), running_user()};
  ops::require_schedulable_path(target.binary, "the auditpitr binary");
  ops::require_schedulable_path(target.config, "the configuration file");
  std::vector<ops::ScheduleFile> files;
  if (opts.print == "cron") files.push_back(ops::cron_schedule(target, jobs));
  else files = ops::systemd_schedule(target, jobs);
  Output out(opts.json);
  for (const auto& f : files) {
    if (opts.print == "systemd") out.line("# " + f.name);
    out.line(f.content);
  }
  out.json(to_json(opts.print, target, jobs, files));
  return 0;
}

}  // namespace

void add_schedule_command(CLI::App& app, const GlobalOptions& global, Action& action) {
  auto opts = std::make_shared<ScheduleOptions>();
  CLI::App* cmd = app.add_subcommand(
      "schedule", "Print the cron lines or systemd units that run backups (pushes, drills) on a schedule");
  set_details(cmd,
              "Prints, for this auditpitr binary and configuration file (absolute paths), crontab lines\n"
              "(under flock, so that a run never overlaps the previous one) or a systemd service and timer\n"
              "per job (Type=oneshot, Persistent=true, output to the journal). Nothing is installed:\n"
              "docs/schedule.md gives the install steps. When: daily@HH:MM (default 02:00),\n"
              "weekly@DAY@HH:MM (default Sunday 03:00), monthly@HH:MM (the 1st, default 04:00).\n"
              "The backup is always scheduled; --push adds 'auditpitr push' (with --logs when there is an\n"
              "[audit] section), --drill adds 'auditpitr drill' (the last two backups, docs/drill.md).\n"
              "Examples: auditpitr -c /etc/auditpitr/auditpitr.toml schedule --print cron\n"
              "          auditpitr schedule --print cron --push daily@03:00 --drill monthly\n"
              "          auditpitr schedule --print systemd --backup daily@01:30\n"
              "          auditpitr schedule --print cron --backup weekly@Sat@23:00");
  cmd->add_option("--print", opts->print, "what to print: cron or systemd")->required()->type_name("FORMAT");
  cmd->add_option("--backup", opts->backup, "when the backup runs (default daily@02:00)")->type_name("WHEN");
  cmd->add_option("--push", opts->push, "also push the backups (and the audit logs) off-site, e.g. daily@03:00")
      ->type_name("WHEN");
  cmd->add_option("--drill", opts->drill, "also drill the last two backups, e.g. monthly")->type_name("WHEN");
  cmd->add_flag("--json", opts->json, "print one JSON object: the jobs and the files' contents");
  cmd->callback([&global, &action, opts] { action = [&global, opts] { return run_schedule(global, *opts); }; });
}

}  // namespace auditpitr::cli
