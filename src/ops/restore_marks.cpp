// The restore's databases on the server, created closed and marked, and dropped only when their
// mark says auditpitr made them (src/ops/database_marks.h, docs/safety.md).
#include "src/error.h"
#include "src/ops/restore_internal.h"

namespace auditpitr::ops::detail {
namespace {

constexpr const char* kObjectInUse = "55006";  // SQLSTATE: DROP DATABASE while sessions use it

std::string unmarked_hint(const std::string& dbname) {
  return "auditpitr only drops databases it made, which carry its mark as their comment; if '" + dbname +
         "' is yours, rename it; if it is not needed (for example left by an older auditpitr, or by a restore "
         "killed while creating it), drop it yourself: DROP DATABASE " +
         pg::quote_ident(dbname);
}

}  // namespace

// CREATE DATABASE takes no parameters: the owner is quoted as an identifier, and encoding and
// locale (read from the server's own catalog) as literals. CREATE DATABASE cannot run inside a
// transaction, so it is made unconnectable first and opened together with its privileges and mark.
void AdminSession::create_marked_database(const std::string& name, const std::string& like_dbname,
                                          const DatabaseMark& mark) {
  try {
    pqxx::nontransaction tx(conn_.raw());
    std::string sql = "CREATE DATABASE " + pg::quote_ident(name) + " TEMPLATE template0 ALLOW_CONNECTIONS false";
    pqxx::result like = tx.exec_params(
        "SELECT pg_get_userbyid(datdba), pg_encoding_to_char(encoding), datcollate, datctype "
        "FROM pg_database WHERE datname = $1",
        like_dbname);
    if (!like.empty()) {
      sql += " OWNER " + pg::quote_ident(like[0][0].as<std::string>()) + " ENCODING " +
             tx.quote(like[0][1].as<std::string>()) + " LC_COLLATE " + tx.quote(like[0][2].as<std::string>()) +
             " LC_CTYPE " + tx.quote(like[0][3].as<std::string>());
    }
    tx.exec(sql);
  } catch (const std::exception& e) {
    pg::rethrow_as_error(e, "creating the temporary database '" + name + "'", conn_);
  }
  try {
    pqxx::work tx(conn_.raw());
    tx.exec("REVOKE ALL ON DATABASE " + pg::quote_ident(name) + " FROM PUBLIC");
    tx.exec("COMMENT ON DATABASE " + pg::quote_ident(name) + " IS " + tx.quote(mark_text(mark)));
    tx.exec("ALTER DATABASE " + pg::quote_ident(name) + " ALLOW_CONNECTIONS true");
    tx.commit();
  } catch (const std::exception& e) {
    // Created by this session a moment ago and still closed to everyone: it is ours to drop.
    try {
      pqxx::nontransaction drop(conn_.raw());
      drop.exec("DROP DATABASE IF EXISTS " + pg::quote_ident(name));
    } catch (const std::exception&) {
      // The error below matters more; the next restore names the unmarked database.
    }
    pg::rethrow_as_error(e, "marking the temporary database '" + name + "'", conn_);
  }
}

std::optional<DatabaseMark> AdminSession::mark_of(const std::string& dbname) {
  try {
    pqxx::nontransaction tx(conn_.raw());
    pqxx::result r =
        tx.exec_params("SELECT shobj_description(oid, 'pg_database') FROM pg_database WHERE datname = $1", dbname);
    if (r.empty() || r[0][0].is_null()) return std::nullopt;
    return parse_mark(r[0][0].as<std::string>());
  } catch (const std::exception& e) {
    pg::rethrow_as_error(e, "reading the comment of the database '" + dbname + "'", conn_);
  }
}

void AdminSession::drop_marked_database(const std::string& dbname, CopyKind kind, const std::string& stamp) {
  if (!database_exists(dbname)) return;
  auto mark = mark_of(dbname);
  if (!mark || mark->kind != kind || mark->stamp != stamp)
    throw runtime_error("the database '" + dbname + "' on " + conn_.info().server_address() +
                            " does not carry auditpitr's mark (" + kind_word(kind) + " " + stamp +
                            "): it was left as it is",
                        unmarked_hint(dbname));
  bool force = kind == CopyKind::restoring;  // nobody else can be in it: only its owner may connect
  try {
    pqxx::nontransaction tx(conn_.raw());
    if (force)
      tx.exec_params(
          "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = $1 AND pid <> pg_backend_pid()",
          dbname);
    tx.exec("DROP DATABASE IF EXISTS " + pg::quote_ident(dbname) + (force ? " WITH (FORCE)" : ""));
  } catch (const pqxx::sql_error& e) {
    if (e.sqlstate() == kObjectInUse)
      throw runtime_error("the database '" + dbname + "' is in use: it was not dropped",
                          "close the sessions connected to it (pg_stat_activity lists them), then run this again",
                          e.what());
    pg::rethrow_as_error(e, "dropping the database '" + dbname + "'", conn_);
  } catch (const std::exception& e) {
    pg::rethrow_as_error(e, "dropping the database '" + dbname + "'", conn_);
  }
}

}  // namespace auditpitr::ops::detail
