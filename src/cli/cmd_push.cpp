// auditpitr push and pull: off-site copies of the backup folder through rclone.
#include <algorithm>
#include <ctime>
#include <memory>

#include "src/cli/cli_support.h"
#include "src/error.h"
#include "src/ops/outcome_record.h"
#include "src/ops/push.h"
#include "src/remote/rclone_store.h"
#include "src/util/format.h"
#include "src/util/fs.h"
#include "src/util/json_writer.h"

namespace auditpitr::cli {
namespace {

struct PushOptions {
  std::string remote;
  bool logs = false;
  bool json = false;
};

struct PullOptions {
  std::string stamp;
  std::string remote;
  bool json = false;
};

void files_json(JsonWriter& w, const std::vector<ops::CopiedFile>& files) {
  w.begin_array();
  for (const auto& f : files)
    w.begin_object().field("name", f.name).field("size", f.size).field("sha256", f.sha256).end_object();
  w.end_array();
}

void prune_json(JsonWriter& w, const std::optional<ops::RemotePrune>& prune) {
  if (!prune) {
    w.null();
    return;
  }
  w.begin_object().field("policy", prune->policy).key("deleted_stamps").begin_array();
  for (const auto& s : prune->deleted_stamps) w.value(s);
  w.end_array().key("deleted_files").begin_array();
  for (const auto& f : prune->deleted_files) w.value(f);
  w.end_array().key("kept").begin_array();
  for (const auto& [stamp, why] : prune->kept) w.begin_object().field("stamp", stamp).field("reason", why).end_object();
  w.end_array().end_object();
}

std::string push_json(const std::vector<ops::PushResult>& results) {
  JsonWriter w;
  w.begin_object().key("remotes").begin_array();
  for (const auto& r : results) {
    w.begin_object().field("name", r.remote).field("rclone", r.rclone).field("verified_by", r.verified_by);
    w.key("pushed").begin_array();
    for (const auto& p : r.pushed) {
      w.begin_object().field("stamp", p.stamp).field("bytes", p.bytes).field("repaired", p.repaired).key("files");
      files_json(w, p.files);
      w.end_object();
    }
    w.end_array().key("already_there").begin_array();
    for (const auto& s : r.already_there) w.value(s);
    w.end_array().key("not_pushed").begin_array();
    for (const auto& [stamp, why] : r.not_pushed)
      w.begin_object().field("stamp", stamp).field("reason", why).end_object();
    w.end_array().key("logs");
    if (r.logs) {
      w.begin_object().field("unchanged", static_cast<uint64_t>(r.logs->unchanged)).field("bytes", r.logs->bytes);
      w.key("uploaded");
      files_json(w, r.logs->uploaded);
      w.end_object();
    } else {
      w.null();
    }
    w.key("prune");
    prune_json(w, r.prune);
    w.field("bytes", r.bytes).end_object();
  }
  w.end_array().end_object();
  return w.str();
}

int run_push(const GlobalOptions& global, const PushOptions& opts) {
  Config config = load(global);
  Output out(opts.json);
  std::vector<const RemoteConfig*> remotes;
  if (!opts.remote.empty() || config.remotes.size() <= 1) {
    remotes.push_back(&config.remote(opts.remote));
  } else {
    for (const auto& r : config.remotes) remotes.push_back(&r);
  }
  remote::require_rclone();
  pg::PosixProcessRunner runner;
  std::vector<ops::PushResult> results;
  // One record per run, for 'auditpitr status': ok only when every remote got its copies.
  ops::OutcomeRecord record;
  record.operation = "push";
  record.started = std::time(nullptr);
  for (const RemoteConfig* r : remotes) {
    remote::RcloneStore store(*r, runner);
    out.info("Pushing " + config.backup_dir + (opts.logs ? " and the audit logs" : "") + " to " + store.describe());
    try {
      results.push_back(ops::push_backups(config, *r, store, opts.logs, std::time(nullptr), reporter_for(out)));
    } catch (const std::exception& e) {
      record.finished = std::time(nullptr);
      record.detail += (record.detail.empty() ? "" : "; ") + ("remote '" + r->name + "' failed: " + e.what());
      ops::record_outcome(config.backup_dir, record);
      throw;
    }
    const ops::PushResult& result = results.back();
    for (const auto& p : result.pushed) record.stamp = std::max(record.stamp, p.stamp);
    for (const auto& s : result.already_there) record.stamp = std::max(record.stamp, s);
    record.bytes += result.bytes;
    record.detail += (record.detail.empty() ? "" : "; ") +
                     ("remote '" + r->name + "': " + std::to_string(result.pushed.size()) + " pushed, " +
                      std::to_string(result.already_there.size()) + " already there" +
                      (result.logs ? ", " + std::to_string(result.logs->uploaded.size()) + " log file(s)" : ""));
    for (const auto& [stamp, why] : result.not_pushed) out.line("  not pushing " + stamp + " (" + why + ")");
    if (result.prune)
      for (const auto& s : result.prune->deleted_stamps)
        out.line("  deleted " + s + " from the remote (its retention: " + result.prune->policy + ")");
    out.success(std::to_string(result.pushed.size()) + " backup(s) pushed to " + store.describe() + ", " +
                std::to_string(result.already_there.size()) + " already there; " + human_size(result.bytes) +
                " uploaded, each copy verified by " +
                (result.verified_by == "download" ? "reading it back (sha256): the remote computes no hash"
                                                  : "its " + result.verified_by + " computed by the remote"));
  }
  record.ok = true;
  record.finished = std::time(nullptr);
  ops::record_outcome(config.backup_dir, record);
  out.json(push_json(results));
  return 0;
}

std::string pull_json(const ops::PullResult& r, const Config& config) {
  JsonWriter w;
  w.begin_object().field("remote", r.remote).field("stamp", r.stamp).field("dir", config.backup_dir);
  w.key("downloaded");
  files_json(w, r.downloaded);
  w.key("already_here").begin_array();
  for (const auto& f : r.already_here) w.value(f);
  w.end_array().field("checked_dumps", r.checked_dumps).field("checked_archives", r.checked_archives);
  w.field("bytes", r.bytes).end_object();
  return w.str();
}

int run_pull(const GlobalOptions& global, const PullOptions& opts) {
  Config config = load(global);
  Output out(opts.json);
  const RemoteConfig& r = config.remote(opts.remote);
  remote::require_rclone();
  pg::PosixProcessRunner runner;
  remote::RcloneStore store(r, runner);
  ensure_directory(config.backup_dir, 0700);
  DirectoryLock lock(config.backup_dir, "pull and a backup");
  ops::PullResult result = ops::pull_backup(config, r, store, opts.stamp, runner, reporter_for(out));
  if (!opts.json && !result.already_here.empty())
    out.line("  " + std::to_string(result.already_here.size()) + " file(s) were here already, identical");
  out.json(pull_json(result, config));
  return 0;
}

}  // namespace

void add_push_command(CLI::App& app, const GlobalOptions& global, Action& action) {
  auto opts = std::make_shared<PushOptions>();
  CLI::App* cmd = app.add_subcommand("push", "Copy the backups (and audit logs) to an off-site rclone remote");
  set_details(cmd,
              "Copy every complete backup set the remote lacks to a [[remotes]] entry of the configuration\n"
              "(any rclone remote: S3, GCS, SFTP, WebDAV, a NAS folder). A set still being written, or\n"
              "partial, is never pushed. Each file goes to a temporary name, is verified by size and\n"
              "checksum (the remote's own sha256/sha1/md5, else read back), then renamed; manifests after\n"
              "their dumps, and the set's record (pushed/STAMP.json) last, so a push stopped part-way shows\n"
              "as incomplete. --logs also copies the audit folder's new and grown files (rotated ones too).\n"
              "A remote with keep_*/retention_days of its own is then pruned. Credentials stay in rclone's\n"
              "configuration ([[remotes]] config = \"rclone.conf\"), never on the command line.\n"
              "Without --remote: every configured remote.\n"
              "Examples: auditpitr push\n"
              "          auditpitr push --remote offsite --logs\n"
              "          auditpitr push --json > pushed.json");
  cmd->add_option("--remote", opts->remote, "the [[remotes]] name (default: every configured remote)");
  cmd->add_flag("--logs", opts->logs, "copy the audit logs too (only new or grown files)");
  cmd->add_flag("--json", opts->json, "print one JSON object");
  cmd->callback([&global, &action, opts] { action = [&global, opts] { return run_push(global, *opts); }; });
}

void add_pull_command(CLI::App& app, const GlobalOptions& global, Action& action) {
  auto opts = std::make_shared<PullOptions>();
  CLI::App* cmd = app.add_subcommand("pull", "Bring a backup back from an off-site remote, checked before use");
  set_details(cmd,
              "Download a backup set pushed to a remote into the backup folder: each file under a temporary\n"
              "name, compared with the size and sha256 push recorded, each dump checked as 'auditpitr check'\n"
              "does, and only then renamed into place. A damaged or incomplete remote copy exits 3 naming the\n"
              "file and leaves nothing behind; a different file of the same name here is refused (exit 4).\n"
              "Examples: auditpitr pull latest\n"
              "          auditpitr pull 20250123_140530 --remote offsite\n"
              "          auditpitr list --remote offsite   # what the remote holds");
  cmd->add_option("STAMP", opts->stamp, "backup stamp (YYYYMMDD_HHMMSS) on the remote, or 'latest'")->required();
  cmd->add_option("--remote", opts->remote, "the [[remotes]] name (default: the only one)");
  cmd->add_flag("--json", opts->json, "print one JSON object");
  cmd->callback([&global, &action, opts] { action = [&global, opts] { return run_pull(global, *opts); }; });
}

}  // namespace auditpitr::cli
