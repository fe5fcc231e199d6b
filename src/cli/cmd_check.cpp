// auditpitr check: exit 0 when every selected dump of the stamp is sound, 3 otherwise.
#include <memory>

#include "src/cli/cli_support.h"
#include "src/error.h"
#include "src/ops/check.h"
#include "src/util/fs.h"
#include "src/util/json_writer.h"

namespace auditpitr::cli {
namespace {

struct CheckOptions {
  std::string stamp;
  std::vector<std::string> aliases;
  bool json = false;
};

void print_result(const Output& out, const ops::CheckResult& r) {
  if (!r.sound()) {
    out.line(out.red("[DAMAGED] ") + base_name(r.path) + ": " + r.problem);
    return;
  }
  out.success(base_name(r.path) + ": gzip CRC ok, " +
              (r.has_manifest ? "sha256 matches the manifest, " : "no manifest (old-script backup), ") +
              std::to_string(r.toc_entries) + " table-of-contents entries readable by pg_restore");
}

std::string to_json(const std::string& stamp, const std::vector<ops::CheckResult>& results) {
  JsonWriter w;
  bool sound = true;
  w.begin_object().field("stamp", stamp).key("files").begin_array();
  for (const auto& r : results) {
    sound = sound && r.sound();
    w.begin_object().field("dbname", r.dbname).field("path", r.path).field("sound", r.sound());
    w.field("manifest", r.has_manifest).field("gzip_ok", r.gzip_ok).field("sha256_ok", r.sha256_ok);
    w.field("toc_ok", r.toc_ok).field("toc_entries", r.toc_entries).field("problem", r.problem).end_object();
  }
  w.end_array().field("sound", sound).end_object();
  return w.str();
}

int run_check(const GlobalOptions& global, const CheckOptions& opts) {
  Config config = load(global);
  Output out(opts.json);
  Catalog catalog = Catalog::scan(config.backup_dir);
  pg::PosixProcessRunner runner;
  std::vector<ops::CheckResult> results;
  std::string stamp = opts.stamp;
  for (const DatabaseConfig* db : config.select(opts.aliases)) {
    std::string note;
    const BackupFile* file = nullptr;
    try {
      file = &catalog.resolve(opts.stamp, db->dbname, &note);
    } catch (const Error& e) {
      if (!opts.aliases.empty() || e.kind() != ErrorKind::usage || opts.stamp == "latest") throw;
      continue;  // a stamp without this database (e.g. a --db backup): check what exists
    }
    if (!note.empty()) out.warning(note);
    stamp = file->stamp;
    out.info("Checking " + base_name(file->path) + "...");
    results.push_back(ops::check_backup(config, *file, runner));
    print_result(out, results.back());
  }
  if (results.empty()) catalog.resolve(opts.stamp, config.databases.front().dbname);  // throws the clear error
  bool sound = true;
  for (const auto& r : results) sound = sound && r.sound();
  out.json(to_json(stamp, results));
  if (!sound) {
    if (!opts.json) out.line("Backup " + stamp + " is damaged: do not restore it; use another (auditpitr list).");
    return 3;
  }
  out.success("Backup " + stamp + " is sound");
  return 0;
}

}  // namespace

void add_check_command(CLI::App& app, const GlobalOptions& global, Action& action) {
  auto opts = std::make_shared<CheckOptions>();
  CLI::App* cmd = app.add_subcommand("check", "Verify a backup: gzip CRC, sha256 against its manifest, readable dump");
  set_details(cmd,
              "Verify a backup without restoring it: a full gzip CRC pass, the sha256 and size recorded in\n"
              "the manifest, and pg_restore reading the dump's table of contents. Exit 0 when sound, 3 when\n"
              "damaged (with the reason). Example: auditpitr check latest --db portfolio");
  cmd->add_option("stamp", opts->stamp, "backup stamp (YYYYMMDD_HHMMSS) or 'latest'")->required();
  cmd->add_option("--db", opts->aliases, "database alias (repeatable; default: all in the backup)");
  cmd->add_flag("--json", opts->json, "print one JSON object");
  cmd->callback([&global, &action, opts] { action = [&global, opts] { return run_check(global, *opts); }; });
}

}  // namespace auditpitr::cli
