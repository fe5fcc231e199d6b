// PgSession: libpq with auditpitr's messages.
#include "replay/apply/pg_session.h"

#include <cstdio>
#include <cstring>

#include "src/error.h"
#include "src/pg/connection.h"

namespace auditpitr::replay {
namespace {

std::string one_line(const char* text) {
  std::string s = text ? text : "";
  auto nl = s.find('\n');
  if (nl != std::string::npos) s.resize(nl);
  if (s.rfind("ERROR:  ", 0) == 0) s.erase(0, 8);
  if (s.rfind("FATAL:  ", 0) == 0) s.erase(0, 8);
  return s;
}

constexpr const char* kAgain = "run the command again: replay resumes after the last committed batch";

}  // namespace

std::string sqlstate_of(const PGresult* result) {
  const char* state = result ? PQresultErrorField(result, PG_DIAG_SQLSTATE) : nullptr;
  return state ? state : "";
}

std::string message_of(const PGresult* result) {
  const char* primary = result ? PQresultErrorField(result, PG_DIAG_MESSAGE_PRIMARY) : nullptr;
  if (primary) return one_line(primary);
  return one_line(result ? PQresultErrorMessage(result) : "");
}

PgSession::PgSession(const pg::ConnInfo& info) : info_(info) {
  conn_ = PQconnectdb(info_.to_libpq_string().c_str());
  if (PQstatus(conn_) != CONNECTION_OK) {
    std::string reason = one_line(PQerrorMessage(conn_));
    PQfinish(conn_);
    conn_ = nullptr;
    throw runtime_error("unable to connect to " + describe() + ": " + reason,
                        "is the server running, and are the database and user names right?");
  }
  int version = PQserverVersion(conn_);
  if (version < pg::kOldestServerVersionNum) {
    PQfinish(conn_);
    conn_ = nullptr;
    pg::require_supported_server(version, describe());
  }
  // NOTICEs ("schema auditpitr already exists, skipping") are not for the user's terminal; warnings are.
  PQsetNoticeProcessor(
      conn_,
      [](void*, const char* message) {
        if (std::strncmp(message, "NOTICE:", 7) != 0) std::fputs(message, stderr);
      },
      nullptr);
}

PgSession::~PgSession() {
  if (conn_) PQfinish(conn_);
}

std::string PgSession::describe() const { return "database '" + info_.dbname() + "' at " + info_.server_address(); }

PgResult PgSession::run(const std::string& sql, const Params& params, const std::string& doing) {
  PgResult r;
  if (params.empty()) {  // PQexec: the schema's script holds several statements
    r.reset(PQexec(conn_, sql.c_str()));
  } else {
    std::vector<const char*> values;
    values.reserve(params.size());
    for (const auto& p : params) values.push_back(p ? p->c_str() : nullptr);
    r.reset(
        PQexecParams(conn_, sql.c_str(), static_cast<int>(values.size()), nullptr, values.data(), nullptr, nullptr, 0));
  }
  if (!r || PQstatus(conn_) == CONNECTION_BAD) lost(doing, sql == "COMMIT");
  return r;
}

PgResult PgSession::try_exec(const std::string& sql, const Params& params) {
  return run(sql, params, "running a statement");
}

PgResult PgSession::exec(const std::string& sql, const Params& params, const std::string& doing) {
  PgResult r = run(sql, params, doing);
  ExecStatusType status = PQresultStatus(r.get());
  if (status != PGRES_COMMAND_OK && status != PGRES_TUPLES_OK) fail(r.get(), doing);
  return r;
}

void PgSession::copy_out(const std::string& sql, const std::function<void(const char* line, std::size_t size)>& on_line,
                         const std::string& doing) {
  PgResult started = run(sql, {}, doing);
  if (PQresultStatus(started.get()) != PGRES_COPY_OUT) fail(started.get(), doing);
  char* buffer = nullptr;
  int size = 0;
  while ((size = PQgetCopyData(conn_, &buffer, 0)) > 0) {
    std::unique_ptr<char, decltype(&PQfreemem)> owned(buffer, &PQfreemem);
    std::size_t n = static_cast<std::size_t>(size);
    if (n > 0 && buffer[n - 1] == '\n') --n;
    on_line(buffer, n);
  }
  if (size == -2) lost(doing, false);
  PgResult finished(PQgetResult(conn_));
  if (PQresultStatus(finished.get()) != PGRES_COMMAND_OK) fail(finished.get(), doing);
  for (PGresult* more; (more = PQgetResult(conn_)) != nullptr;) PQclear(more);
}

void PgSession::copy_in(const std::string& sql, const std::vector<std::string>& lines, const std::string& doing) {
  PgResult started = run(sql, {}, doing);
  if (PQresultStatus(started.get()) != PGRES_COPY_IN) fail(started.get(), doing);
  std::string buffer;
  auto send = [&] {
    if (PQputCopyData(conn_, buffer.data(), static_cast<int>(buffer.size())) != 1) lost(doing, false);
    buffer.clear();
  };
  for (const auto& line : lines) {
    buffer.append(line).append(1, '\n');
    if (buffer.size() >= (1u << 16)) send();
  }
  if (!buffer.empty()) send();
  if (PQputCopyEnd(conn_, nullptr) != 1) lost(doing, false);
  PgResult finished(PQgetResult(conn_));
  if (PQresultStatus(finished.get()) != PGRES_COMMAND_OK) fail(finished.get(), doing);
  for (PGresult* more; (more = PQgetResult(conn_)) != nullptr;) PQclear(more);
}

void PgSession::fail(const PGresult* result, const std::string& doing) const {
  if (PQstatus(conn_) == CONNECTION_BAD) lost(doing, false);
  std::string state = sqlstate_of(result);
  throw pg::database_error({state, pg::classify_sqlstate(state)}, message_of(result), doing, describe(),
                           result ? PQresultErrorMessage(result) : "", kAgain);
}

void PgSession::lost(const std::string& doing, bool committing) const {
  // The batch's position is written in its own transaction: a rerun resumes where it really ended.
  pg::FailureClass failure{"", committing ? DbFailure::in_doubt : DbFailure::retryable};
  throw pg::database_error(failure, one_line(PQerrorMessage(conn_)), doing, describe(), PQerrorMessage(conn_), kAgain);
}

std::optional<std::string> first_value(const PGresult* result) {
  if (!result || PQntuples(result) < 1 || PQnfields(result) < 1 || PQgetisnull(result, 0, 0)) return std::nullopt;
  return std::string(PQgetvalue(result, 0, 0));
}

}  // namespace auditpitr::replay
