// Connection: libpqxx plus messages a person can act on.
#include "src/pg/connection.h"

#include <algorithm>

#include "src/error.h"

namespace auditpitr::pg {
namespace {

const char* sqlstate_name(const std::string& sqlstate) {
  if (sqlstate == "40001") return "serialization failure";
  if (sqlstate == "40P01") return "deadlock";
  if (sqlstate == "55P03") return "lock not available";
  if (sqlstate == "55006") return "object in use";
  if (sqlstate == "53300") return "too many connections";
  return "";
}

// libpq's own messages are English (auditpitr never calls setlocale); the server's are in its
// lc_messages language, so an unrecognised reason still gets a hint naming every usual cause.
std::string connect_hint(const std::string& reason) {
  if (reason.find("password authentication failed") != std::string::npos ||
      reason.find("no password supplied") != std::string::npos)
    return "check the user and password (conninfo, PGPASSWORD or ~/.pgpass)";
  if (reason.find("does not exist") != std::string::npos)
    return "check the database and user names in the configuration";
  if (reason.find("Connection refused") != std::string::npos || reason.find("No such file") != std::string::npos ||
      reason.find("could not connect") != std::string::npos)
    return "is the server running and accepting connections there? (pg_isready can tell)";
  return "check that the server accepts connections there, and the user, password and database names "
         "(conninfo, PGPASSWORD or ~/.pgpass)";
}

}  // namespace

Connection::Connection(const ConnInfo& info) : info_(info) {
  try {
    conn_ = std::make_unique<pqxx::connection>(info_.to_libpq_string());
  } catch (const std::exception& e) {
    std::string reason = first_line(e.what());
    throw runtime_error("unable to connect to " + describe() + ": " + reason, connect_hint(reason), e.what());
  }
  require_supported_server(conn_->server_version(), describe());
}

std::string Connection::describe() const { return "database '" + info_.dbname() + "' at " + info_.server_address(); }

int Connection::server_version_num() { return conn_->server_version(); }

std::string Connection::server_version() {
  pqxx::nontransaction tx(*conn_);
  return tx.exec("SHOW server_version")[0][0].as<std::string>();
}

bool Connection::may_set_lc_messages() {
  try {
    pqxx::nontransaction tx(*conn_);
    std::string granted = server_version_num() >= 150000 ? " OR has_parameter_privilege('lc_messages', 'SET')" : "";
    return tx.exec("SELECT current_setting('is_superuser') = 'on'" + granted)[0][0].as<bool>();
  } catch (const std::exception& e) {
    rethrow_as_error(e, "reading the session's privileges", *this);
  }
}

void Connection::set_canonical_output() {
  try {
    pqxx::nontransaction tx(*conn_);
    tx.exec(kCanonicalOutputSql);
  } catch (const std::exception& e) {
    rethrow_as_error(e, "setting the session's output format", *this);
  }
}

std::string version_text(int num) {
  if (num >= 100000) return std::to_string(num / 10000) + "." + std::to_string(num % 10000);
  return std::to_string(num / 10000) + "." + std::to_string(num / 100 % 100) + "." + std::to_string(num % 100);
}

void require_supported_server(int server_version_num, const std::string& where) {
  if (server_version_num >= kOldestServerVersionNum) return;
  throw runtime_error(where + " runs PostgreSQL " + version_text(server_version_num) +
                          ": auditpitr supports PostgreSQL " + std::to_string(kOldestServerVersionNum / 10000) +
                          " and newer",
                      "upgrade the server (pg_upgrade, or a dump and restore with that version's own tools)");
}

bool connection_lost(const std::string& sqlstate) {
  // No SQLSTATE: libpq saw the socket close.
  return sqlstate.empty() || sqlstate.rfind("08", 0) == 0 || sqlstate == "57P01" || sqlstate == "57P02" ||
         sqlstate == "57P03" || sqlstate == "57P05";
}

DbFailure classify_sqlstate(const std::string& sqlstate) {
  if (sqlstate.empty()) return DbFailure::permanent;
  if (sqlstate == "40001" || sqlstate == "40P01" || sqlstate == "55P03" || sqlstate == "55006" || sqlstate == "53300" ||
      connection_lost(sqlstate))
    return DbFailure::retryable;
  if (sqlstate == "40003") return DbFailure::in_doubt;
  return DbFailure::permanent;
}

FailureClass classify(const std::exception& e) {
  if (auto* error = dynamic_cast<const Error*>(&e)) return {error->sqlstate(), error->db_failure()};
  if (auto* sql = dynamic_cast<const pqxx::sql_error*>(&e))
    return {sql->sqlstate(), classify_sqlstate(sql->sqlstate())};
  if (dynamic_cast<const pqxx::in_doubt_error*>(&e)) return {"", DbFailure::in_doubt};
  if (dynamic_cast<const pqxx::statement_completion_unknown*>(&e)) return {"40003", DbFailure::in_doubt};
  if (dynamic_cast<const pqxx::serialization_failure*>(&e)) return {"40001", DbFailure::retryable};
  if (dynamic_cast<const pqxx::deadlock_detected*>(&e)) return {"40P01", DbFailure::retryable};
  if (dynamic_cast<const pqxx::transaction_rollback*>(&e)) return {"40000", DbFailure::retryable};
  if (dynamic_cast<const pqxx::too_many_connections*>(&e)) return {"53300", DbFailure::retryable};
  if (dynamic_cast<const pqxx::broken_connection*>(&e)) return {"", DbFailure::retryable};
  if (dynamic_cast<const pqxx::pqxx_exception*>(&e)) return {"", DbFailure::permanent};
  return {};
}

Error database_error(const FailureClass& failure, const std::string& reason, const std::string& doing,
                     const std::string& where, std::string cause, const std::string& again_hint) {
  const std::string& state = failure.sqlstate;
  std::string coded = state.empty() ? "" : " (SQLSTATE " + state + ")";
  std::string again = again_hint.empty() ? "run the command again" : again_hint;
  std::string message = "error while " + doing + " on " + where + ": " + reason + coded, hint;
  if (failure.failure == DbFailure::in_doubt) {
    message = "lost the connection to " + where + " while " + doing + ": whether it committed is unknown" + coded;
    hint = again_hint.empty() ? "check on the server whether the change was made before running the command again"
                              : again_hint;
  } else if (failure.failure == DbFailure::retryable && connection_lost(state)) {
    message = "lost the connection to " + where + " while " + doing + ": " + reason + coded;
    hint = "check that the server is running, then " + again;
  } else if (failure.failure == DbFailure::retryable) {
    std::string name = sqlstate_name(state);
    hint = "another session held what this needed" + (name.empty() ? "" : " (" + name + ")") + ": " + again;
  } else if (!again_hint.empty()) {
    hint = "fix the cause, then " + again_hint;
  }
  Error error = runtime_error(message, hint, std::move(cause));
  error.set_db_failure(state, failure.failure);
  return error;
}

void rethrow_as_error(const std::exception& e, const std::string& doing, const Connection& conn) {
  if (auto* error = dynamic_cast<const Error*>(&e)) throw *error;
  throw database_error(classify(e), first_line(e.what()), doing, conn.describe(), e.what());
}

std::string first_line(std::string text) {
  auto nl = text.find('\n');
  if (nl != std::string::npos) text.resize(nl);
  auto colon = text.find(":  ");  // the severity is one word: "ERROR", "FATAL", "FEHLER"
  if (colon != std::string::npos && colon < 24 && text.find(' ') > colon) text.erase(0, colon + 3);
  return text;
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

std::string quote_ident_list(const std::vector<std::string>& names) {
  std::string out;
  for (const auto& n : names) out += (out.empty() ? "" : ", ") + quote_ident(n);
  return out;
}

namespace {

/// COPY's escape of `c`, nullptr when COPY writes it as it is.
const char* copy_escape(char c) {
  switch (c) {
    case '\\': return "\\\\";
    case '\b': return "\\b";
    case '\f': return "\\f";
    case '\n': return "\\n";
    case '\r': return "\\r";
    case '\t': return "\\t";
    case '\v': return "\\v";
    default: return nullptr;
  }
}

}  // namespace

std::string copy_field(const char* text, std::size_t size) {
  std::string out;
  out.reserve(size);
  for (std::size_t i = 0; i < size; ++i) {
    const char* escape = copy_escape(text[i]);
    if (escape) out += escape;
    else out += text[i];
  }
  return out;
}

bool copies_as_is(std::string_view text) {
  return std::none_of(text.begin(), text.end(), [](char c) { return copy_escape(c) != nullptr; });
}

}  // namespace auditpitr::pg
