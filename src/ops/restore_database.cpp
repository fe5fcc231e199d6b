// Phase 2 of a restore: a temporary database on the target's server, pg_restore into it (in
// parallel when it can) from a copy inflated from the very bytes that were checked, and
// verification against the manifest.
#include <signal.h>

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <future>
#include <map>
#include <optional>
#include <thread>

#include "src/error.h"
#include "src/ops/check.h"
#include "src/ops/restore_internal.h"
#include "src/pg/pg_tools.h"
#include "src/util/format.h"
#include "src/util/fs.h"
#include "src/util/handoff.h"
#include "src/util/pause_point.h"
#include "verify/compare.h"
#include "verify/database_checksum.h"
#include "verify/manifest.h"

namespace auditpitr::ops::detail {
namespace {

using Clock = std::chrono::steady_clock;

// The tables whose data pg_restore reports loaded, handed from its stderr to the verification,
// which reads them while the others are still loading; close(): the data section is over (or
// failed), abandon(): pg_restore failed or was stopped, nothing more is to be read.
class LoadedTables : public Channel<std::string> {
 public:
  /// How many were announced so far, this one included (called from pg_restore's stderr only).
  int announce(const std::string& name) {
    push(name);
    return ++announced_;
  }

 private:
  int announced_ = 0;
};

// The dump is inflated (CRC-checked) next to the backup into a VerifiedDump, whose bytes are
// compared with what plan_restore checked before pg_restore reads them; pg_restore --jobs needs
// such a seekable file anyway. Measured against streaming the schema and rows while writing that
// copy and running only post-data in parallel: loading tables in parallel saves more than
// inflating first costs, even on two cores (docs/restore.md). `sections` empty: all of them.
void run_pg_restore(const pg::Tool& pg_restore, const RestoreTarget& target, const RestoreRequest& request,
                    const std::string& temporary, const std::string& archive, AdminSession& admin,
                    pg::ProcessRunner& runner, const std::vector<std::string>& sections, int jobs,
                    pg::PgRestoreMessages& messages, LoadedTables* loaded = nullptr) {
  pg::PgRestoreOptions options;
  options.english_server_messages = admin.connection().may_set_lc_messages();
  options.target_dbname = temporary;
  options.no_owner = request.no_owner;
  options.jobs = jobs;  // chosen by restore_into_temporary
  options.input_file = archive;
  options.sections = sections;
  options.verbose = loaded != nullptr;
  pg::Command command = pg::pg_restore_command(pg_restore, target.database->connect_info(), options);
  command.stderr_line = [&](const std::string& line) {
    messages.add_line(line);
    std::string table = loaded ? pg::loaded_table_data(line) : "";
    if (!table.empty() && loaded->announce(table) == 1) pause_point("data-restored");
  };
  pg::ProcessResult result = runner.run(command);
  if (!result.ok() && !messages.has_real_errors() && messages.expected.empty())
    throw runtime_error("pg_restore " + result.describe() + " while restoring into '" + temporary + "'",
                        "the database '" + target.target_dbname + "' was not changed", result.stderr_tail);
}

void report_real_errors(const pg::PgRestoreMessages& messages, const std::string& temporary, const Reporter& reporter) {
  if (!messages.has_real_errors()) return;
  for (const auto& e : messages.errors) reporter.warning("pg_restore error: " + e.describe());
  for (const auto& line : messages.other) reporter.warning("pg_restore error: " + line);
  std::size_t count = messages.errors.size() + messages.other.size();
  std::string first = messages.errors.empty() ? messages.other.front() : messages.errors.front().describe();
  throw runtime_error("pg_restore reported " + std::to_string(count) + " error(s) restoring into '" + temporary +
                          "', the first: " + first,
                      "nothing was swapped; the errors above name the objects concerned");
}

using KeyMap = std::map<std::pair<std::string, std::string>, std::vector<std::string>>;

KeyMap primary_keys(const std::vector<verify::TableChecksum>& tables) {
  KeyMap keys;
  for (const auto& t : tables) keys[{t.schema, t.name}] = t.primary_key;
  return keys;
}

KeyMap primary_keys(const std::vector<verify::TableShape>& tables) {
  KeyMap keys;
  for (const auto& t : tables) keys[{t.schema, t.name}] = t.primary_key;
  return keys;
}

// Every restored table's rows and checksums, each table read in a transaction of its own: the
// post-data section runs meanwhile, and a lock held on a table already read would stop it there.
// A table pg_restore announces loaded is read at once, while the others load (its name must be
// unique among the tables); the rest once `loaded` is closed. The primary keys may not exist yet:
// the column sums are seeded with the manifest's (`expected`), and the keys themselves are read
// once post-data is done (with_restored_keys). The seconds spent reading add up in
// `phases.verification`.
std::vector<verify::TableChecksum> checksum_restored(const RestoreTarget& target, const std::string& temporary,
                                                     const KeyMap& expected, LoadedTables& loaded,
                                                     RestorePhaseTimes& phases) {
  pg::Connection conn(target.database->connect_info().with_dbname(temporary));
  conn.set_canonical_output();
  std::vector<verify::TableShape> tables;
  std::vector<std::optional<verify::TableChecksum>> sums;
  auto list = [&] {
    pqxx::read_transaction tx(conn.raw());
    tables = verify::list_tables(tx);
    sums.assign(tables.size(), std::nullopt);
  };
  auto checksum = [&](std::size_t i) {
    auto started = Clock::now();
    verify::TableShape table = tables[i];
    auto key = expected.find({table.schema, table.name});
    bool usable = key != expected.end();
    for (const auto& column : usable ? key->second : std::vector<std::string>{})
      usable = usable && std::find(table.columns.begin(), table.columns.end(), column) != table.columns.end();
    table.primary_key = usable ? key->second : std::vector<std::string>{};
    pqxx::read_transaction tx(conn.raw());
    sums[i] = verify::checksum_tables(tx, {table}).front();
    phases.verification += std::chrono::duration<double>(Clock::now() - started).count();
  };
  try {
    // pre-data is over when the first table's data is announced.
    while (auto name = loaded.next()) {
      if (tables.empty()) list();
      std::vector<std::size_t> named;
      for (std::size_t i = 0; i < tables.size(); ++i)
        if (tables[i].name == *name) named.push_back(i);
      if (named.size() != 1 || sums[named.front()]) continue;
      checksum(named.front());
      ++phases.verified_while_loading;
    }
    if (loaded.abandoned()) return {};
    if (tables.empty()) list();
    for (std::size_t i = 0; i < tables.size(); ++i)
      if (!sums[i]) checksum(i);
  } catch (const Error&) {
    throw;
  } catch (const std::exception& e) {
    pg::rethrow_as_error(e, "checksumming the restored tables", conn);
  }
  std::vector<verify::TableChecksum> actual;
  for (auto& sum : sums) actual.push_back(std::move(*sum));
  return actual;
}

// The primary keys the restored tables have now that post-data is done, in place of those their
// sums were seeded with: a key that differs from the manifest's is then reported by the comparison.
void with_restored_keys(const RestoreTarget& target, const std::string& temporary,
                        std::vector<verify::TableChecksum>& actual) {
  pg::Connection conn(target.database->connect_info().with_dbname(temporary));
  KeyMap keys;
  try {
    pqxx::read_transaction tx(conn.raw());
    keys = primary_keys(verify::list_tables(tx));
  } catch (const std::exception& e) {
    pg::rethrow_as_error(e, "reading the restored tables' primary keys", conn);
  }
  for (auto& t : actual) {
    auto key = keys.find({t.schema, t.name});
    t.primary_key = key != keys.end() ? key->second : std::vector<std::string>{};
  }
}

// With a manifest: every table's rows and checksums. Without one (old-script backups): the
// tables listed as TABLE DATA in the dump exist, and their rows are counted.
void judge_restored(const RestoreTarget& target, const std::optional<verify::Manifest>& manifest,
                    const std::vector<verify::TableChecksum>& actual, const pg::Tool& pg_restore,
                    const std::string& archive, pg::ProcessRunner& runner, DatabaseRestoreResult& result) {
  for (const auto& t : actual) result.rows += t.rows;
  result.tables = actual.size();
  std::string counted = std::to_string(actual.size()) + " tables, " + std::to_string(result.rows) + " rows";
  if (manifest) {
    auto differences = verify::compare_checksums(manifest->tables, actual);
    if (!differences.empty()) {
      std::string listed;
      for (std::size_t i = 0; i < differences.size() && i < 5; ++i)
        listed += (i ? "; " : "") + verify::describe(differences[i]);
      throw verification_error("the restored copy of '" + target.target_dbname + "' differs from the manifest of " +
                                   target.backup.stamp + ": " + listed,
                               "the database '" + target.target_dbname + "' was not changed; try another backup");
    }
    result.verification = "row counts and checksums of " + counted + " match the manifest";
    return;
  }
  for (const auto& entry : table_data_entries(pg_restore, archive, runner)) {
    bool found = false;
    for (const auto& t : actual) found = found || entry.rfind(t.schema + " " + t.name + " ", 0) == 0;
    if (!found)
      throw verification_error(
          "table data '" + entry.substr(0, entry.rfind(' ')) + "' of the dump is missing after the restore",
          "the database '" + target.target_dbname + "' was not changed");
  }
  result.verification_limited = true;
  result.verification = "limited (old-script backup, no manifest): the table of contents is readable and all " +
                        counted + " of its table data were restored; no checksums to compare";
}

// With --jobs, one pg_restore, each table checksummed as soon as its data is loaded; with one job,
// the schema and the rows, then the post-data section (indexes, constraints, triggers) while the
// tables are checksummed. Post-data changes no row. The swap waits for both. Only reading the
// restored database counts as verification.
void restore_and_verify(const pg::Tool& pg_restore, const RestoreTarget& target, const RestoreRequest& request,
                        const std::string& temporary, const std::string& archive, AdminSession& admin,
                        pg::ProcessRunner& runner, const Reporter& reporter, DatabaseRestoreResult& result) {
  RestorePhaseTimes& phases = result.phases;
  pg::PgRestoreMessages messages;
  std::optional<verify::Manifest> manifest;
  if (target.backup.has_manifest) manifest = verify::load_manifest(target.backup.manifest_path);
  KeyMap expected_keys = manifest ? primary_keys(manifest->tables) : KeyMap{};
  LoadedTables loaded;
  auto verification = std::async(std::launch::async,
                                 [&] { return checksum_restored(target, temporary, expected_keys, loaded, phases); });
  auto start = Clock::now();
  try {
    if (phases.jobs > 1) {
      // One parallel pg_restore of every section: it says when each table's data is loaded (read
      // then, while the others load) and builds a table's indexes as soon as its rows are in.
      reporter.info("Verifying the restored copy of '" + target.target_dbname + "' as its tables are loaded...");
      run_pg_restore(pg_restore, target, request, temporary, archive, admin, runner, {}, phases.jobs, messages,
                     &loaded);
      loaded.close();
    } else {
      run_pg_restore(pg_restore, target, request, temporary, archive, admin, runner, {"pre-data", "data"}, 1, messages);
      loaded.close();
      report_real_errors(messages, temporary, reporter);
      pause_point("data-restored");
      reporter.info("Verifying the restored copy of '" + target.target_dbname + "' while its indexes are built...");
      run_pg_restore(pg_restore, target, request, temporary, archive, admin, runner, {"post-data"}, 1, messages);
    }
    phases.pg_restore = std::chrono::duration<double>(Clock::now() - start).count();
    report_real_errors(messages, temporary, reporter);
  } catch (...) {
    loaded.abandon();
    verification.wait();  // its connection ends before the temporary database is dropped
    throw;
  }
  result.pg_restore_summary = messages.summary();
  if (!result.pg_restore_summary.empty()) reporter.info(result.pg_restore_summary);
  pause_point("restored");
  std::vector<verify::TableChecksum> actual = verification.get();
  with_restored_keys(target, temporary, actual);
  judge_restored(target, manifest, actual, pg_restore, archive, runner, result);
}

}  // namespace

pg::Tool pg_restore_for_server(const Config& config, AdminSession& admin) {
  pg::PosixProcessRunner probe;  // a `--version` probe: not among the commands a caller's runner is asked to run
  return pg_restore_for(config, admin.server_version_num(), probe, admin.connection().info().server_address());
}

TemporaryRestore restore_into_temporary(const Config& config, const RestoreTarget& target,
                                        const RestoreRequest& request, AdminSession& admin, pg::ProcessRunner& runner,
                                        const Reporter& reporter) {
  auto start = Clock::now();
  TemporaryRestore restore;
  restore.temporary = restoring_name(target.target_dbname, target.backup.stamp);
  restore.result.alias = target.database->alias;
  restore.result.dbname = target.target_dbname;
  restore.result.stamp = target.backup.stamp;
  reporter.info("Restoring " + base_name(target.backup.path) + " into the temporary database '" + restore.temporary +
                "'...");
  pg::Tool pg_restore = pg_restore_for_server(config, admin);  // restores, then lists the dump to verify
  admin.create_marked_database(restore.temporary, target.database->dbname,
                               {CopyKind::restoring, target.backup.stamp, std::time(nullptr)});
  try {
    pause_point("temp-created");
    restore.result.phases.jobs = pg_restore_jobs(config, request, admin, reporter);
    auto start_inflating = Clock::now();
    VerifiedDump archive(
        target.backup.path, target.checked, runner,
        restore.result.phases.jobs > 1 ? VerifiedDump::Data::as_archived : VerifiedDump::Data::inflated);
    restore.result.phases.inflate = std::chrono::duration<double>(Clock::now() - start_inflating).count();
    pause_point("inflated");
    restore_and_verify(pg_restore, target, request, restore.temporary, archive.path(), admin, runner, reporter,
                       restore.result);
    pause_point("verified");
    copy_database_properties(admin, target.database->dbname, restore.temporary);
  } catch (...) {
    try {
      admin.drop_marked_database(restore.temporary, CopyKind::restoring, target.backup.stamp);
    } catch (const std::exception&) {
      // The original error matters more; the next run drops the leftover.
    }
    throw;
  }
  restore.result.seconds = std::chrono::duration<double>(Clock::now() - start).count();
  restore.result.phases.check = target.check_seconds;
  return restore;
}

}  // namespace auditpitr::ops::detail
