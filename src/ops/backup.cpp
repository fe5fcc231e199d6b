// run_backup: per database, snapshot -> (pg_dump | in-process gzip -> temp file) with the checksums
// computed from the same rows as they pass -> rename dump -> manifest; once every database is done, the
// latest links -> retention. Each dump's gzip header names all the run's databases, so a run that
// stops part-way leaves a set the catalog sees as partial.
#include "src/ops/backup.h"

#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <ctime>
#include <map>
#include <thread>

#include "src/catalog/catalog.h"
#include "src/catalog/stamp.h"
#include "src/error.h"
#include "src/ops/backup_file.h"
#include "src/ops/outcome_record.h"
#include "src/ops/verified_dump.h"
#include "src/pg/connection.h"
#include "src/pg/custom_archive.h"
#include "src/pg/pg_tools.h"
#include "src/util/format.h"
#include "src/util/fs.h"
#include "src/util/gzip.h"
#include "src/util/interrupt.h"
#include "src/util/pause_point.h"
#include "src/util/sha256.h"
#include "verify/database_checksum.h"
#include "verify/dump_checksum.h"
#include "verify/manifest.h"

namespace auditpitr::ops {

const char* const kToolVersion = "0.1.0";

namespace {

using Clock = std::chrono::steady_clock;
using SnapshotTransaction = pqxx::transaction<pqxx::repeatable_read, pqxx::read_only>;

double seconds_since(Clock::time_point start) { return std::chrono::duration<double>(Clock::now() - start).count(); }

// A stamp no selected database has used yet: two backups within one second wait for the next.
std::string fresh_stamp(const Config& config, const std::vector<const DatabaseConfig*>& dbs) {
  for (;;) {
    std::string stamp = time_to_stamp(std::time(nullptr));
    bool taken = false;
    for (const auto* db : dbs)
      for (bool encrypted : {false, true})
        taken = taken || path_exists(join_path(config.backup_dir, dump_file_name(db->dbname, stamp, encrypted)));
    for (const auto& f : config.files)
      for (bool encrypted : {false, true})
        taken = taken || path_exists(join_path(config.backup_dir, archive_file_name(f.name, stamp, encrypted)));
    if (!taken) return stamp;
    throw_if_interrupted();
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
  }
}

// The next backup is about as large as the last: refused before anything is written when the folder
// cannot hold it, rather than after a long dump fills the disk. A first backup has nothing to go by.
void require_room_for_backup(const Config& config, const std::vector<const DatabaseConfig*>& dbs) {
  RoomNeeded needed = room_needed_for_backup(config, Catalog::scan(config.backup_dir), dbs);
  if (needed.from.empty()) return;
  require_free_space(
      config.backup_dir, needed.bytes, "the backup (as large as the last: " + needed.from + ")",
      "nothing was written; free some space there (auditpitr prune applies the retention policy, auditpitr list shows "
      "the backups), or set [backup] dir to a larger disk");
}

// <dbname>_latest.dump.gz[.age] -> the new dump. The link of the other kind is removed: a
// _latest.dump.gz left on an older plain dump would be restored by the old scripts as the latest.
void update_latest_links(const Config& config, const std::string& dbname, const std::string& stamp) {
  bool encrypted = !config.encrypt_to.empty();
  replace_symlink(dump_file_name(dbname, stamp, encrypted),
                  join_path(config.backup_dir, latest_link_name(dbname, encrypted)));
  std::string other = join_path(config.backup_dir, latest_link_name(dbname, !encrypted));
  struct stat st {};
  if (::lstat(other.c_str(), &st) == 0 && S_ISLNK(st.st_mode) && ::unlink(other.c_str()) != 0 && errno != ENOENT)
    throw system_error("unable to remove the link '" + other + "'", errno);
}

std::string session_default(pg::Connection& conn, const std::string& setting) {
  try {
    return conn.raw().get_variable(setting);
  } catch (const std::exception& e) {
    pg::rethrow_as_error(e, "reading the session's " + setting, conn);
  }
}

struct Snapshot {
  std::string id;
  std::string time_utc;
};

Snapshot export_snapshot(SnapshotTransaction& tx) {
  pqxx::row row = tx.exec1(
      "SELECT pg_export_snapshot(), "
      "to_char(clock_timestamp() AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.US\"Z\"')");
  return {row[0].as<std::string>(), row[1].as<std::string>()};
}

// Streams pg_dump's plain archive into the backup file (encrypted there when configured): each
// table's data compressed inside the archive (fast, as pg_dump -Z would), the gzip around it
// (docs/backup.md, "Compression").
struct DumpWriter {
  BackupFileWriter file;
  GzipWriter gzip;
  pg::ArchiveCompressor archive;
  uint64_t plain_bytes = 0;  // pg_dump's archive, as a restore inflates it
  DumpWriter(const std::string& path, const Config& config, pg::ProcessRunner& runner,
             const std::string& header_comment)
      : file(path, config.encrypt_to, runner),
        gzip([this](const char* d, std::size_t n) { file.write(d, n); }, config.compression_level,
             std::max(1u, std::min(4u, std::thread::hardware_concurrency())), header_comment),
        archive([this](const char* d, std::size_t n) { gzip.write(d, n); }) {}
  void write(const char* data, std::size_t size) {
    plain_bytes += size;
    archive.write(data, size);
  }
  void finish() {
    archive.finish();
    gzip.finish();
  }
};

class DatabaseBackupJob {
 public:
  DatabaseBackupJob(const Config& config, const DatabaseConfig& db, const std::string& stamp,
                    const std::vector<std::string>& run_databases, const std::vector<std::string>& run_files,
                    pg::ProcessRunner& runner, const Reporter& reporter)
      : config_(config),
        db_(db),
        stamp_(stamp),
        run_databases_(run_databases),
        run_files_(run_files),
        header_comment_(dump_comment(run_databases, run_files)),
        runner_(runner),
        reporter_(reporter) {}

