// auditpitr backup: thin wiring over ops::run_backup, output in the old script's spirit.
#include <memory>

#include "src/cli/cli_support.h"
#include "src/ops/backup.h"
#include "src/pg/process_runner.h"
#include "src/util/fs.h"
#include "src/util/json_writer.h"

namespace auditpitr::cli {
namespace {

struct BackupOptions {
  std::vector<std::string> aliases;
  bool json = false;
};

std::string to_json(const ops::BackupResult& r) {
  JsonWriter w;
  w.begin_object().field("stamp", r.stamp).key("databases").begin_array();
  for (const auto& d : r.databases) {
    w.begin_object().field("alias", d.alias).field("dbname", d.dbname).field("file", d.path);
    w.field("manifest", d.manifest_path).field("size", d.size).field("uncompressed_size", d.uncompressed_size);
    w.field("tables", static_cast<uint64_t>(d.tables)).field("rows", d.rows);
    w.field("snapshot_time_utc", d.snapshot_time_utc).field("seconds", d.seconds).end_object();
  }
  w.end_array().key("files").begin_array();
  for (const auto& f : r.files) {
    w.begin_object().field("name", f.name).field("source_path", f.source_path).field("file", f.path);
    w.field("manifest", f.manifest_path).field("size", f.size).field("file_count", f.file_count);
    w.field("content_size", f.content_bytes).field("sha256", f.sha256).field("seconds", f.seconds).end_object();
  }
  w.end_array().key("retention").begin_object().key("deleted").begin_array();
  for (const auto& f : r.retention.deleted_files) w.value(f);
  w.end_array().end_object();
  w.field("restore_command", "auditpitr restore " + r.stamp).end_object();
  return w.str();
}

void print_human(const Output& out, const Config& config, const ops::BackupResult& r) {
  out.success("Backups written:");
  for (const auto& d : r.databases) out.line("  - " + base_name(d.path) + " (" + human_size(d.size) + ")");
  for (const auto& f : r.files)
    out.line("  - " + base_name(f.path) + " (" + human_size(f.size) + ", " + count_text(f.file_count, "file") + ")");
  std::size_t deleted = r.retention.deleted_stamps.size();
  if (deleted > 0) {
    out.success("Deleted " + std::to_string(deleted) + " old backup(s)");
  } else {
    out.info("No old backups to delete");
  }
  out.success("Backup completed successfully!");
  out.line();
  out.line("Backup location: " + config.backup_dir);
  out.line("Timestamp: " + r.stamp);
  out.line("Retention: " + describe_policy(config.retention));
  out.line();
  out.info("To restore this backup, run: auditpitr restore " + r.stamp);
}

}  // namespace

void add_backup_command(CLI::App& app, const GlobalOptions& global, Action& action) {
  auto opts = std::make_shared<BackupOptions>();
  CLI::App* cmd = app.add_subcommand("backup", "Back up the configured databases (like 'make db-backup')");
  set_details(cmd,
              "Back up every configured database (or those named with --db) into the backup folder:\n"
              "  <dbname>_<YYYYMMDD_HHMMSS>.dump.gz   pg_dump custom format in gzip (gunzip | pg_restore works)\n"
              "  <dbname>_<YYYYMMDD_HHMMSS>.manifest.json   row counts and checksums of the snapshot, sha256\n"
              "  <dbname>_latest.dump.gz              link to the newest\n"
              "  <name>_<YYYYMMDD_HHMMSS>.tar.gz      each [[files]] folder (uploads), with a .manifest.json\n"
              "then apply retention. With [backup] encrypt_to, the dumps are encrypted with age:\n"
              "<dbname>_<stamp>.dump.gz.age and <dbname>_latest.dump.gz.age (docs/encryption.md).\n"
              "Example: auditpitr backup --db portfolio");
  cmd->add_option("--db", opts->aliases, "database alias to back up (repeatable; default: all)");
  cmd->add_flag("--json", opts->json, "print one JSON object instead of the report");
  cmd->callback([&global, &action, opts] {
    action = [&global, opts] {
      Config config = load(global);
      Output out(opts->json);
      pg::PosixProcessRunner runner;
      ops::BackupResult result = ops::run_backup(config, opts->aliases, runner, reporter_for(out));
      if (opts->json) {
        out.json(to_json(result));
      } else {
        print_human(out, config, result);
      }
      return 0;
    };
  });
}

}  // namespace auditpitr::cli
