// auditpitr's one exception type and the exit codes it maps to.
// Every failure meant for the user is an Error; only main.cpp turns it into an exit status.
#pragma once

#include <stdexcept>
#include <string>

namespace auditpitr {

/// Kinds of failure. Each has a fixed exit code (docs/exit-codes.md): add, never renumber.
enum class ErrorKind {
  runtime,       ///< server, pg_dump/pg_restore, I/O: exit 1
  usage,         ///< command line or configuration: exit 2
  verification,  ///< verification mismatch or damaged backup: exit 3
  refused,       ///< destructive action without confirmation: exit 4
  interrupted,   ///< SIGINT (Ctrl-C): exit 130
  terminated,    ///< SIGTERM: exit 143, as shells report a process SIGTERM ended
};

/// What running a failed database statement again would do; src/pg/connection.h decides it, by
/// SQLSTATE (the message is in the server's lc_messages language and never looked at).
enum class DbFailure {
  none,       ///< not a database failure
  retryable,  ///< serialization failure, deadlock, lock not available, object in use, connection lost
  in_doubt,   ///< the connection was lost during COMMIT: it may or may not have committed
  permanent,  ///< anything else: the same statement would fail the same way
};

int exit_code(ErrorKind kind);
const char* kind_name(ErrorKind kind);

class Error : public std::runtime_error {
 public:
  Error(ErrorKind kind, std::string message, std::string hint = {}, std::string cause = {});

  ErrorKind kind() const { return kind_; }
  const std::string& hint() const { return hint_; }
  /// The lower-level error this one wraps (pqxx, errno, zlib text), shown with --verbose.
  const std::string& cause() const { return cause_; }

  /// Database failures: the SQLSTATE ("" when the server sent none, as when the connection broke)
  /// and its class; DbFailure::none for every other error.
  const std::string& sqlstate() const { return sqlstate_; }
  DbFailure db_failure() const { return db_failure_; }
  bool retryable() const { return db_failure_ == DbFailure::retryable; }
  Error& set_db_failure(std::string sqlstate, DbFailure failure);

 private:
  ErrorKind kind_;
  std::string hint_;
  std::string cause_;
  std::string sqlstate_;
  DbFailure db_failure_ = DbFailure::none;
};

/// Shorthands for the common kinds.
Error runtime_error(std::string message, std::string hint = {}, std::string cause = {});
Error usage_error(std::string message, std::string hint = {});
Error verification_error(std::string message, std::string hint = {});
Error refused_error(std::string message, std::string hint = {});

/// An Error for a failed system call: message plus strerror(errno_value) as the cause.
Error system_error(const std::string& message, int errno_value, std::string hint = {});

}  // namespace auditpitr
