// Phase 3 of a restore: the swap. PostgreSQL renames databases transactionally, so both renames
// commit together: at every instant the target's name belongs either to the original or to the
// verified copy, and a killed restore leaves at most a `_restoring_` database for the next run to drop.
#include <chrono>
#include <thread>

#include "src/catalog/stamp.h"
#include "src/error.h"
#include "src/ops/restore_internal.h"
#include "src/util/pause_point.h"

namespace auditpitr::ops {
namespace detail {
namespace {

constexpr int kSwapAttempts = 5;

bool is_busy_error(const std::exception& e) {
  return std::string(e.what()).find("is being accessed by other users") != std::string::npos;
}

}  // namespace

AdminSession::AdminSession(const pg::ConnInfo& any_database_on_server)
    : conn_(any_database_on_server.with_dbname("postgres")) {}

void AdminSession::lock_target(const std::string& dbname) {
  for (int attempt = 0; attempt < 40; ++attempt) {
    try {
      pqxx::nontransaction tx(conn_.raw());
      // The key is a hash of the name, bound as a value.
      if (tx.exec_params("SELECT pg_try_advisory_lock(hashtext('auditpitr restore ' || $1))", dbname)[0][0].as<bool>())
        return;
    } catch (const std::exception& e) {
      pg::rethrow_as_error(e, "locking '" + dbname + "' for the restore", conn_);
    }
    // A killed restore's session may take a moment to end on the server.
    std::this_thread::sleep_for(std::chrono::milliseconds(250));
  }
  throw runtime_error("another auditpitr restore of '" + dbname + "' is running on " + conn_.info().server_address(),
                      "wait for it to finish, then run this one again");
}

bool AdminSession::database_exists(const std::string& dbname) {
  try {
    pqxx::nontransaction tx(conn_.raw());
    return !tx.exec_params("SELECT 1 FROM pg_database WHERE datname = $1", dbname).empty();
  } catch (const std::exception& e) {
    pg::rethrow_as_error(e, "looking for the database '" + dbname + "'", conn_);
  }
}

int AdminSession::free_connection_slots() {
  try {
    pqxx::nontransaction tx(conn_.raw());
    std::string clients = server_version_num() >= 100000 ? " WHERE backend_type = 'client backend'" : "";
    std::string sql =
        "SELECT current_setting('max_connections')::int - current_setting('superuser_reserved_connections')::int"
        " - (SELECT count(*) FROM pg_stat_activity" +
        clients + ")::int";
    return tx.exec(sql)[0][0].as<int>();
  } catch (const std::exception& e) {
    pg::rethrow_as_error(e, "counting the server's free connections", conn_);
  }
}

std::vector<std::string> AdminSession::databases_with_prefix(const std::string& prefix) {
  std::vector<std::string> names;
  try {
    pqxx::nontransaction tx(conn_.raw());
    for (const auto& row : tx.exec("SELECT datname FROM pg_database ORDER BY datname")) {
      std::string name = row[0].as<std::string>();
      if (name.rfind(prefix, 0) == 0) names.push_back(name);
    }
  } catch (const std::exception& e) {
    pg::rethrow_as_error(e, "listing databases", conn_);
  }
  return names;
}

void AdminSession::drop_database(const std::string& dbname) {
  try {
    pqxx::nontransaction tx(conn_.raw());
    tx.exec_params(
        "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = $1 AND pid <> pg_backend_pid()",
        dbname);
    tx.exec("DROP DATABASE IF EXISTS " + pg::quote_ident(dbname) +
            (server_version_num() >= 130000 ? " WITH (FORCE)" : ""));
  } catch (const std::exception& e) {
    pg::rethrow_as_error(e, "dropping the database '" + dbname + "'", conn_);
  }
}

std::vector<std::string> clean_leftovers(AdminSession& admin, const std::string& dbname, const Reporter& reporter) {
  std::vector<std::string> removed;
  std::string prefix = dbname + "_restoring_";
  for (const auto& name : admin.databases_with_prefix(prefix)) {
    if (!is_stamp(name.substr(prefix.size()))) continue;  // not one of ours
    reporter.warning("dropping '" + name + "', left by an interrupted restore");
    admin.drop_database(name);
    removed.push_back(name);
  }
  return removed;
}

void swap_into_place(AdminSession& admin, const std::string& dbname, const std::string& temporary,
                     const std::string& kept_name) {
  auto& conn = admin.connection();
  for (int attempt = 1;; ++attempt) {
    try {
      pqxx::work tx(conn.raw());
      bool target_exists = !tx.exec_params("SELECT 1 FROM pg_database WHERE datname = $1", dbname).empty();
      if (target_exists) {
        // Sessions are ended inside the transaction; RENAME then holds the database's lock, so
        // new ones wait and see the restored database once this commits.
        tx.exec_params(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = $1 AND pid <> pg_backend_pid()",
            dbname);
        tx.exec("ALTER DATABASE " + pg::quote_ident(dbname) + " RENAME TO " + pg::quote_ident(kept_name));
      }
      pause_point("swap-begun");
      tx.exec("ALTER DATABASE " + pg::quote_ident(temporary) + " RENAME TO " + pg::quote_ident(dbname));
      tx.commit();
      return;
    } catch (const std::exception& e) {
      if (is_busy_error(e) && attempt < kSwapAttempts) continue;  // a client reconnected in between
      pg::rethrow_as_error(e, "swapping '" + temporary + "' into place as '" + dbname + "'", conn);
    }
  }
}

}  // namespace detail

std::vector<UndoResult> undo_restore(const Config& config, const std::string& stamp,
                                     const std::vector<std::string>& aliases, pg::ProcessRunner& runner,
                                     const Reporter& reporter) {
  if (!is_stamp(stamp))
    throw usage_error("'" + stamp + "' is not a restore stamp", "use the stamp the restore printed");
  std::vector<UndoResult> results;
  std::vector<const DatabaseConfig*> selected = config.select(aliases);
  std::vector<const DatabaseConfig*> with_copy;
  for (const DatabaseConfig* db : selected) {
    detail::AdminSession admin(db->connect_info());
    if (admin.database_exists(before_restore_name(db->dbname, stamp))) with_copy.push_back(db);
  }
  if (with_copy.empty())
    throw usage_error("no kept copy named '<dbname>_before_restore_" + stamp + "' exists for the selected database(s)",
                      "the restore's output names the kept copies; has one been dropped?");
  std::string names;
  for (const auto* db : with_copy) names += (names.empty() ? "" : " ") + db->dbname;
  std::map<std::string, std::string> env{{"AUDITPITR_STAMP", stamp}, {"AUDITPITR_DATABASES", names}};
  if (!config.pre_restore_hook.empty() &&
      detail::run_hook("pre_restore", config.pre_restore_hook, env, runner, reporter) != 0)
    throw runtime_error("the pre_restore hook failed: nothing was undone");
  std::string failure;
  for (const DatabaseConfig* db : with_copy) {
    try {
      detail::AdminSession admin(db->connect_info());
      admin.lock_target(db->dbname);
      std::string kept = before_restore_name(db->dbname, stamp);
      std::string undone = undone_name(db->dbname, stamp);
      if (admin.database_exists(undone))
        throw runtime_error("'" + undone + "' already exists",
                            "drop it first (DROP DATABASE " + pg::quote_ident(undone) + ")");
      detail::swap_into_place(admin, db->dbname, kept, undone);
      reporter.success("'" + db->dbname + "' is back to its state before the restore " + stamp +
                       "; the restored data is kept as '" + undone + "'");
      results.push_back({db->dbname, undone});
    } catch (const Error& e) {
      failure = e.what();
      break;
    }
  }
  env["AUDITPITR_RESTORE_RESULT"] = failure.empty() ? "success" : "failure";
  if (!config.post_restore_hook.empty())
    detail::run_hook("post_restore", config.post_restore_hook, env, runner, reporter);
  if (!failure.empty()) throw runtime_error("undo failed: " + failure);
  return results;
}

}  // namespace auditpitr::ops
