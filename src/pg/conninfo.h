// A parsed libpq connection string: how to connect, how to name the server in messages, and how to
// hand the same settings to pg_dump/pg_restore through the environment (never argv, never printed).
#pragma once

#include <map>
#include <string>

namespace auditpitr::pg {

class ConnInfo {
 public:
  /// Parses a libpq keyword/value string or URI; `dbname` fills in when the string names none.
  /// Throws a usage Error that quotes libpq's reason (never the password) when it is malformed.
  static ConnInfo parse(const std::string& conninfo, const std::string& dbname = {});

  /// "host:port" as libpq will resolve it (PG* environment and defaults included), for messages.
  std::string server_address() const;
  std::string dbname() const;
  /// The same server, another database.
  ConnInfo with_dbname(const std::string& dbname) const;

  /// The string given to libpq. Contains the password when configured: never print it.
  std::string to_libpq_string() const;
  /// PG* variables that make a child libpq program (pg_dump, psql) connect the same way.
  std::map<std::string, std::string> child_environment() const;

  const std::map<std::string, std::string>& params() const { return params_; }

 private:
  std::map<std::string, std::string> params_;
};

/// A value quoted for a libpq keyword/value string: 'text' with quotes and backslashes escaped.
std::string quote_conninfo_value(const std::string& value);

}  // namespace auditpitr::pg