  DatabaseBackup run() {
    auto start = Clock::now();
    pg::Connection conn(db_.connect_info());
    // pg_dump's session gets the same defaults as this one has before it is made canonical.
    bool escape_bytea = session_default(conn, "bytea_output") != "hex";
    conn.set_canonical_output();
    pg::PgTools tools(runner_, config_.pg_bin_dir, config_.pg_exec);
    pg::Tool pg_dump = tools.find("pg_dump", conn.server_version_num(), conn.info().server_address());
    manifest_.pg_dump_version = tools.version_text(pg_dump);
    manifest_.server_version = conn.server_version();
    manifest_.server_version_num = conn.server_version_num();

    SnapshotTransaction tx(conn.raw());
    Snapshot snapshot;
    std::vector<verify::TableShape> tables;
    try {
      snapshot = export_snapshot(tx);
      tables = verify::list_tables(tx);
    } catch (const std::exception& e) {
      pg::rethrow_as_error(e, "taking the snapshot", conn);
    }
    pause_point("backup-snapshot");
    // The writer first: a file that cannot be created fails now, not after the whole dump.
    std::string dump_path =
        join_path(config_.backup_dir, dump_file_name(db_.dbname, stamp_, !config_.encrypt_to.empty()));
    DumpWriter writer(dump_path, config_, runner_, header_comment_);
    // The manifest's counts and checksums come from the dump's own rows as they pass: the database
    // is read once. Tables the dump does not carry as the checksum would read them are read
    // separately, in the same snapshot, which this transaction holds open.
    verify::DumpChecksummer summer(tables);
    dump(pg_dump, conn, snapshot.id, escape_bytea, writer, summer);
    manifest_.tables = checksums(tables, summer.finish(), tx, conn);
    pause_point("backup-before-rename");
    writer.file.commit();  // age's last bytes, fsync, rename
    pause_point("backup-before-manifest");
    finish_manifest(snapshot, writer);
    std::string manifest_path = join_path(config_.backup_dir, manifest_file_name(db_.dbname, stamp_));
    write_file_atomically(manifest_path, verify::manifest_to_json(manifest_));

    DatabaseBackup result{db_.alias,
                          db_.dbname,
                          dump_path,
                          manifest_path,
                          snapshot.time_utc,
                          manifest_.file_size,
                          manifest_.uncompressed_size,
                          manifest_.total_rows(),
                          manifest_.tables.size(),
                          seconds_since(start)};
    return result;
  }

