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
  interrupted,   ///< SIGINT/SIGTERM: exit 130
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

 private:
  ErrorKind kind_;
  std::string hint_;
  std::string cause_;
};

/// Shorthands for the common kinds.
Error runtime_error(std::string message, std::string hint = {}, std::string cause = {});
Error usage_error(std::string message, std::string hint = {});
Error verification_error(std::string message, std::string hint = {});
Error refused_error(std::string message, std::string hint = {});

/// An Error for a failed system call: message plus strerror(errno_value) as the cause.
Error system_error(const std::string& message, int errno_value, std::string hint = {});

}  // namespace auditpitr
