// export_sql: check, pg_restore -f into an AtomicFile's temporary path, commit.
#include "src/ops/export.h"

#include <sys/stat.h>

#include "src/catalog/catalog.h"
#include "src/error.h"
#include "src/ops/check.h"
#include "src/ops/restore_internal.h"
#include "src/pg/pg_restore.h"
#include "src/util/fs.h"
#include "verify/manifest.h"

namespace auditpitr::ops {

ExportResult export_sql(const Config& config, const ExportRequest& request, pg::ProcessRunner& runner,
                        const Reporter& reporter) {
  if (request.alias.empty() && config.databases.size() > 1) {
    std::string aliases;
    for (const auto& db : config.databases) aliases += (aliases.empty() ? "" : ", ") + db.alias;
    throw usage_error("export writes one database: name it with --db", "configured: " + aliases);
  }
  const DatabaseConfig& db = request.alias.empty() ? config.databases.front() : config.database(request.alias);
  Catalog catalog = Catalog::scan(config.backup_dir);
  std::string note;
  const BackupFile& backup = catalog.resolve(request.stamp, db.dbname, &note);
  if (!note.empty()) reporter.warning(note);
  CheckResult checked = check_backup(config, backup, runner);
  if (!checked.sound())
    throw verification_error("backup '" + base_name(backup.path) + "' is damaged: " + checked.problem,
                             "export another backup");

  int dump_version = backup.has_manifest ? verify::load_manifest(backup.manifest_path).server_version_num : 0;
  AtomicFile out(request.sql_file, 0600);
  pg::PgRestoreOptions options;
  options.output_file = out.temp_path();
  options.no_owner = request.no_owner;
  pg::Command command =
      pg::pg_restore_command(pg_restore_for(config, dump_version, runner), db.connect_info(), options);
  std::string problem;
  detail::feed_dump_to_stdin(command, backup.path, problem);
  reporter.info("Writing " + base_name(backup.path) + " as SQL to " + request.sql_file + "...");
  pg::ProcessResult result = runner.run(command);
  if (!problem.empty()) throw verification_error("backup '" + base_name(backup.path) + "' is damaged: " + problem);
  if (!result.ok())
    throw runtime_error("pg_restore " + result.describe() + " writing '" + request.sql_file + "'",
                        "nothing was written", result.stderr_tail);
  struct stat st {};
  uint64_t size = ::stat(out.temp_path().c_str(), &st) == 0 ? static_cast<uint64_t>(st.st_size) : 0;
  out.commit();
  return {db.dbname, backup.stamp, request.sql_file, size};
}

}  // namespace auditpitr::ops