 private:
  void dump(const pg::Tool& pg_dump, const pg::Connection& conn, const std::string& snapshot, bool escape_bytea,
            DumpWriter& writer, verify::DumpChecksummer& summer) {
    pg::Command command = pg::pg_dump_command(pg_dump, conn.info(), snapshot, escape_bytea);
    auto last_report = Clock::now();
    command.stdout_sink = [&](const char* data, std::size_t size) {
      writer.write(data, size);
      summer.feed(data, size);
      if (seconds_since(last_report) > 0.5) {
        last_report = Clock::now();
        reporter_.progress("dumping " + db_.dbname + ": " + human_size(writer.plain_bytes) + " read");
      }
    };
    pg::ProcessResult result = runner_.run(command);
    if (!result.ok()) {
      std::string last_line = result.last_stderr_line();
      throw runtime_error("pg_dump " + result.describe() + " while dumping " + conn.describe() +
                              (last_line.empty() ? "" : ": " + last_line),
                          "no backup was written; fix the cause and run the backup again", result.stderr_tail);
    }
    writer.finish();
  }

  // The tables in list_tables' order: from the dump, or read now for those it did not give.
  std::vector<verify::TableChecksum> checksums(const std::vector<verify::TableShape>& tables,
                                               verify::DumpChecksummer::Result read, SnapshotTransaction& tx,
                                               pg::Connection& conn) {
    if (!read.unreadable.empty())
      reporter_.warning("the rows of " + db_.dbname + "'s dump could not be checksummed as they passed (" +
                        read.unreadable + "): its tables are read a second time for the manifest");
    std::vector<verify::TableChecksum> separately;
    try {
      separately = verify::checksum_tables(tx, read.missing);
    } catch (const Error&) {
      throw;
    } catch (const std::exception& e) {
      pg::rethrow_as_error(e, "checksumming the tables", conn);
    }
    std::map<std::pair<std::string, std::string>, verify::TableChecksum> by_name;
    for (auto* list : {&read.found, &separately})
      for (auto& t : *list) by_name.emplace(std::make_pair(t.schema, t.name), std::move(t));
    std::vector<verify::TableChecksum> ordered;
    for (const auto& t : tables) ordered.push_back(std::move(by_name.at({t.schema, t.name})));
    return ordered;
  }

  void finish_manifest(const Snapshot& snapshot, DumpWriter& writer) {
    manifest_.tool_version = kToolVersion;
    manifest_.alias = db_.alias;
    manifest_.dbname = db_.dbname;
    manifest_.stamp = stamp_;
    manifest_.snapshot_time_utc = snapshot.time_utc;
    manifest_.run_databases = run_databases_;
    manifest_.run_files = run_files_;
    writer.file.describe(manifest_);
    manifest_.uncompressed_size = writer.plain_bytes;
  }

