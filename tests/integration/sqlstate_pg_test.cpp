// Database failures are told apart by SQLSTATE on a server whose messages are German
// (lc_messages = de_DE.UTF-8): each kind provoked for real and classified, and the restore's swap
// retried when a session holds the database (55006), which used to be recognised by English text;
// and a restore whose pg_restore meets the errors the old guide called normal still succeeds.
#include <unistd.h>

#include <catch2/catch.hpp>
#include <chrono>
#include <memory>
#include <optional>
#include <thread>

#include "replay/apply/pg_session.h"
#include "src/ops/restore_internal.h"
#include "src/pg/connection.h"
#include "tests/integration/replay_support.h"
#include "tests/integration/restore_fixture.h"
#include "tests/support/test_cluster.h"

using namespace auditpitr;

namespace {

// From the first test on, this binary's server answers in German (a reload: new sessions see it).
pg::ConnInfo german(const std::string& dbname = "postgres") {
  static bool done = false;
  auto& c = test::cluster();
  if (!done) {
    try {
      test::execute(c.connect_info(), "ALTER SYSTEM SET lc_messages = 'de_DE.UTF-8'");
      test::execute(c.connect_info(), "SELECT pg_reload_conf()");
    } catch (const std::exception& e) {
      test::skip_binary_unless_required(std::string("the server cannot speak German (scripts/install-deps generates "
                                                    "the de_DE.UTF-8 locale): ") +
                                        e.what());
    }
    for (int i = 0; i < 100 && test::query_value(c.connect_info(), "SHOW lc_messages") != "de_DE.UTF-8"; ++i)
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    done = true;
  }
  return c.connect_info(dbname);
}

// The Error auditpitr makes of whatever `statement` throws on `conn`.
template <typename Statement>
Error error_of(pg::Connection& conn, Statement statement) {
  try {
    statement();
  } catch (const std::exception& e) {
    try {
      pg::rethrow_as_error(e, "testing", conn);
    } catch (const Error& error) {
      return error;
    }
  }
  FAIL("the statement did not fail");
  return runtime_error("unreachable");
}

// Waits (up to 10 s) until the session `pid` is running `query`, to interrupt it right there.
// No Catch2 macro here: threads call it.
bool wait_until_running(int pid, const std::string& query) {
  for (int i = 0; i < 400; ++i) {
    if (test::query_value(german(), "SELECT count(*) FROM pg_stat_activity WHERE pid = " + std::to_string(pid) +
                                        " AND state = 'active' AND query = '" + query + "'") == "1")
      return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(25));
  }
  return false;
}

void terminate(int pid) { test::execute(german(), "SELECT pg_terminate_backend(" + std::to_string(pid) + ")"); }

// Cuts the session `pid` once it runs COMMIT, from another thread; seen() says whether it did.
class CommitCutter {
 public:
  explicit CommitCutter(int pid)
      : thread_([this, pid] {
          seen_ = wait_until_running(pid, "COMMIT");
          if (seen_) terminate(pid);
        }) {}
  bool seen() {
    if (thread_.joinable()) thread_.join();
    return seen_;
  }
  ~CommitCutter() { seen(); }

 private:
  bool seen_ = false;
  std::thread thread_;
};

// A table whose COMMIT takes seconds (a deferred constraint trigger sleeps): time to cut the
// connection while the commit runs.
pg::ConnInfo slow_commit_database(const std::string& name) {
  german();
  auto info = test::fresh_database(name);
  test::execute(info,
                "CREATE TABLE t (id int PRIMARY KEY, v int NOT NULL);"
                "INSERT INTO t SELECT g, 0 FROM generate_series(1, 4) g;"
                "CREATE FUNCTION slow() RETURNS trigger LANGUAGE plpgsql AS "
                "$$ BEGIN PERFORM pg_sleep(5); RETURN NULL; END $$;"
                "CREATE CONSTRAINT TRIGGER slow AFTER INSERT ON t DEFERRABLE INITIALLY DEFERRED "
                "FOR EACH ROW EXECUTE FUNCTION slow()");
  return info;
}

}  // namespace

