// auditpitr check: exit 0 when every selected dump of the stamp is sound, 3 otherwise.
#include <algorithm>
#include <memory>

#include "src/cli/cli_support.h"
#include "src/error.h"
#include "src/ops/check.h"
#include "src/ops/dump_reader.h"
#include "src/ops/file_archive.h"
#include "src/util/format.h"
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
  std::string vouched = r.has_manifest ? "sha256 matches the manifest, "
                                       : (r.manifest_problem.empty() ? "no manifest (old-script backup), " : "");
  if (r.contents_unverified) {
    out.success(base_name(r.path) + ": age header ok, " + (r.has_manifest ? "size and " + vouched : vouched) +
                "encrypted");
    out.warning(base_name(r.path) + ": " + r.not_verified);
  } else {
    out.success(base_name(r.path) + ": " + (r.encrypted ? "decrypted (age), " : "") + "gzip CRC ok, " + vouched +
                std::to_string(r.toc_entries) + " table-of-contents entries readable by pg_restore");
  }
  if (!r.manifest_problem.empty())
    out.warning(base_name(r.path) + ": " + r.manifest_problem +
                ". It was judged by its content alone (a whole gzip stream whose archive pg_restore can read), "
                "like an old-script backup: its sha256 and its rows' checksums cannot be verified, and a restore "
                "checks only that every table's data arrives");
}

void print_archive(const Output& out, const ops::ArchiveCheck& r) {
  if (!r.sound()) {
    out.line(out.red("[DAMAGED] ") + base_name(r.path) + ": " + r.problem);
    return;
  }
  if (r.contents_unverified) {
    out.success(base_name(r.path) + ": age header ok, " +
                (r.has_manifest ? "size and sha256 match the manifest, " : "") + "encrypted");
    out.warning(base_name(r.path) + ": " + r.not_verified);
    return;
  }
  std::string vouched = r.has_manifest ? "sha256 and file count match the manifest, "
                                       : (r.manifest_problem.empty() ? "no manifest (old-script archive), " : "");
  out.success(base_name(r.path) + ": " + (r.encrypted ? "decrypted (age), " : "") + "gzip CRC ok, " + vouched +
              count_text(r.file_count, "file") + " readable, every name safe to extract");
  if (!r.manifest_problem.empty())
    out.warning(base_name(r.path) + ": " + r.manifest_problem +
                ". It was judged by its content alone (a whole gzip stream holding a readable tar archive), like an "
                "old-script archive");
}

std::string to_json(const Config& config, const std::string& stamp, const std::vector<ops::CheckResult>& results,
                    const std::vector<std::string>& missing, const std::vector<ops::ArchiveCheck>& archives,
                    const std::vector<std::string>& missing_archives) {
  JsonWriter w;
  bool sound = missing.empty() && missing_archives.empty(), all_verified = true;
  for (const auto& a : archives) sound = sound && a.sound(), all_verified = all_verified && !a.contents_unverified;
  w.begin_object().field("stamp", stamp).key("files").begin_array();
  for (const auto& r : results) {
    sound = sound && r.sound();
    all_verified = all_verified && !r.contents_unverified;
    w.begin_object().field_or_null("alias", config.alias_of(r.dbname)).field("dbname", r.dbname);
    w.field("path", r.path).field("sound", r.sound());
    w.field("manifest", r.has_manifest).field_or_null("manifest_problem", r.manifest_problem);
    w.field("encrypted", r.encrypted).field("contents_verified", !r.contents_unverified);
    w.field_or_null("not_verified", r.not_verified);
    if (r.contents_unverified) {  // not known: null, not false
      w.key("gzip_ok").null().field("sha256_ok", r.sha256_ok).key("toc_ok").null().key("toc_entries").null();
    } else {
      w.field("gzip_ok", r.gzip_ok).field("sha256_ok", r.sha256_ok);
      w.field("toc_ok", r.toc_ok).field("toc_entries", r.toc_entries);
    }
    w.field_or_null("problem", r.problem).end_object();
  }
  w.end_array().key("missing_databases").begin_array();
  for (const auto& db : missing) w.value(db);
  w.end_array().key("archives").begin_array();
  for (const auto& a : archives) {
    w.begin_object().field("name", a.name).field("path", a.path).field("sound", a.sound());
    w.field("manifest", a.has_manifest).field_or_null("manifest_problem", a.manifest_problem);
    w.field("encrypted", a.encrypted).field("contents_verified", !a.contents_unverified);
    w.field_or_null("not_verified", a.not_verified).field("sha256_ok", a.sha256_ok);
    if (a.contents_unverified) w.key("file_count").null();
    else w.field("file_count", a.file_count);
    w.field_or_null("problem", a.problem);
    w.end_object();
  }
  w.end_array().key("missing_archives").begin_array();
  for (const auto& name : missing_archives) w.value(name);
  w.end_array().field("sound", sound).field("contents_verified", all_verified).end_object();
  return w.str();
}

