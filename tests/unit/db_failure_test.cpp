// The classifier of database failures: by SQLSTATE and libpqxx's exception types, never by message
// text. (tests/integration/sqlstate_pg_test.cpp provokes each failure on a German-speaking server.)
#include <catch2/catch.hpp>

#include "src/error.h"
#include "src/pg/connection.h"

using namespace auditpitr;

TEST_CASE("SQLSTATEs are classified retryable, in doubt or permanent", "[pg-errors]") {
  for (const char* state :
       {"40001", "40P01", "55P03", "55006", "08000", "08006", "08003", "53300", "57P01", "57P02", "57P03", "57P05"}) {
    INFO(state);
    CHECK(pg::classify_sqlstate(state) == DbFailure::retryable);
  }
  CHECK(pg::classify_sqlstate("40003") == DbFailure::in_doubt);
  for (const char* state : {"23505", "23503", "42P01", "42601", "22012", "40002", "57014", "57P04", "XX000", ""}) {
    INFO(state);
    CHECK(pg::classify_sqlstate(state) == DbFailure::permanent);
  }
}

TEST_CASE("libpqxx exceptions are classified by type where they carry no SQLSTATE", "[pg-errors]") {
  auto check = [](const std::exception& e, const std::string& state, DbFailure failure) {
    pg::FailureClass c = pg::classify(e);
    CHECK(c.sqlstate == state);
    CHECK(c.failure == failure);
  };
  check(pqxx::sql_error("FEHLER:  auf Datenbank »x« wird von anderen Benutzern zugegriffen", "ALTER DATABASE", "55006"),
        "55006", DbFailure::retryable);
  check(pqxx::unique_violation("ERROR:  duplicate key", "INSERT", "23505"), "23505", DbFailure::permanent);
  check(pqxx::serialization_failure("could not serialize"), "40001", DbFailure::retryable);
  check(pqxx::deadlock_detected("deadlock"), "40P01", DbFailure::retryable);
  check(pqxx::statement_completion_unknown("?"), "40003", DbFailure::in_doubt);
  check(pqxx::in_doubt_error("connection lost while committing"), "", DbFailure::in_doubt);
  check(pqxx::broken_connection("server closed the connection unexpectedly"), "", DbFailure::retryable);
  check(pqxx::too_many_connections("too many"), "53300", DbFailure::retryable);
  check(pqxx::conversion_error("not a number"), "", DbFailure::permanent);
  check(std::runtime_error("not from the database"), "", DbFailure::none);
  Error classified = runtime_error("x");
  classified.set_db_failure("40P01", DbFailure::retryable);
  check(classified, "40P01", DbFailure::retryable);
  CHECK(runtime_error("plain").db_failure() == DbFailure::none);
}

TEST_CASE("database errors say what a retry would do, and keep the SQLSTATE", "[pg-errors]") {
  const std::string where = "database 'app' at db:5432";
  Error busy = pg::database_error({"55006", DbFailure::retryable}, "auf Datenbank »app« wird zugegriffen",
                                  "swapping 'x' into place", where, "cause");
  CHECK(busy.sqlstate() == "55006");
  CHECK(busy.retryable());
  CHECK_THAT(busy.what(),
             Catch::Contains("db:5432") && Catch::Contains("(SQLSTATE 55006)") && Catch::Contains("»app«"));
  CHECK_THAT(busy.hint(), Catch::Contains("object in use") && Catch::Contains("run the command again"));
  CHECK(busy.cause() == "cause");

  Error lost = pg::database_error({"", DbFailure::retryable}, "server closed the connection", "reading", where, "");
  CHECK_THAT(lost.what(), Catch::StartsWith("lost the connection to " + where + " while reading"));
  CHECK_THAT(lost.hint(), Catch::Contains("server is running"));

  Error doubt = pg::database_error({"", DbFailure::in_doubt}, "gone", "committing", where, "", "look first");
  CHECK(doubt.db_failure() == DbFailure::in_doubt);
  CHECK_THAT(doubt.what(), Catch::Contains("whether it committed is unknown"));
  CHECK(doubt.hint() == "look first");

  Error wrong = pg::database_error({"42P01", DbFailure::permanent}, "relation missing", "reading", where, "");
  CHECK(wrong.db_failure() == DbFailure::permanent);
  CHECK(wrong.hint().empty());
  CHECK(pg::database_error({"42P01", DbFailure::permanent}, "r", "reading", where, "", "run it again").hint() ==
        "fix the cause, then run it again");
}

TEST_CASE("the severity is taken off a server message in any language", "[pg-errors]") {
  CHECK(pg::first_line("ERROR:  relation \"x\" does not exist\nLINE 1: ...") == "relation \"x\" does not exist");
  CHECK(pg::first_line("FEHLER:  Relation »x« existiert nicht") == "Relation »x« existiert nicht");
  CHECK(pg::first_line("FATAL:  Passwort-Authentifizierung fehlgeschlagen") ==
        "Passwort-Authentifizierung fehlgeschlagen");
  CHECK(pg::first_line("server closed the connection unexpectedly:  twice") ==
        "server closed the connection unexpectedly:  twice");
}