TEST_CASE("the server under test answers in German", "[pg][sqlstate]") {
  pg::Connection conn(german());
  Error e = error_of(conn, [&] { pqxx::nontransaction(conn.raw()).exec("SELECT 1 / 0"); });
  CHECK_THAT(e.what(), Catch::Contains("Division durch Null") && Catch::Contains("(SQLSTATE 22012)"));
  CHECK(e.db_failure() == DbFailure::permanent);
}

TEST_CASE("a refused connection gets a hint though the server's reason is German", "[pg][sqlstate]") {
  try {
    pg::Connection conn(german("sq_no_such_database"));
    FAIL("connected");
  } catch (const Error& e) {
    CHECK_THAT(e.what(), Catch::Contains("existiert nicht"));
    CHECK_THAT(e.hint(), Catch::Contains("database names"));
  }
}

TEST_CASE("lock not available, serialization failure, deadlock and a lost connection are retryable", "[pg][sqlstate]") {
  auto info = slow_commit_database("sq_retryable");
  pg::Connection a(info), b(info), c(info);

  SECTION("lock not available (55P03)") {
    pqxx::work holding(a.raw());
    holding.exec("SELECT * FROM t WHERE id = 1 FOR UPDATE");
    Error e =
        error_of(b, [&] { pqxx::nontransaction(b.raw()).exec("SELECT * FROM t WHERE id = 1 FOR UPDATE NOWAIT"); });
    CHECK(e.sqlstate() == "55P03");
    CHECK(e.retryable());
    CHECK_THAT(e.what(), Catch::Contains("konnte Sperre"));
  }
  SECTION("serialization failure (40001)") {
    pqxx::transaction<pqxx::repeatable_read> reader(a.raw());
    reader.exec("SELECT * FROM t");
    pqxx::nontransaction(b.raw()).exec("UPDATE t SET v = v + 1 WHERE id = 2");
    Error e = error_of(a, [&] { reader.exec("UPDATE t SET v = v + 1 WHERE id = 2"); });
    CHECK(e.sqlstate() == "40001");
    CHECK(e.retryable());
  }
  SECTION("deadlock (40P01)") {
    pqxx::work first(a.raw()), second(b.raw());
    first.exec("SELECT set_config('deadlock_timeout', '200ms', true)");
    second.exec("SELECT set_config('deadlock_timeout', '200ms', true)");
    first.exec("UPDATE t SET v = 1 WHERE id = 3");
    second.exec("UPDATE t SET v = 1 WHERE id = 4");
    std::optional<Error> first_error, second_error;
    std::thread waiting([&] {
      try {
        first.exec("UPDATE t SET v = 2 WHERE id = 4");
      } catch (const std::exception& e) {
        first_error = error_of(a, [&] { throw; });
      }
    });
    REQUIRE(wait_until_running(a.raw().backendpid(), "UPDATE t SET v = 2 WHERE id = 4"));
    try {
      second.exec("UPDATE t SET v = 2 WHERE id = 3");
    } catch (const std::exception& e) {
      second_error = error_of(b, [&] { throw; });
    }
    waiting.join();
    REQUIRE(first_error.has_value() != second_error.has_value());  // PostgreSQL ends one of the two
    const Error& e = first_error ? *first_error : *second_error;
    CHECK(e.sqlstate() == "40P01");
    CHECK(e.retryable());
    CHECK_THAT(e.what(), Catch::Contains("Verklemmung"));
  }
  SECTION("connection lost") {
    terminate(a.raw().backendpid());
    Error e = error_of(a, [&] { pqxx::nontransaction(a.raw()).exec("SELECT 1"); });
    CHECK(e.retryable());
    CHECK_THAT(e.what(), Catch::StartsWith("lost the connection to database 'sq_retryable'"));
  }
  SECTION("a constraint violation is permanent") {
    Error e = error_of(c, [&] { pqxx::nontransaction(c.raw()).exec("INSERT INTO t VALUES (1, 0)"); });
    CHECK(e.sqlstate() == "23505");
    CHECK(e.db_failure() == DbFailure::permanent);
    CHECK_THAT(e.what(), Catch::Contains("doppelter Schlüsselwert"));
  }
}

