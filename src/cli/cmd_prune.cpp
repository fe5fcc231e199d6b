// auditpitr prune: retention on demand (it also runs after every backup).
#include <ctime>
#include <memory>
#include <optional>

#include "src/cli/cli_support.h"
#include "src/ops/prune.h"
#include "src/ops/push.h"
#include "src/remote/rclone_store.h"
#include "src/util/fs.h"
#include "src/util/json_writer.h"

namespace auditpitr::cli {
namespace {

struct PruneOptions {
  std::string remote;
  bool dry_run = false;
  bool json = false;
};

std::string to_json(const ops::PruneResult& r) {
  JsonWriter w;
  // A dry run deletes nothing: what it would delete has names of its own, so no script reads it as done.
  w.begin_object().field("dry_run", r.dry_run).key(r.dry_run ? "would_delete_stamps" : "deleted_stamps").begin_array();
  for (const auto& s : r.deleted_stamps) w.value(s);
  w.end_array().key(r.dry_run ? "would_delete_files" : "deleted_files").begin_array();
  for (const auto& f : r.deleted_files) w.value(f);
  w.end_array().key("leftovers").begin_array();
  for (const auto& f : r.leftovers) w.begin_object().field("file", f.path).field("reason", f.reason).end_object();
  w.end_array().key("kept").begin_array();
  for (const auto& [stamp, why] : r.kept) w.begin_object().field("stamp", stamp).field("reason", why).end_object();
  w.end_array().key("ignored").begin_array();
  for (const auto& f : r.ignored) w.begin_object().field("file", f.path).field("reason", f.reason).end_object();
  w.end_array().end_object();
  return w.str();
}

std::string to_json(const ops::RemotePrune& r, const RemoteConfig& rm) {
  JsonWriter w;
  w.begin_object().field("remote", rm.name).field("dry_run", r.dry_run).field("policy", r.policy);
  w.key(r.dry_run ? "would_delete_stamps" : "deleted_stamps").begin_array();
  for (const auto& s : r.deleted_stamps) w.value(s);
  w.end_array().key(r.dry_run ? "would_delete_files" : "deleted_files").begin_array();
  for (const auto& f : r.deleted_files) w.value(f);
  w.end_array().key("kept").begin_array();
  for (const auto& [stamp, why] : r.kept) w.begin_object().field("stamp", stamp).field("reason", why).end_object();
  w.end_array().end_object();
  return w.str();
}

int run_remote_prune(const Config& config, const Output& out, const PruneOptions& opts) {
  const RemoteConfig& rm = config.remote(opts.remote);
  remote::require_rclone();
  pg::PosixProcessRunner runner;
  remote::RcloneStore store(rm, runner);
  out.info(std::string(opts.dry_run ? "Dry run: " : "") + "applying the remote's retention (" +
           describe_policy(rm.retention) + ") to " + store.describe());
  ops::RemotePrune result = ops::prune_remote(config, rm, store, opts.dry_run, std::time(nullptr), reporter_for(out));
  for (const auto& [stamp, why] : result.kept) out.line("  keeping " + stamp + " (" + why + ")");
  std::string n = std::to_string(result.deleted_stamps.size());
  if (opts.dry_run) out.info("Would delete " + n + " old backup(s) from the remote; run without --dry-run to do it");
  else out.success("Deleted " + n + " old backup(s) from the remote");
  out.json(to_json(result, rm));
  return 0;
}

int run_prune(const GlobalOptions& global, const PruneOptions& opts) {
  Config config = load(global);
  Output out(opts.json);
  if (!opts.remote.empty()) return run_remote_prune(config, out, opts);
  std::optional<DirectoryLock> lock;  // a dry run writes nothing, not even the lock: it works on a read-only folder
  if (!opts.dry_run) {
    ensure_directory(config.backup_dir, 0700);
    lock.emplace(config.backup_dir, "prune and a backup");
  }
  out.info(std::string(opts.dry_run ? "Dry run: " : "") + "applying retention (" + describe_policy(config.retention) +
           ") to " + config.backup_dir);
  ops::PruneResult result = ops::prune_backups(config, opts.dry_run, std::time(nullptr), reporter_for(out));
  for (const auto& [stamp, why] : result.kept) out.line("  keeping " + stamp + " (" + why + ")");
  std::size_t n = result.deleted_stamps.size();
  if (opts.dry_run) {
    out.info("Would delete " + std::to_string(n) + " old backup(s) and " + std::to_string(result.leftovers.size()) +
             " leftover file(s); run without --dry-run to do it");
  } else {
    out.success("Deleted " + std::to_string(n) + " old backup(s) and " + std::to_string(result.leftovers.size()) +
                " leftover file(s)");
  }
  out.json(to_json(result));
  return 0;
}

}  // namespace

void add_prune_command(CLI::App& app, const GlobalOptions& global, Action& action) {
  auto opts = std::make_shared<PruneOptions>();
  CLI::App* cmd = app.add_subcommand("prune", "Delete backups that retention no longer keeps");
  set_details(cmd,
              "Apply the retention policy of [backup]: delete backups older than retention_days (by file\n"
              "mtime, as the old script did) unless keep_daily/keep_weekly/keep_monthly keep them, and\n"
              "files provably left by a killed auditpitr. The newest backup of every configured database and\n"
              "the latest are always kept; files of databases not in the configuration, and anything else\n"
              "prune does not recognise as its own, are left alone and listed. Try --dry-run first.\n"
              "With --remote NAME: the retention of that [[remotes]] entry (its own keep_*/retention_days) on\n"
              "the sets pushed there (docs/push.md).\n"
              "Examples: auditpitr prune --dry-run\n"
              "          auditpitr prune --remote offsite --dry-run\n"
              "          auditpitr prune --json > pruned.json");
  cmd->add_option("--remote", opts->remote, "prune the sets pushed to this [[remotes]] entry instead");
  cmd->add_flag("--dry-run", opts->dry_run, "show what would be deleted, delete nothing");
  cmd->add_flag("--json", opts->json, "print one JSON object");
  cmd->callback([&global, &action, opts] { action = [&global, opts] { return run_prune(global, *opts); }; });
}

}  // namespace auditpitr::cli
