// Connection: libpqxx plus messages a person can act on.
#include "src/pg/connection.h"

#include "src/error.h"

namespace auditpitr::pg {
namespace {

std::string first_line(std::string text) {
  auto nl = text.find('\n');
  if (nl != std::string::npos) text.resize(nl);
  if (text.rfind("FATAL:  ", 0) == 0) text.erase(0, 8);
  if (text.rfind("ERROR:  ", 0) == 0) text.erase(0, 8);
  return text;
}

std::string connect_hint(const std::string& reason) {
  if (reason.find("password authentication failed") != std::string::npos ||
      reason.find("no password supplied") != std::string::npos)
    return "check the user and password (conninfo, PGPASSWORD or ~/.pgpass)";
  if (reason.find("does not exist") != std::string::npos)
    return "check the database and user names in the configuration";
  if (reason.find("Connection refused") != std::string::npos || reason.find("No such file") != std::string::npos ||
      reason.find("could not connect") != std::string::npos)
    return "is the server running and accepting connections there? (pg_isready can tell)";
  return {};
}

}  // namespace

Connection::Connection(const ConnInfo& info) : info_(info) {
  try {
    conn_ = std::make_unique<pqxx::connection>(info_.to_libpq_string());
  } catch (const std::exception& e) {
    std::string reason = first_line(e.what());
    throw runtime_error("unable to connect to " + describe() + ": " + reason, connect_hint(reason), e.what());
  }
}

std::string Connection::describe() const { return "database '" + info_.dbname() + "' at " + info_.server_address(); }

int Connection::server_version_num() { return conn_->server_version(); }

std::string Connection::server_version() {
  pqxx::nontransaction tx(*conn_);
  return tx.exec("SHOW server_version")[0][0].as<std::string>();
}

void Connection::set_canonical_output() {
  try {
    pqxx::nontransaction tx(*conn_);
    tx.exec(
        "SET DateStyle = ISO; SET IntervalStyle = postgres; SET extra_float_digits = 3; "
        "SET TimeZone = 'UTC'; SET bytea_output = hex");
  } catch (const std::exception& e) {
    rethrow_as_error(e, "setting the session's output format", *this);
  }
}

void rethrow_as_error(const std::exception& e, const std::string& doing, const Connection& conn) {
  if (auto* error = dynamic_cast<const Error*>(&e)) throw *error;
  std::string reason = first_line(e.what());
  if (dynamic_cast<const pqxx::broken_connection*>(&e))
    throw runtime_error("lost the connection to " + conn.describe() + " while " + doing + ": " + reason,
                        "check that the server is running, then run the command again", e.what());
  throw runtime_error("error while " + doing + " on " + conn.describe() + ": " + reason, {}, e.what());
}

std::string quote_ident(const std::string& name) {
  std::string out = "\"";
  for (char c : name) {
    if (c == '"') out += '"';
    out += c;
  }
  return out + "\"";
}

std::string quote_qualified(const std::string& schema, const std::string& table) {
  return quote_ident(schema) + "." + quote_ident(table);
}

}  // namespace auditpitr::pg
