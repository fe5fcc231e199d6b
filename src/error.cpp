// Exit codes and constructors for auditpitr::Error.
#include "src/error.h"

#include <cstring>

#include "src/util/secrets.h"

namespace auditpitr {

int exit_code(ErrorKind kind) {
  switch (kind) {
    case ErrorKind::runtime: return 1;
    case ErrorKind::usage: return 2;
    case ErrorKind::verification: return 3;
    case ErrorKind::refused: return 4;
    case ErrorKind::interrupted: return 130;
    case ErrorKind::terminated: return 143;
  }
  return 1;
}

const char* kind_name(ErrorKind kind) {
  switch (kind) {
    case ErrorKind::runtime: return "runtime error";
    case ErrorKind::usage: return "usage error";
    case ErrorKind::verification: return "verification failed";
    case ErrorKind::refused: return "refused";
    case ErrorKind::interrupted: return "interrupted";
    case ErrorKind::terminated: return "terminated";
  }
  return "error";
}

Error::Error(ErrorKind kind, std::string message, std::string hint, std::string cause)
    : std::runtime_error(mask_passwords(message)),  // whatever a message quotes (libpq echoes URIs)
      kind_(kind),
      hint_(mask_passwords(hint)),
      cause_(mask_passwords(cause)) {}

Error& Error::set_db_failure(std::string sqlstate, DbFailure failure) {
  sqlstate_ = std::move(sqlstate);
  db_failure_ = failure;
  return *this;
}

Error runtime_error(std::string message, std::string hint, std::string cause) {
  return Error(ErrorKind::runtime, std::move(message), std::move(hint), std::move(cause));
}
Error usage_error(std::string message, std::string hint) {
  return Error(ErrorKind::usage, std::move(message), std::move(hint));
}
Error verification_error(std::string message, std::string hint) {
  return Error(ErrorKind::verification, std::move(message), std::move(hint));
}
Error refused_error(std::string message, std::string hint) {
  return Error(ErrorKind::refused, std::move(message), std::move(hint));
}

Error system_error(const std::string& message, int errno_value, std::string hint) {
  std::string text = message + ": " + std::strerror(errno_value);
  return Error(ErrorKind::runtime, text, std::move(hint), std::strerror(errno_value));
}

}  // namespace auditpitr
