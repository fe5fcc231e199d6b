// --table T --data-only: the old guide's partial recovery, made all-or-nothing. pg_restore runs
// with --single-transaction against the live database, so one conflicting row rolls back every
// table; the conflict is reported from PostgreSQL's own DETAIL (which key, which COPY line).
#include <algorithm>
#include <chrono>

#include "src/error.h"
#include "src/ops/restore_internal.h"
#include "src/pg/connection.h"
#include "src/util/fs.h"
#include "verify/manifest.h"

namespace auditpitr::ops::detail {
namespace {

// TOC entries are "schema name owner": the name is the second word (pg_restore -t matches names).
std::string entry_name(const std::string& entry) {
  auto first_space = entry.find(' ');
  auto last_space = entry.rfind(' ');
  return entry.substr(first_space + 1, last_space - first_space - 1);
}

bool live_table_exists(const RestoreTarget& target, const std::string& schema, const std::string& name) {
  pg::Connection conn(target.database->connect_info().with_dbname(target.target_dbname));
  try {
    pqxx::nontransaction tx(conn.raw());
    return !tx.exec_params("SELECT to_regclass($1)", pg::quote_qualified(schema, name))[0][0].is_null();
  } catch (const std::exception& e) {
    pg::rethrow_as_error(e, "looking for the table '" + schema + "." + name + "'", conn);
  }
}

// What stops the --table restore of one target: tables without data in its backup, or missing
// from its live database. Empty when it can go ahead; `available` lists the dump's tables.
std::vector<std::string> table_problems(const Config& config, const RestoreTarget& target,
                                        const RestoreRequest& request, pg::ProcessRunner& runner,
                                        std::string& available) {
  AdminSession admin(target.database->connect_info());
  std::string dump = base_name(target.backup.path);
  VerifiedDump archive(target.backup.path, target.checked, runner);  // listed from the checked bytes too
  auto entries = table_data_entries(pg_restore_for_server(config, admin), archive.path(), runner);
  std::vector<std::string> problems;
  for (const auto& table : request.tables) {
    const std::string* found = nullptr;
    for (const auto& entry : entries)
      if (!found && entry_name(entry) == table) found = &entry;
    if (!found) {
      problems.push_back("table '" + table + "' has no data in '" + dump + "'");
    } else if (!live_table_exists(target, found->substr(0, found->find(' ')), table)) {
      problems.push_back("the database '" + target.target_dbname + "' has no table '" + table + "'");
    }
  }
  for (const auto& entry : entries) available += (available.empty() ? "" : ", ") + entry_name(entry);
  return problems;
}

}  // namespace

void check_table_targets(const Config& config, const std::vector<RestoreTarget>& targets, const RestoreRequest& request,
                         pg::ProcessRunner& runner) {
  std::string problems, ready, available;
  for (const auto& target : targets) {
    std::string tables;
    auto found = table_problems(config, target, request, runner, tables);
    for (const auto& p : found) problems += (problems.empty() ? "" : "; ") + p;
    if (found.empty()) ready += " --db " + target.database->alias;
    if (!found.empty() && available.empty()) available = tables;
  }
  if (problems.empty()) return;
  std::string hint = ready.empty() ? "tables with data there: " + available
                                   : "to restore only where the tables are, name those databases:" + ready;
  throw usage_error(problems + ": nothing was restored", hint);
}

namespace {

// The rows added are the backup's rows of those tables, all of them (one transaction): the
// manifest counted them. A backup without one (the old scripts') leaves the count unknown.
void count_restored_rows(const RestoreTarget& target, const RestoreRequest& request, DatabaseRestoreResult& done) {
  done.rows_known = target.backup.has_manifest;
  if (!done.rows_known) return;
  for (const auto& table : verify::load_manifest(target.backup.manifest_path).tables)
    if (std::find(request.tables.begin(), request.tables.end(), table.name) != request.tables.end())
      done.rows += table.rows;
}

std::string conflict_hint(const pg::PgRestoreError& error) {
  if (error.message.find("duplicate key") != std::string::npos)
    return "that row already exists in the live table (PostgreSQL stops at the first conflict); delete it, or restore "
           "with --into to another database and copy what you need";
  if (error.message.find("foreign key") != std::string::npos)
    return "restore the referenced tables too (add more --table options), in one run";
  return "nothing was changed: fix the cause and run it again";
}

}  // namespace

DatabaseRestoreResult restore_tables(const Config& config, const RestoreTarget& target, const RestoreRequest& request,
                                     pg::ProcessRunner& runner, const Reporter& reporter) {
  auto start = std::chrono::steady_clock::now();
  AdminSession admin(target.database->connect_info());
  pg::Tool pg_restore = pg_restore_for_server(config, admin);
  std::string dump = base_name(target.backup.path);                  // its tables were checked by check_table_targets
  VerifiedDump archive(target.backup.path, target.checked, runner);  // the live database gets only checked bytes

  std::string listed;
  for (const auto& t : request.tables) listed += (listed.empty() ? "'" : ", '") + t + "'";
  reporter.info("Restoring the data of " + listed + " from " + dump + " into '" + target.target_dbname +
                "' in one transaction...");
  pg::PgRestoreOptions options;
  options.target_dbname = target.target_dbname;
  options.data_only = true;
  options.single_transaction = true;
  options.no_owner = request.no_owner;
  options.tables = request.tables;
  options.input_file = archive.path();
  options.english_server_messages = admin.connection().may_set_lc_messages();  // conflict_hint reads them
  pg::Command command = pg::pg_restore_command(pg_restore, target.database->connect_info(), options);
  pg::PgRestoreMessages messages;
  command.stderr_line = [&](const std::string& line) { messages.add_line(line); };
  pg::ProcessResult result = runner.run(command);
  if (!result.ok()) {
    // --single-transaction stops at the first error: everything was rolled back.
    if (!messages.errors.empty() || !messages.expected.empty()) {
      const auto& error = messages.errors.empty() ? messages.expected.front() : messages.errors.front();
      throw runtime_error("restoring " + listed + " into '" + target.target_dbname +
                              "' was rolled back, nothing was changed: conflict in " + error.describe(),
                          conflict_hint(error), result.stderr_tail);
    }
    throw runtime_error("pg_restore " + result.describe() + " restoring " + listed + ": nothing was changed", {},
                        result.stderr_tail);
  }
  DatabaseRestoreResult done;
  done.alias = target.database->alias;
  done.dbname = target.target_dbname;
  done.stamp = target.backup.stamp;
  done.tables = request.tables.size();
  done.data_only = true;
  count_restored_rows(target, request, done);
  done.pg_restore_summary = messages.summary();
  done.verification = "not compared with the manifest: the tables hold other rows too";
  done.verification_limited = true;
  done.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  reporter.success("data of " + listed + " restored into '" + target.target_dbname + "'");
  return done;
}

}  // namespace auditpitr::ops::detail
