// Shared between the restore phase files; not part of the ops API.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <vector>

#include "src/ops/database_marks.h"
#include "src/ops/restore.h"
#include "src/pg/connection.h"
#include "src/pg/pg_tools.h"

namespace auditpitr::ops::detail {

// Test-only crash points (src/util/pause_point.h) of a restore: checked (every backup checked,
// nothing opened for the restore yet), temp-created, inflated (the verified copy written,
// pg_restore not started), data-restored (with one job: schema and rows restored, neither post-data
// nor the verification started; with --jobs: the first table's rows loaded, pg_restore going on),
// restored (pg_restore done), verified, swap-begun (inside the swap
// transaction, after the first rename), swapped.

/// A connection to the server's maintenance database (`postgres`) for CREATE/DROP/RENAME DATABASE,
/// holding a session advisory lock per target so two restores of one database never interleave
/// (the lock dies with the session, so a killed restore never leaves it behind).
class AdminSession {
 public:
  AdminSession(const pg::ConnInfo& any_database_on_server);
  pg::Connection& connection() { return conn_; }
  /// Waits up to ~10 s for the lock of `dbname`, then throws a runtime Error.
  void lock_target(const std::string& dbname);
  bool database_exists(const std::string& dbname);
  std::vector<std::string> databases_with_prefix(const std::string& prefix);
  /// Creates `name` from template0 (owner, encoding and locale of `like_dbname` when it exists)
  /// closed from its first instant: it accepts no connection until one transaction has revoked
  /// CONNECT and TEMPORARY from PUBLIC (leaving its owner and superusers) and written `mark`.
  void create_marked_database(const std::string& name, const std::string& like_dbname, const DatabaseMark& mark);
  /// The mark in the database's comment; nullopt when it has none or does not exist.
  std::optional<DatabaseMark> mark_of(const std::string& dbname);
  /// Drops `dbname` if its mark is of `kind` and `stamp` (nothing when it does not exist); any
  /// other database of that name is a runtime Error naming it, and stays. A temporary (restoring)
  /// database is dropped with its sessions ended; a kept or undone copy only when nobody uses it.
  void drop_marked_database(const std::string& dbname, CopyKind kind, const std::string& stamp);
  int server_version_num() { return conn_.server_version_num(); }
  /// The server's connections open to non-superusers (max_connections less the reserved slots),
  /// and the client sessions now connected (this one included).
  struct ConnectionSlots {
    int usable = 0;
    int in_use = 0;
  };
  ConnectionSlots connection_slots();

 private:
  pg::Connection conn_;
};

/// Gives `copy` what a dump does not carry of `original`: its settings (database-wide and per
/// role), its privileges and its connection limit; PostgreSQL's default privileges when `original`
/// does not exist (the copy was created closed). Called once the copy is verified: a setting such as
/// default_transaction_read_only would otherwise stop pg_restore.
void copy_database_properties(AdminSession& admin, const std::string& original, const std::string& copy);

/// Drops the `<dbname>_restoring_<STAMP>` databases left by a killed restore (those carrying its
/// mark); returns what it removed. Leaves any other database of such a name alone, with a warning,
/// and throws a runtime Error when one holds the name this restore needs, `restoring_name(dbname, stamp)`.
std::vector<std::string> clean_leftovers(AdminSession& admin, const std::string& dbname, const std::string& stamp,
                                         const Reporter& reporter);

/// In one transaction: other sessions on `dbname` ended, `dbname` renamed to `outgoing_name` and
/// marked `outgoing_mark` (when it exists), and `incoming` renamed to `dbname` with the comment
/// `dbname` had (none when it did not exist): the user's comment stays with the name, unless
/// `incoming_mark` is given. Tried again, with a warning, when it fails in a way pg::classify calls retryable (a
/// session reconnected in between: 55006) while the admin session, holding the restore's lock, lives on.
void swap_into_place(AdminSession& admin, const std::string& dbname, const std::string& incoming,
                     const std::string& outgoing_name, const DatabaseMark& outgoing_mark, const Reporter& reporter,
                     const std::optional<DatabaseMark>& incoming_mark = std::nullopt);

/// How many pg_restore jobs (each one connection): --jobs, or automatic (cores, at most 4), never
/// more than this machine's cores nor than leaves the share of the server's connections that
/// `[restore] free_connections_percent` keeps for the applications. Warns when --jobs was lowered.
int pg_restore_jobs(const Config& config, const RestoreRequest& request, AdminSession& admin, const Reporter& reporter);

/// What restoring one backup into a temporary database produced.
struct TemporaryRestore {
  std::string temporary;
  DatabaseRestoreResult result;
};

/// Creates the temporary database (owner, encoding and locale of `like_dbname` when it exists),
/// runs pg_restore into it and verifies it. On any failure the temporary database is dropped and
/// the Error rethrown.
TemporaryRestore restore_into_temporary(const Config& config, const RestoreTarget& target,
                                        const RestoreRequest& request, AdminSession& admin, pg::ProcessRunner& runner,
                                        const Reporter& reporter);

/// `pg_restore --list` of an inflated archive (a VerifiedDump's copy): the TABLE DATA entries, as
/// "schema name owner".
std::vector<std::string> table_data_entries(const pg::Tool& pg_restore, const std::string& archive_path,
                                            pg::ProcessRunner& runner);

/// pg_restore of the target server's major version.
pg::Tool pg_restore_for_server(const Config& config, AdminSession& admin);

/// Runs a configured hook (argv) with its output shown through the reporter. Returns the exit
/// status; throws only when it cannot be started.
int run_hook(const std::string& name, const std::vector<std::string>& argv,
             const std::map<std::string, std::string>& env, pg::ProcessRunner& runner, const Reporter& reporter);

/// Before anything is written: every target's backup has data for each --table, and its live
/// database has the table. Otherwise one usage Error names every problem, and the hint the
/// databases that have them all (to name with --db).
void check_table_targets(const Config& config, const std::vector<RestoreTarget>& targets, const RestoreRequest& request,
                         pg::ProcessRunner& runner);

/// Restores --table ... --data-only into the live database in one transaction.
DatabaseRestoreResult restore_tables(const Config& config, const RestoreTarget& target, const RestoreRequest& request,
                                     pg::ProcessRunner& runner, const Reporter& reporter);

}  // namespace auditpitr::ops::detail