  const Config& config_;
  const DatabaseConfig& db_;
  const std::string& stamp_;
  const std::vector<std::string>& run_databases_;
  const std::vector<std::string>& run_files_;
  const std::string header_comment_;
  pg::ProcessRunner& runner_;
  const Reporter& reporter_;
  verify::Manifest manifest_;
};

}  // namespace

RoomNeeded room_needed_for_backup(const Config& config, const Catalog& catalog,
                                  const std::vector<const DatabaseConfig*>& dbs) {
  RoomNeeded needed;
  for (const auto* db : dbs) {
    std::string stamp = catalog.latest_stamp({db->dbname});
    if (stamp.empty()) continue;
    needed.bytes += catalog.find(stamp)->dump_of(db->dbname)->size;
    needed.from += (needed.from.empty() ? "" : ", ") + db->dbname + "'s of " + stamp;
  }
  for (const auto& f : config.files)  // the newest archive of each [[files]] folder
    for (const auto& set : catalog.sets())
      if (const ArchiveFile* a = set.archive_of(f.name)) {
        needed.bytes += a->size;
        needed.from += (needed.from.empty() ? "" : ", ") + ("'" + f.name + "' of " + set.stamp);
        break;
      }
  return needed;
}

namespace {

void backup_databases(const Config& config, const std::vector<const DatabaseConfig*>& dbs, pg::ProcessRunner& runner,
                      const Reporter& reporter, BackupResult& result) {
  std::string exposed = require_private_folder(config.backup_dir);
  if (!exposed.empty()) reporter.warning(exposed);
  ensure_directory(config.backup_dir, 0700);
  DirectoryLock lock(config.backup_dir, "two backups of the same folder");
  require_room_for_backup(config, dbs);
  result.stamp = fresh_stamp(config, dbs);
  std::vector<std::string> dbnames, file_names;
  for (const DatabaseConfig* db : dbs) dbnames.push_back(db->dbname);
  for (const auto& f : config.files) {
    require_archivable(f);  // before any dump: a missing folder is found in a second, not after the dumps
    file_names.push_back(f.name);
  }
  reporter.info("Starting database backup...");
  for (const DatabaseConfig* db : dbs) {
    reporter.info("Backing up " + db->dbname + "...");
    DatabaseBackup done = DatabaseBackupJob(config, *db, result.stamp, dbnames, file_names, runner, reporter).run();
    pause_point("backup-database-done");
    reporter.progress("");
    reporter.success(db->dbname + " dumped successfully: " + std::to_string(done.tables) + " tables, " +
                     std::to_string(done.rows) + " rows, snapshot " + done.snapshot_time_utc + " (" +
                     human_duration(done.seconds) + ")");
    result.databases.push_back(done);
  }
  for (const auto& f : config.files) {
    reporter.info("Archiving " + f.path + "...");
    FilesBackup done = archive_folder(config, f, result.stamp, runner, reporter);
    reporter.success(f.name + " archived: " + count_text(done.file_count, "file") + ", " +
                     human_size(done.content_bytes) + " (" + human_duration(done.seconds) + ")");
    result.files.push_back(done);
  }
  // Only now, with the whole set written: the links of the old scripts' layout.
  for (const auto& name : dbnames) update_latest_links(config, name, result.stamp);
  reporter.info("Cleaning up backups older than the retention policy (" + describe_policy(config.retention) + ")...");
  result.retention = prune_backups(config, false, std::time(nullptr), reporter);
}

}  // namespace

BackupResult run_backup(const Config& config, const std::vector<std::string>& aliases, pg::ProcessRunner& runner,
                        const Reporter& reporter) {
  std::vector<const DatabaseConfig*> dbs = config.select(aliases);
  OutcomeRecord record{"backup", false, std::time(nullptr), 0, "", "", 0};
  BackupResult result;
  // The one place errors leave a backup: `auditpitr status` shows that the last one failed, and why.
  try {
    backup_databases(config, dbs, runner, reporter, result);
  } catch (const std::exception& e) {
    record.finished = std::time(nullptr);
    record.stamp = result.stamp;
    record.detail = e.what();
    record_outcome(config.backup_dir, record);
    throw;
  }
  record.ok = true;
  record.finished = std::time(nullptr);
  record.stamp = result.stamp;
  std::vector<std::string> names;
  for (const auto& d : result.databases) {
    record.bytes += d.size;
    names.push_back(d.dbname);
  }
  for (const auto& f : result.files) {
    record.bytes += f.size;
    names.push_back(f.name);
  }
  record.detail = "backed up " + join_names(names);
  record_outcome(config.backup_dir, record);
  return result;
}

}  // namespace auditpitr::ops
