// Phase 1 of a restore: which backup goes where, and is it sound? Nothing is touched here.
#include <algorithm>
#include <chrono>

#include "src/error.h"
#include "src/ops/check.h"
#include "src/ops/database_marks.h"
#include "src/ops/dump_reader.h"
#include "src/ops/restore_internal.h"
#include "src/util/fs.h"
#include "src/util/pause_point.h"

namespace auditpitr::ops {
namespace {

void validate_request(const Config& config, const RestoreRequest& request) {
  if (!request.tables.empty() && !request.data_only)
    throw usage_error("--table needs --data-only", "tables are restored into the live database, whose tables exist");
  if (request.data_only && request.tables.empty())
    throw usage_error("--data-only needs at least one --table", "a whole database is restored without --data-only");
  if (!request.tables.empty() && !request.into.empty())
    throw usage_error("--table cannot be combined with --into",
                      "restore the whole backup with --into, then copy what you need");
  if (!request.into.empty() && config.select(request.aliases).size() != 1)
    throw usage_error("--into restores one database: name it with --db",
                      "e.g. --db portfolio --into portfolio_db_inspect");
  if (request.jobs < 0) throw usage_error("--jobs must be 1 or more");
  if ((request.files || request.files_only) && (!request.into.empty() || !request.tables.empty()))
    throw usage_error("--files cannot be combined with --into or --table",
                      "--files puts the set's archives back into their configured folders, with the databases");
  if ((request.files || request.files_only) && config.files.empty())
    throw usage_error("--files needs a [[files]] entry in the configuration",
                      "add one naming the folder the archive goes back to, e.g. [[files]] name = \"uploads\" "
                      "path = \"uploads\" (docs/configuration.md)");
}

// --files: each configured [[files]] archive of the set, checked whole before anything is touched.
void plan_files(const Catalog& catalog, const Config& config, RestorePlan& plan, pg::ProcessRunner& runner,
                const Reporter& reporter) {
  const BackupSet* set = catalog.find(plan.stamp);
  for (const auto& a : set->archives)
    if (!config.files_named(a.name))
      reporter.warning(base_name(a.path) + " is not restored: no [[files]] entry is named '" + a.name + "'");
  for (const auto& f : config.files) {
    const ArchiveFile* archive = set->archive_of(f.name);
    if (!archive) {
      reporter.warning("backup " + plan.stamp + " holds no archive of '" + f.name + "': " + f.path +
                       " is left as it is");
      continue;
    }
    FilesTarget target;
    target.files = &f;
    target.path = files_folder(f.path);
    target.archive = *archive;
    target.kept = kept_folder_name(target.path, plan.stamp);
    std::string left = recover_files_leftover(target.path);
    if (!left.empty()) reporter.info(left);
    if (path_exists(target.kept))
      throw runtime_error(
          "'" + target.kept + "' already exists: it is the kept copy of an earlier restore of this backup",
          "undo that restore (auditpitr restore --undo " + plan.stamp +
              " --files) or move the copy away, then run this again");
    reporter.info("Checking " + base_name(archive->path) + "...");
    target.identity = identity_of(config);
    target.checked = check_archive(*archive, target.identity, runner, true);
    if (!target.checked.sound())
      throw verification_error(
          "archive '" + base_name(archive->path) + "' is damaged: " + target.checked.problem + "; nothing was changed",
          "use another backup (auditpitr list), e.g. auditpitr restore <older stamp> --files");
    if (!target.checked.manifest_problem.empty())
      reporter.warning(base_name(archive->path) + ": " + target.checked.manifest_problem +
                       "; it is judged by its content alone, like an old-script archive");
    reporter.success(base_name(archive->path) + " is sound (" + std::to_string(target.checked.file_count) + " files" +
                     (target.checked.has_manifest ? ", sha256 matches its manifest)" : ", no manifest)"));
    plan.files.push_back(target);
  }
  if (plan.files.empty())
    throw usage_error(
        "backup " + plan.stamp + " holds no archive of the configured [[files]]: nothing to restore with --files",
        "leave out --files, or choose a backup that has one (auditpitr list)");
}

}  // namespace

std::string restoring_name(const std::string& dbname, const std::string& stamp) {
  return copy_name(CopyKind::restoring, dbname, stamp);
}
std::string before_restore_name(const std::string& dbname, const std::string& stamp) {
  return copy_name(CopyKind::kept, dbname, stamp);
}
std::string undone_name(const std::string& dbname, const std::string& stamp) {
  return copy_name(CopyKind::undone, dbname, stamp);
}

RestorePlan plan_restore(const Config& config, const RestoreRequest& request, pg::ProcessRunner& runner,
                         const Reporter& reporter) {
  validate_request(config, request);
  RestorePlan plan;
  plan.request = request;
  Catalog catalog = Catalog::scan(config.backup_dir);
  std::vector<const DatabaseConfig*> dbs = config.select(request.aliases);
  std::vector<std::string> dbnames;
  for (const DatabaseConfig* db : dbs) dbnames.push_back(db->dbname);
  std::string note;
  std::string stamp = catalog.resolve_stamp(request.stamp, dbnames, &note);  // one stamp for every database
  if (!note.empty()) reporter.warning(note);
  for (const DatabaseConfig* db : dbs) {
    RestoreTarget target;
    target.database = db;
    target.backup = catalog.resolve(stamp, db->dbname);
    target.note = note;
    target.target_dbname = request.into.empty() ? db->dbname : request.into;
    // The names must be derivable before anything starts.
    restoring_name(target.target_dbname, target.backup.stamp);
    if (request.into.empty()) before_restore_name(target.target_dbname, target.backup.stamp);  // --into keeps none
    plan.targets.push_back(target);
  }
  plan.stamp = plan.targets.front().backup.stamp;
  if (request.files_only) {  // the set's archives alone: its dumps are neither checked nor restored
    plan.targets.clear();
    plan_files(catalog, config, plan, runner, reporter);
    pause_point("checked");
    return plan;
  }
  for (auto& target : plan.targets) {
    reporter.info("Checking " + base_name(target.backup.path) + "...");
    auto start = std::chrono::steady_clock::now();
    CheckResult checked = check_backup(config, target.backup, runner, CheckDepth::before_restore);
    target.check_seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    if (!checked.sound())
      throw verification_error(
          "backup '" + base_name(target.backup.path) + "' is damaged: " + checked.problem + "; nothing was changed",
          "use another backup (auditpitr list), e.g. auditpitr restore <older stamp>");
    target.backup.has_manifest = checked.has_manifest;  // a damaged manifest vouches for nothing
    if (!checked.manifest_problem.empty())
      reporter.warning(base_name(target.backup.path) + ": " + checked.manifest_problem +
                       "; it is verified like an old-script backup (no checksums to compare after the restore)");
    target.checked = checked.verified;
    reporter.success(base_name(target.backup.path) + " is sound" +
                     (checked.has_manifest               ? " (sha256 matches its manifest)"
                      : checked.manifest_problem.empty() ? " (old-script backup: no manifest)"
                                                         : " (judged by its content: no valid manifest)"));
  }
  // Every database (and archive) is checked before the first one is written to.
  if (!request.tables.empty()) detail::check_table_targets(config, plan.targets, request, runner);
  if (request.files) plan_files(catalog, config, plan, runner, reporter);

  pause_point("checked");
  return plan;
}

namespace {

// The old script's box, every line padded to the same width (its text is ASCII, so bytes are columns).
std::string boxed(const std::vector<std::string>& lines) {
  constexpr std::size_t kWidth = 63;
  std::string rule;
  for (std::size_t i = 0; i < kWidth; ++i) rule += "═";
  std::string box = "╔" + rule + "╗\n";
  for (const auto& line : lines) box += "║" + line + std::string(kWidth - std::min(kWidth, line.size()), ' ') + "║\n";
  return box + "╚" + rule + "╝\n";
}

std::string quoted_list(const std::vector<std::string>& names) {
  std::string list;
  for (const auto& n : names) list += (list.empty() ? "'" : ", '") + n + "'";
  return list;
}

}  // namespace

std::string target_names(const RestorePlan& plan) {
  std::string names;
  for (const auto& t : plan.targets) names += (names.empty() ? "" : ", ") + t.target_dbname;
  return names;
}

std::string warning_box(const RestorePlan& plan) {
  // Said as it is: a whole restore replaces each database and keeps the one it replaced (--undo);
  // a --data-only restore replaces nothing, it adds rows to the live tables.
  std::string box;
  if (plan.request.data_only) {
    box = boxed({"", "                          WARNING", "",
                 "  This will ADD the rows of the backup " + plan.stamp + " to live",
                 "  tables, in one transaction: a row that is already there",
                 "  rolls all of it back. Nothing is replaced or kept."});
    box += "\nTables: " + quoted_list(plan.request.tables) + "\nDatabases to add rows to:\n";
    for (const auto& t : plan.targets) box += "  " + t.target_dbname + " <- " + base_name(t.backup.path) + "\n";
    return box;
  }
  if (plan.targets.empty()) {  // --files-only
    box = boxed({"", "                          WARNING", "",
                 "  This will REPLACE the current folder(s) with the archives",
                 "  of the backup " + plan.stamp + ". Each replaced folder is kept",
                 "  beside it, and 'auditpitr restore --undo " + plan.stamp + " --files'",
                 "  puts it back. No database is touched."});
    box += "\nFolders to replace:\n";
    for (const auto& f : plan.files)
      box += "  " + f.path + " <- " + base_name(f.archive.path) + " (the current contents kept as " + f.kept + ")\n";
    return box;
  }
  box =
      boxed({"", "                          WARNING", "", "  This will REPLACE the current database(s) with the backup",
             "  from " + plan.stamp + ": changes made since then will be gone",
             "  from them. Each replaced database is kept, and",
             "  'auditpitr restore --undo " + plan.stamp + "' puts it back."});
  if (!plan.targets.empty()) box += "\nDatabases to replace:\n";
  else box += "\n";
  for (const auto& t : plan.targets)
    box += "  " + t.target_dbname + " <- " + base_name(t.backup.path) + " (the current one kept as " +
           before_restore_name(t.target_dbname, plan.stamp) + ")\n";
  if (!plan.files.empty()) box += "Folders to replace:\n";
  for (const auto& f : plan.files)
    box += "  " + f.path + " <- " + base_name(f.archive.path) + " (the current contents kept as " + f.kept + ")\n";
  return box;
}

namespace detail {

std::vector<std::string> table_data_entries(const pg::Tool& pg_restore, const std::string& archive_path,
                                            pg::ProcessRunner& runner) {
  pg::Command list = pg_restore.command({"--list"});
  if (pg_restore.through_exec()) list.stdin_file = absolute_path(archive_path);  // the container sees no host file
  else list.args.push_back(absolute_path(archive_path));                         // absolute: never read as an option
  list.capture_stdout = true;
  pg::ProcessResult listed = runner.run(list);
  if (!listed.ok())
    throw verification_error("pg_restore cannot read the table of contents of '" + base_name(archive_path) +
                             "': " + listed.last_stderr_line());
  std::vector<std::string> entries;
  static const std::string kTableData = " TABLE DATA ";
  std::size_t start = 0;
  const std::string& text = listed.stdout_text;
  while (start < text.size()) {
    std::size_t end = text.find('\n', start);
    if (end == std::string::npos) end = text.size();
    std::string line = text.substr(start, end - start);
    auto at = line.find(kTableData);
    if (!line.empty() && line[0] != ';' && at != std::string::npos)
      entries.push_back(line.substr(at + kTableData.size()));
    start = end + 1;
  }
  return entries;
}

}  // namespace detail
}  // namespace auditpitr::ops
