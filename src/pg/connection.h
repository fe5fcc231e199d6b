// A libpqxx connection that reports failures as auditpitr Errors naming the server and database.
#pragma once

#include <cstddef>
#include <memory>
#include <pqxx/pqxx>
#include <string>
#include <string_view>
#include <vector>

#include "src/error.h"
#include "src/pg/conninfo.h"

namespace auditpitr::pg {

/// The oldest server auditpitr works with: PostgreSQL 13 (README, "Supported PostgreSQL versions").
constexpr int kOldestServerVersionNum = 130000;

/// "15.18" from 150018; "9.6.24" from 90624 (before 10 the major version had two parts).
std::string version_text(int server_version_num);

/// Refuses a server older than PostgreSQL 13: a runtime Error naming `where` (host:port), the
/// version found and what is supported. Every connection passes here (Connection, replay's PgSession).
void require_supported_server(int server_version_num, const std::string& where);

/// The session settings that fix the text form of values (dates in ISO and UTC, floats exact, bytea
/// hex), so that checksums computed on different sessions and servers compare equal.
constexpr const char* kCanonicalOutputSql =
    "SET DateStyle = ISO; SET IntervalStyle = postgres; SET extra_float_digits = 3; "
    "SET TimeZone = 'UTC'; SET bytea_output = hex";

/// The catalog condition (over `pg_class c` and `pg_namespace n`) that picks the tables holding the
/// user's data: ordinary and partitioned tables outside the system schemas, TOAST and temporary
/// schemas, and auditpitr's own bookkeeping schema.
constexpr const char* kUserTablesCondition =
    "c.relkind IN ('r', 'p') AND n.nspname NOT IN ('pg_catalog', 'information_schema', 'auditpitr') "
    "AND n.nspname NOT LIKE 'pg_toast%' AND n.nspname NOT LIKE 'pg_temp%'";

class Connection {
 public:
  /// Connects now. Throws a runtime Error naming host:port and the database, with a hint for the
  /// usual causes (server down, wrong password, unknown database), or when the server is older
  /// than PostgreSQL 13.
  explicit Connection(const ConnInfo& info);

  pqxx::connection& raw() { return *conn_; }
  const ConnInfo& info() const { return info_; }
  /// "database 'portfolio_db' at localhost:5432", for messages.
  std::string describe() const;

  /// Server version as a number (150018) and text ("15.18").
  int server_version_num();
  std::string server_version();

  /// Whether the session's role may set lc_messages: a superuser, or (PostgreSQL 15 and newer) a
  /// role granted SET on it.
  bool may_set_lc_messages();

  /// Applies kCanonicalOutputSql to the session.
  void set_canonical_output();

 private:
  ConnInfo info_;
  std::unique_ptr<pqxx::connection> conn_;
};

/// The one classifier of database failures, by SQLSTATE (never by the message, which is in the
/// server's lc_messages language). Retryable: 40001 serialization failure, 40P01 deadlock, 55P03 lock
/// not available, 55006 object in use, class 08 (connection exception), 53300 too many connections,
/// 57P01-57P03 and 57P05 (server shutting down, starting, idle session ended). In doubt: 40003 statement completion
/// unknown. Everything else is permanent; "" (no SQLSTATE) too: callers know a lost connection otherwise.
DbFailure classify_sqlstate(const std::string& sqlstate);

/// A retryable failure that ended the session (no SQLSTATE, class 08, 57P01-57P03, 57P05): only a
/// new session can retry, unlike a deadlock or a lock timeout, which the same session may.
bool connection_lost(const std::string& sqlstate);

struct FailureClass {
  std::string sqlstate;  ///< "" when there is none (connection lost, in doubt)
  DbFailure failure = DbFailure::none;
};
/// The class of an exception from libpqxx. Its transaction_rollback family and broken_connection
/// carry no SQLSTATE: their type gives it. An auditpitr Error keeps its own; other exceptions: none.
FailureClass classify(const std::exception& e);

/// The Error for a database failure while `doing` something on `where` ("database 'x' at
/// host:port"): the server's reason, the SQLSTATE and class attached, and a hint saying whether
/// running the command again makes sense. `again_hint` ("run the command again: it resumes...")
/// replaces the generic advice to do so, is the whole hint of an in-doubt failure, and follows "fix
/// the cause, then" for a permanent one (which otherwise has no hint).
Error database_error(const FailureClass& failure, const std::string& reason, const std::string& doing,
                     const std::string& where, std::string cause, const std::string& again_hint = {});

/// Wraps a pqxx exception thrown while `doing` something on `conn` into a runtime Error, classified
/// (an auditpitr Error is thrown as it is).
[[noreturn]] void rethrow_as_error(const std::exception& e, const std::string& doing, const Connection& conn);

/// The first line of a server message, without its severity ("ERROR:  ", "FEHLER:  ").
std::string first_line(std::string text);

/// Double-quotes an identifier the way PostgreSQL does (identifiers never become raw SQL text).
std::string quote_ident(const std::string& name);
/// "schema"."table"
std::string quote_qualified(const std::string& schema, const std::string& table);
/// "a", "b", "c": the names quoted and joined for a column list.
std::string quote_ident_list(const std::vector<std::string>& names);

/// A value's text as COPY writes it: backslash, and the control characters COPY escapes, escaped.
std::string copy_field(const char* text, std::size_t size);
/// Whether copy_field would give `text` back as it is (nothing in it to escape).
bool copies_as_is(std::string_view text);

}  // namespace auditpitr::pg
