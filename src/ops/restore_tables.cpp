// --table T --data-only: the old guide's partial recovery, made all-or-nothing. pg_restore runs
// with --single-transaction against the live database, so one conflicting row rolls back every
// table; the conflict is reported from PostgreSQL's own DETAIL (which key, which COPY line).
#include <chrono>

#include "src/error.h"
#include "src/ops/restore_internal.h"
#include "src/util/fs.h"

namespace auditpitr::ops::detail {
namespace {

// TOC entries are "schema name owner": the name is the second word (pg_restore -t matches names).
void require_tables_in_dump(const std::vector<std::string>& wanted, const std::vector<std::string>& entries,
                            const std::string& dump) {
  for (const auto& table : wanted) {
    bool found = false;
    std::string available;
    for (const auto& entry : entries) {
      auto first_space = entry.find(' ');
      auto last_space = entry.rfind(' ');
      std::string name = entry.substr(first_space + 1, last_space - first_space - 1);
      found = found || name == table;
      available += (available.empty() ? "" : ", ") + name;
    }
    if (!found)
      throw usage_error("table '" + table + "' has no data in '" + dump + "'", "tables with data there: " + available);
  }
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
  std::string pg_restore = pg_restore_for_server(config, admin);
  std::string dump = base_name(target.backup.path);
  require_tables_in_dump(request.tables, table_data_entries(pg_restore, target.backup.path, runner), dump);

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
  pg::Command command = pg::pg_restore_command(pg_restore, target.database->connect_info(), options);
  std::string problem;
  feed_dump_to_stdin(command, target.backup.path, problem);
  pg::PgRestoreMessages messages;
  command.stderr_line = [&](const std::string& line) { messages.add_line(line); };
  pg::ProcessResult result = runner.run(command);
  if (!problem.empty())
    throw verification_error("backup '" + dump + "' is damaged: " + problem + "; nothing was changed");
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
  done.pg_restore_summary = messages.summary();
  done.verification = "data of " + listed + " added in one transaction (not compared: the tables hold other rows too)";
  done.verification_limited = true;
  done.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  reporter.success("data of " + listed + " restored into '" + target.target_dbname + "'");
  return done;
}

}  // namespace auditpitr::ops::detail