TEST_CASE("a connection lost during COMMIT leaves the outcome in doubt", "[pg][sqlstate]") {
  auto info = slow_commit_database("sq_in_doubt");

  SECTION("libpqxx (backup, restore)") {
    pg::Connection conn(info);
    CommitCutter cutter(conn.raw().backendpid());
    Error e = error_of(conn, [&] {
      pqxx::work tx(conn.raw());
      tx.exec("INSERT INTO t VALUES (10, 0)");
      tx.commit();
    });
    REQUIRE(cutter.seen());
    CHECK(e.db_failure() == DbFailure::in_doubt);
    CHECK_THAT(e.what(), Catch::Contains("whether it committed is unknown"));
  }
  SECTION("libpq (replay)") {
    replay::PgSession session(info);
    session.exec("BEGIN");
    session.exec("INSERT INTO t VALUES (11, 0)");
    CommitCutter cutter(PQbackendPID(session.raw()));
    std::optional<Error> e;
    try {
      session.exec("COMMIT", {}, "committing a batch");
    } catch (const Error& error) {
      e = error;
    }
    REQUIRE(cutter.seen());
    REQUIRE(e.has_value());
    CHECK(e->db_failure() == DbFailure::in_doubt);
    CHECK_THAT(e->hint(), Catch::Contains("replay resumes after the last committed batch"));
  }
  SECTION("libpq: a refused statement keeps its SQLSTATE and class") {
    replay::PgSession holder(info), session(info);
    holder.exec("BEGIN");
    holder.exec("SELECT * FROM t WHERE id = 1 FOR UPDATE");
    std::optional<Error> e;
    try {
      session.exec("SELECT * FROM t WHERE id = 1 FOR UPDATE NOWAIT", {}, "locking");
    } catch (const Error& error) {
      e = error;
    }
    REQUIRE(e.has_value());
    CHECK(e->sqlstate() == "55P03");
    CHECK(e->retryable());
    CHECK_THAT(e->what(), Catch::Contains("konnte Sperre"));
  }
}

TEST_CASE("the restore's swap is tried again while a session holds the database (55006)", "[pg][sqlstate]") {
  german();
  test::fresh_database("sq_target");
  auto incoming = test::fresh_database("sq_incoming");
  test::execute(german(), "DROP DATABASE IF EXISTS sq_target_before WITH (FORCE)");
  auto holder = std::make_unique<pg::Connection>(incoming);  // RENAME waits 5 s for it, then fails

  std::vector<std::string> warnings;
  ops::Reporter reporter;
  reporter.warning = [&](const std::string& text) {
    warnings.push_back(text);
    holder.reset();  // it leaves: the next attempt succeeds
  };
  ops::detail::AdminSession admin(german());
  ops::detail::swap_into_place(admin, "sq_target", "sq_incoming", "sq_target_before",
                               {ops::CopyKind::kept, "20250101_000000", 0}, reporter);
  REQUIRE(!warnings.empty());
  CHECK_THAT(warnings.front(), Catch::Contains("(SQLSTATE 55006)") && Catch::Contains("zugegriffen") &&
                                   Catch::Contains("trying again (2 of 5)"));
  CHECK(admin.database_exists("sq_target"));
  CHECK(admin.database_exists("sq_target_before"));
  CHECK(!admin.database_exists("sq_incoming"));
}

