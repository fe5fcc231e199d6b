// export_sql: where it may write, check, pg_restore -f from a VerifiedDump into an AtomicFile's
// temporary path (or stdout), commit.
#include "src/ops/export.h"

#include <limits.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <memory>

#include "src/catalog/catalog.h"
#include "src/error.h"
#include "src/ops/check.h"
#include "src/ops/verified_dump.h"
#include "src/pg/pg_restore.h"
#include "src/util/fs.h"
#include "src/util/interrupt.h"
#include "src/util/pause_point.h"
#include "verify/manifest.h"

namespace auditpitr::ops {
namespace {

bool to_stdout(const ExportRequest& request) { return request.sql_file == "-"; }

std::string real_path(const std::string& path) {
  char resolved[PATH_MAX];
  return ::realpath(path.c_str(), resolved) ? std::string(resolved) : std::string();
}

// Export writes only what it was asked to: never into the backup folder (its files are backups, and
// prune and restore trust what is there), never over an existing file without --force.
void check_target(const Config& config, const ExportRequest& request) {
  if (to_stdout(request)) return;
  std::string folder = real_path(parent_path(absolute_path(request.sql_file)));
  if (!folder.empty() && folder == real_path(config.backup_dir))
    throw usage_error(
        "'" + request.sql_file + "' is in the backup folder '" + config.backup_dir + "': export never writes there",
        "write the SQL elsewhere, e.g. --sql ./backup.sql, or to the standard output with --sql -");
  struct stat st {};
  if (::lstat(request.sql_file.c_str(), &st) != 0) return;
  if (S_ISDIR(st.st_mode)) throw usage_error("'" + request.sql_file + "' is a folder", "name the SQL file to write");
  if (!request.force)
    throw refused_error("'" + request.sql_file + "' already exists: export does not replace it unless told to",
                        "add --force to replace it, or choose another file (--sql - writes to the standard output)");
}

const DatabaseConfig& database_of(const Config& config, const ExportRequest& request) {
  if (request.alias.empty() && config.databases.size() > 1) {
    std::string aliases;
    for (const auto& db : config.databases) aliases += (aliases.empty() ? "" : ", ") + db.alias;
    throw usage_error("export writes one database: name it with --db", "configured: " + aliases);
  }
  return request.alias.empty() ? config.databases.front() : config.database(request.alias);
}

void write_all(int fd, const char* data, std::size_t size) {
  while (size > 0) {
    ssize_t n = ::write(fd, data, size);
    if (n < 0 && errno == EINTR) {
      throw_if_interrupted();  // a reader that stopped reading must not hold up Ctrl-C
      continue;
    }
    if (n < 0) throw system_error("unable to write the SQL to the standard output", errno);
    data += n;
    size -= static_cast<std::size_t>(n);
  }
}

}  // namespace

ExportResult export_sql(const Config& config, const ExportRequest& request, pg::ProcessRunner& runner,
                        const Reporter& reporter) {
  const DatabaseConfig& db = database_of(config, request);
  check_target(config, request);
  Catalog catalog = Catalog::scan(config.backup_dir);
  std::string note;
  const BackupFile& backup = catalog.resolve(request.stamp, db.dbname, &note);
  if (!note.empty()) reporter.warning(note);
  CheckResult checked = check_backup(config, backup, runner);
  if (!checked.sound())
    throw verification_error("backup '" + base_name(backup.path) + "' is damaged: " + checked.problem,
                             "export another backup");
  pause_point("checked");

  int dump_version = backup.has_manifest ? verify::load_manifest(backup.manifest_path).server_version_num : 0;
  VerifiedDump archive(backup.path, checked.verified, runner);
  std::unique_ptr<AtomicFile> out;
  uint64_t size = 0;
  pg::PgRestoreOptions options;
  options.input_file = archive.path();
  options.no_owner = request.no_owner;
  if (to_stdout(request)) {
    options.output_file = "-";
  } else {
    out = std::make_unique<AtomicFile>(request.sql_file, 0600);
    options.output_file = out->temp_path();
  }
  pg::Command command =
      pg::pg_restore_command(pg_restore_for(config, dump_version, runner), db.connect_info(), options);
  if (!out) {
    command.stdout_sink = [&size](const char* data, std::size_t n) {
      write_all(1, data, n);
      size += n;
    };
  }
  std::string target = out ? request.sql_file : "the standard output";
  reporter.info("Writing " + base_name(backup.path) + " as SQL to " + target + "...");
  pg::ProcessResult result = runner.run(command);
  if (!result.ok())
    throw runtime_error("pg_restore " + result.describe() + " writing '" + request.sql_file + "'",
                        out ? "nothing was written" : "what reached the standard output is incomplete",
                        result.stderr_tail);
  if (out) {
    size = file_size(out->temp_path());
    out->commit(request.force ? AtomicFile::Replace::allowed : AtomicFile::Replace::never);
  }
  return {db.dbname, backup.stamp, request.sql_file, size};
}

}  // namespace auditpitr::ops
