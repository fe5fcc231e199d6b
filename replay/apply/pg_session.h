// A plain libpq connection for replay: synchronous statements with bound parameters, and the raw
// PGconn for pipeline mode (libpqxx 6.4 has none: its `pipeline` joins statement texts and binds
// nothing). Failures become auditpitr Errors naming the database and, for SQL errors, the SQLSTATE.
#pragma once

#include <libpq-fe.h>

#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "src/pg/conninfo.h"

namespace auditpitr::replay {

struct PgResultDeleter {
  void operator()(PGresult* r) const { PQclear(r); }
};
using PgResult = std::unique_ptr<PGresult, PgResultDeleter>;

using Params = std::vector<std::optional<std::string>>;

/// The SQLSTATE of a failed result ("" when there is none: the connection broke).
std::string sqlstate_of(const PGresult* result);
/// The primary message, on one line.
std::string message_of(const PGresult* result);

class PgSession {
 public:
  /// Connects now; runtime Error naming host:port and the database when it cannot.
  explicit PgSession(const pg::ConnInfo& info);
  ~PgSession();
  PgSession(const PgSession&) = delete;
  PgSession& operator=(const PgSession&) = delete;

  /// Runs one statement and returns its result; runtime Error (naming `doing`) when it fails.
  PgResult exec(const std::string& sql, const Params& params = {}, const std::string& doing = "running a statement");
  /// Same, but a failed result is returned instead of thrown (the connection must still be fine).
  PgResult try_exec(const std::string& sql, const Params& params = {});

  /// Runs `COPY (…) TO STDOUT` (text format) and hands each row's line, without its newline, to
  /// `on_line` as it streams (valid during the call); runtime Error (naming `doing`) on failure.
  void copy_out(const std::string& sql, const std::function<void(const char* line, std::size_t size)>& on_line,
                const std::string& doing);

  /// Runs `COPY … FROM STDIN` (text format) with `lines` (each a row without its newline, COPY
  /// text); runtime Error (naming `doing`) on failure.
  void copy_in(const std::string& sql, const std::vector<std::string>& lines, const std::string& doing);

  /// The Error for a failed result or a broken connection while `doing` something, classified by
  /// pg::classify_sqlstate (src/pg/connection.h).
  [[noreturn]] void fail(const PGresult* result, const std::string& doing) const;

  PGconn* raw() { return conn_; }
  /// "database 'portfolio_db' at localhost:5432"
  std::string describe() const;

 private:
  pg::ConnInfo info_;
  PGconn* conn_ = nullptr;

  PgResult run(const std::string& sql, const Params& params, const std::string& doing);
  /// The connection is gone: retryable, or in doubt when it went during COMMIT.
  [[noreturn]] void lost(const std::string& doing, bool committing) const;
};

/// The first column of the first row as text, nullopt for NULL or no row.
std::optional<std::string> first_value(const PGresult* result);

}  // namespace auditpitr::replay