TEST_CASE("pg_restore's messages are read the same whatever the server's and the user's language", "[pg][sqlstate]") {
  german();
  test::RestoreFixture f({"sq_owned"});
  auto db = f.db("sq_owned");
  test::execute(german(), "DROP ROLE IF EXISTS sq_owner; CREATE ROLE sq_owner");
  test::execute(db, "ALTER TABLE portfolios OWNER TO sq_owner");
  std::string stamp = f.backup();
  // The role is gone by the time of the restore: "role does not exist", which the old guide called
  // normal, is counted and ignored, as on an English server.
  test::execute(db, "REASSIGN OWNED BY sq_owner TO postgres; DROP OWNED BY sq_owner");
  test::execute(german(), "DROP ROLE sq_owner");
  auto r = test::run_cli({"-c", f.config(), "restore", stamp, "--yes"}, {{"LANG", "de_DE.UTF-8"}});
  INFO(r.out << r.err);
  CHECK(r.exit_code == 0);
  CHECK_THAT(r.out + r.err, Catch::Contains("role does not exist"));
}

TEST_CASE("who may ask the server for English: a superuser or a role granted SET on lc_messages", "[pg][sqlstate]") {
  auto& c = test::cluster();
  auto as = [&](const std::string& user) {
    return pg::ConnInfo::parse("host=" + c.folder() + " port=" + std::to_string(c.port()) + " user=" + user,
                               "postgres");
  };
  CHECK(pg::Connection(german()).may_set_lc_messages());
  test::execute(german(), "DROP ROLE IF EXISTS sq_plain; CREATE ROLE sq_plain LOGIN");
  CHECK_FALSE(pg::Connection(as("sq_plain")).may_set_lc_messages());
  // GRANT SET ON PARAMETER exists from PostgreSQL 15: on an older test server there is no such role.
  if (test::server_version_num() < 150000) return;
  test::execute(german(),
                "DROP ROLE IF EXISTS sq_granted; CREATE ROLE sq_granted LOGIN;"
                "GRANT SET ON PARAMETER lc_messages TO sq_granted");
  CHECK(pg::Connection(as("sq_granted")).may_set_lc_messages());
}

TEST_CASE("replay applies a batch again when the application's lock outlasts lock_timeout (55P03)", "[pg][sqlstate]") {
  german();
  auto db = test::portfolio_database("sq_replay");
  auto impatient = pg::ConnInfo::parse(db.to_libpq_string() + " options='-c lock_timeout=200ms'");
  test::ReplayWorkspace ws(impatient, {{"UPDATE_PORTFOLIO", "2025-01-15T10:00:01Z",
                                        R"("portfolioID":2,"title":"Renamed","userID":"user-bob")"}});
  // The application holds the row until replay has waited for it once and given up.
  bool held = false, waited = false;
  std::thread application([&] {
    pg::Connection conn(db);
    pqxx::work tx(conn.raw());
    tx.exec("SELECT * FROM portfolios WHERE id = 2 FOR UPDATE");
    held = true;
    std::string waiting =
        "SELECT count(*) FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid "
        "WHERE NOT l.granted AND a.datname = 'sq_replay'";
    for (int i = 0; i < 800 && !waited; ++i) {
      waited = test::query_value(db, waiting) != "0";
      std::this_thread::sleep_for(std::chrono::milliseconds(25));
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(400));  // past its lock_timeout
  });
  while (!held) std::this_thread::sleep_for(std::chrono::milliseconds(10));
  auto r = ws.replay({"--from", "2025-01-15T00:00:00Z", "--to", "2025-01-16T00:00:00Z"});
  application.join();
  INFO(r.out << r.err);
  REQUIRE(waited);
  CHECK(r.exit_code == 0);
  CHECK_THAT(r.out + r.err, Catch::Contains("(SQLSTATE 55P03)") && Catch::Contains("Sperre") &&
                                Catch::Contains("applied again (attempt 2 of 5)"));
  CHECK(test::query_value(db, "SELECT title FROM portfolios WHERE id = 2") == "Renamed");
}
