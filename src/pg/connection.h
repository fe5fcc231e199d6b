// A libpqxx connection that reports failures as auditpitr Errors naming the server and database.
#pragma once

#include <memory>
#include <pqxx/pqxx>
#include <string>

#include "src/pg/conninfo.h"

namespace auditpitr::pg {

class Connection {
 public:
  /// Connects now. Throws a runtime Error naming host:port and the database, with a hint for the
  /// usual causes (server down, wrong password, unknown database).
  explicit Connection(const ConnInfo& info);

  pqxx::connection& raw() { return *conn_; }
  const ConnInfo& info() const { return info_; }
  /// "database 'portfolio_db' at localhost:5432", for messages.
  std::string describe() const;

  /// Server version as a number (150018) and text ("15.18").
  int server_version_num();
  std::string server_version();

  /// Fixes the text form of values (dates in ISO and UTC, floats exact, bytea hex), so that
  /// checksums computed on different sessions and servers compare equal.
  void set_canonical_output();

 private:
  ConnInfo info_;
  std::unique_ptr<pqxx::connection> conn_;
};

/// Wraps a pqxx exception thrown while `doing` something on `conn` into a runtime Error.
[[noreturn]] void rethrow_as_error(const std::exception& e, const std::string& doing, const Connection& conn);

/// Double-quotes an identifier the way PostgreSQL does (identifiers never become raw SQL text).
std::string quote_ident(const std::string& name);
/// "schema"."table"
std::string quote_qualified(const std::string& schema, const std::string& table);

}  // namespace auditpitr::pg