std::vector<std::string> dbnames_of(const std::vector<const DatabaseConfig*>& dbs) {
  std::vector<std::string> names;
  for (const auto* db : dbs) names.push_back(db->dbname);
  return names;
}

int run_check(const GlobalOptions& global, const CheckOptions& opts) {
  Config config = load(global);
  Output out(opts.json);
  Catalog catalog = Catalog::scan(config.backup_dir);
  pg::PosixProcessRunner runner;
  std::vector<const DatabaseConfig*> dbs = config.select(opts.aliases);
  std::string note;
  std::vector<std::string> names = dbnames_of(dbs);
  std::string stamp = catalog.resolve_stamp(opts.stamp, names, &note);  // one stamp for all of them
  if (!note.empty()) out.warning(note);
  const BackupSet* set = catalog.find(stamp);
  std::vector<std::string> missing;  // of the selected databases, those the run stopped before
  for (const auto& db : set ? set->missing_databases() : std::vector<std::string>{})
    if (std::find(names.begin(), names.end(), db) != names.end()) missing.push_back(db);
  std::vector<ops::CheckResult> results;
  for (const DatabaseConfig* db : dbs) {
    bool absent = set && !set->dump_of(db->dbname);
    if (absent && (opts.aliases.empty() || !missing.empty())) continue;  // a --db backup, or partial: said below
    const BackupFile& file = catalog.resolve(stamp, db->dbname);
    out.info("Checking " + base_name(file.path) + "...");
    results.push_back(ops::check_backup(config, file, runner));
    print_result(out, results.back());
  }
  if (results.empty()) catalog.resolve(stamp, config.databases.front().dbname);  // throws the clear error
  // The set's file archives go with a check of the whole set (not with --db).
  std::vector<ops::ArchiveCheck> archives;
  std::vector<std::string> missing_archives;
  if (set && opts.aliases.empty()) {
    missing_archives = set->missing_archives();
    for (const auto& a : set->archives) {
      out.info("Checking " + base_name(a.path) + "...");
      archives.push_back(ops::check_archive(a, ops::identity_of(config), runner));
      print_archive(out, archives.back());
    }
  }
  bool sound = missing.empty() && missing_archives.empty();
  for (const auto& r : results) sound = sound && r.sound();
  for (const auto& a : archives) sound = sound && a.sound();
  out.json(to_json(config, stamp, results, missing, archives, missing_archives));
  if (!missing_archives.empty()) {
    out.line(out.red("[PARTIAL] ") + "backup " + stamp + ": the run stopped before archiving " +
             join_names(missing_archives));
    if (missing.empty()) return 3;
  }
  if (!missing.empty()) {
    out.line(out.red("[PARTIAL] ") + "backup " + stamp + ": the run stopped before backing up " + join_names(missing));
    if (!opts.json)
      out.line("Backup " + stamp +
               " is partial: restore only the databases it holds (--db), or use a whole backup "
               "(auditpitr list).");
    return 3;
  }
  if (!sound) {
    if (!opts.json) out.line("Backup " + stamp + " is damaged: do not restore it; use another (auditpitr list).");
    return 3;
  }
  bool unverified = std::any_of(results.begin(), results.end(), [](auto& r) { return r.contents_unverified; }) ||
                    std::any_of(archives.begin(), archives.end(), [](auto& a) { return a.contents_unverified; });
  if (unverified) {
    out.success("Backup " + stamp +
                " is sound as far as it could be checked without the identity: its encrypted "
                "files are those the backup wrote; their contents were not verified (--identity FILE checks them)");
    return 0;
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
              "the manifest, and pg_restore reading the dump's table of contents; without --db, the set's\n"
              "file archives too (tar readable, names safe, sha256 and file count against their manifest).\n"
              "Exit 0 when sound, 3 when damaged (with the reason). An encrypted backup (.age) is decrypted with\n"
              "the identity file ([backup] identity_file or --identity FILE); without one, its age header and\n"
              "its sha256 and size are checked and the output says its contents were not.\n"
              "Example: auditpitr check latest --db portfolio");
  cmd->add_option("STAMP", opts->stamp, "backup stamp (YYYYMMDD_HHMMSS), a backup's file name, or 'latest'")
      ->required();
  cmd->add_option("--db", opts->aliases, "database alias (repeatable; default: all in the backup)");
  cmd->add_flag("--json", opts->json, "print one JSON object");
  cmd->callback([&global, &action, opts] { action = [&global, opts] { return run_check(global, *opts); }; });
}

}  // namespace auditpitr::cli
