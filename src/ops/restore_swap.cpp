// Phase 3 of a restore: the swap. PostgreSQL renames databases transactionally, so both renames
// commit together: at every instant the target's name belongs either to the original or to the
// verified copy, and a killed restore leaves at most a `_restoring_` database for the next run to drop.
#include <chrono>
#include <ctime>
#include <thread>

#include "src/catalog/stamp.h"
#include "src/error.h"
#include "src/ops/restore_internal.h"
#include "src/util/interrupt.h"
#include "src/util/pause_point.h"

namespace auditpitr::ops {
namespace detail {
namespace {

constexpr int kSwapAttempts = 5;

// One attempt, in one transaction.
void swap_once(pg::Connection& conn, const std::string& dbname, const std::string& incoming,
               const std::string& outgoing_name, const DatabaseMark& outgoing_mark,
               const std::optional<DatabaseMark>& incoming_mark) {
  pqxx::work tx(conn.raw());
  pqxx::result target =
      tx.exec_params("SELECT shobj_description(oid, 'pg_database') FROM pg_database WHERE datname = $1", dbname);
  std::string comment = incoming_mark                              ? tx.quote(mark_text(*incoming_mark))
                        : target.empty() || target[0][0].is_null() ? "NULL"
                                                                   : tx.quote(target[0][0].as<std::string>());
  if (!target.empty()) {
    // Sessions are ended inside the transaction; RENAME then holds the database's lock, so
    // new ones wait and see the restored database once this commits.
    tx.exec_params(
        "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = $1 AND pid <> pg_backend_pid()",
        dbname);
    tx.exec("ALTER DATABASE " + pg::quote_ident(dbname) + " RENAME TO " + pg::quote_ident(outgoing_name));
    tx.exec("COMMENT ON DATABASE " + pg::quote_ident(outgoing_name) + " IS " + tx.quote(mark_text(outgoing_mark)));
  }
  pause_point("swap-begun");
  tx.exec("ALTER DATABASE " + pg::quote_ident(incoming) + " RENAME TO " + pg::quote_ident(dbname));
  tx.exec("COMMENT ON DATABASE " + pg::quote_ident(dbname) + " IS " + comment);
  tx.commit();
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
    throw_if_interrupted();
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

std::vector<std::string> clean_leftovers(AdminSession& admin, const std::string& dbname, const std::string& stamp,
                                         const Reporter& reporter) {
  std::vector<std::string> removed;
  std::string prefix = dbname + "_restoring_";
  std::string needed = restoring_name(dbname, stamp);
  for (const auto& name : admin.databases_with_prefix(prefix)) {
    std::string its_stamp = name.substr(prefix.size());
    if (!is_stamp(its_stamp)) continue;  // another name altogether
    auto mark = admin.mark_of(name);
    if (!mark || mark->kind != CopyKind::restoring || mark->stamp != its_stamp) {
      if (name == needed) admin.drop_marked_database(name, CopyKind::restoring, its_stamp);  // throws, naming it
      reporter.warning("leaving '" + name + "' alone: it is named like a restore's temporary database but does " +
                       "not carry auditpitr's mark");
      continue;
    }
    reporter.warning("dropping '" + name + "', left by an interrupted restore");
    admin.drop_marked_database(name, CopyKind::restoring, its_stamp);
    removed.push_back(name);
  }
  return removed;
}

void swap_into_place(AdminSession& admin, const std::string& dbname, const std::string& incoming,
                     const std::string& outgoing_name, const DatabaseMark& outgoing_mark, const Reporter& reporter,
                     const std::optional<DatabaseMark>& incoming_mark) {
  auto& conn = admin.connection();
  std::string doing = "swapping '" + incoming + "' into place as '" + dbname + "'";
  for (int attempt = 1;; ++attempt) {
    try {
      swap_once(conn, dbname, incoming, outgoing_name, outgoing_mark, incoming_mark);
      return;
    } catch (const std::exception& e) {
      // A client that connected in between (55006, after RENAME waited 5 s for it), a lock or a
      // deadlock: the transaction rolled back whole, so it is tried again. Only on this session,
      // though: a new one would not hold the restore's advisory lock.
      pg::FailureClass failure = pg::classify(e);
      if (failure.failure == DbFailure::retryable && conn.raw().is_open() && attempt < kSwapAttempts) {
        Error retried = pg::database_error(failure, pg::first_line(e.what()), doing, conn.describe(), e.what());
        reporter.warning(std::string(retried.what()) + "; trying again (" + std::to_string(attempt + 1) + " of " +
                         std::to_string(kSwapAttempts) + ")");
        std::this_thread::sleep_for(std::chrono::milliseconds(100 << attempt));
        continue;
      }
      if (failure.failure == DbFailure::in_doubt)
        throw pg::database_error(failure, pg::first_line(e.what()), doing, conn.describe(), e.what(),
                                 "the swap happened if '" + incoming + "' no longer exists (psql -l lists the " +
                                     "databases); if it still does, nothing changed: run the command again");
      pg::rethrow_as_error(e, doing, conn);
    }
  }
}

}  // namespace detail

UndoPlan plan_undo(const Config& config, const std::string& stamp, const std::vector<std::string>& aliases) {
  if (!is_stamp(stamp))
    throw usage_error("'" + stamp + "' is not a restore stamp", "use the stamp the restore printed");
  UndoPlan plan;
  plan.stamp = stamp;
  std::string looked_for;
  for (const DatabaseConfig* db : config.select(aliases)) {
    detail::AdminSession admin(db->connect_info());
    std::string kept = before_restore_name(db->dbname, stamp);
    looked_for += (looked_for.empty() ? "'" : "', '") + kept;
    if (admin.database_exists(kept)) {
      plan.to_undo.push_back(db);
    } else if (admin.database_exists(undone_name(db->dbname, stamp))) {
      plan.already_undone.push_back({db->dbname, undone_name(db->dbname, stamp), db->alias});
    }
  }
  if (plan.to_undo.empty() && plan.already_undone.empty())
    throw usage_error("no kept copy of the restore " + stamp + " exists: " + looked_for + "' not found",
                      "the restore's output names the kept copies (auditpitr kept lists them); has one been dropped?");
  return plan;
}

std::vector<UndoResult> undo_restore(const Config& config, const UndoPlan& plan, pg::ProcessRunner& runner,
                                     const Reporter& reporter) {
  const std::string& stamp = plan.stamp;
  const std::vector<const DatabaseConfig*>& with_copy = plan.to_undo;
  std::vector<UndoResult> results;
  if (with_copy.empty()) return results;
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
        throw runtime_error("'" + undone + "' already exists", "drop it first: auditpitr kept --drop " + stamp);
      detail::swap_into_place(admin, db->dbname, kept, undone, {CopyKind::undone, stamp, std::time(nullptr)}, reporter);
      reporter.success("'" + db->dbname + "' is back to its state before the restore " + stamp +
                       "; the restored data is kept as '" + undone + "'");
      results.push_back({db->dbname, undone, db->alias});
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
