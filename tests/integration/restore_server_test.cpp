// What a restore may touch on the server (docs/safety.md): only databases carrying auditpitr's
// mark are dropped, the temporary database is closed to other roles from its first instant, and
// pg_restore's jobs leave the machine's cores and a share of the server's connections to others.
#include <sched.h>

#include <catch2/catch.hpp>

#include "src/pg/connection.h"
#include "tests/integration/restore_fixture.h"

using namespace auditpitr;
using test::RestoreFixture;

namespace {

pg::ConnInfo admin() { return test::cluster().connect_info("postgres"); }

std::string comment_of(const std::string& dbname) {
  return test::query_value(
      admin(), "SELECT shobj_description(oid, 'pg_database') FROM pg_database WHERE datname = '" + dbname + "'");
}

std::string title_of(const pg::ConnInfo& db) {
  return test::query_value(db, "SELECT title FROM portfolios WHERE id = 1");
}

// A database of the user's own, with a row in it.
void create_users_database(const std::string& name) {
  test::execute(admin(), "DROP DATABASE IF EXISTS \"" + name + "\" WITH (FORCE)");
  test::execute(admin(), "CREATE DATABASE \"" + name + "\"");
  test::execute(test::cluster().connect_info(name), "CREATE TABLE notes (t text); INSERT INTO notes VALUES ('mine')");
}

// The session still works and still sees the user's row.
std::string read_note(pg::Connection& session) {
  pqxx::nontransaction tx(session.raw());
  return tx.exec("SELECT t FROM notes")[0][0].as<std::string>();
}

int usable_cores() {
  cpu_set_t set;
  REQUIRE(::sched_getaffinity(0, sizeof set, &set) == 0);
  return CPU_COUNT(&set);
}

}  // namespace

TEST_CASE("a database auditpitr did not make survives restore and restore --into, with its sessions",
          "[pg][restore][safety]") {
  RestoreFixture f({"rs_mine"});
  auto db = f.db("rs_mine");
  std::string stamp = f.backup();
  test::execute(db, "UPDATE portfolios SET title = 'live data' WHERE id = 1");
  std::string theirs = "rs_mine_restoring_" + stamp;
  create_users_database(theirs);
  pg::Connection session(test::cluster().connect_info(theirs));

  auto r = f.cli({"restore", stamp, "--yes"});
  INFO(r.out << r.err);
  CHECK(r.exit_code == 1);
  CHECK(r.err.find("'" + theirs + "'") != std::string::npos);
  CHECK(r.err.find("does not carry auditpitr's mark") != std::string::npos);
  CHECK(r.err.find("HINT: ") != std::string::npos);
  CHECK(read_note(session) == "mine");
  CHECK(title_of(db) == "live data");
  CHECK(f.databases_like("rs_mine_before_restore_").empty());

  SECTION("--into, which asks nothing") {
    std::string side = "rs_mine_side_restoring_" + stamp;
    create_users_database(side);
    pg::Connection side_session(test::cluster().connect_info(side));
    auto into = f.cli({"restore", stamp, "--db", "rs_mine", "--into", "rs_mine_side"});
    INFO(into.out << into.err);
    CHECK(into.exit_code == 1);
    CHECK(into.err.find("'" + side + "'") != std::string::npos);
    CHECK(read_note(side_session) == "mine");
    CHECK(f.databases_like("rs_mine_side") == std::vector<std::string>{side});
  }
  SECTION("named for another stamp: left alone, said, and the restore goes on") {
    std::string other = "rs_mine_restoring_20000101_000000";
    create_users_database(other);
    pg::Connection other_session(test::cluster().connect_info(other));
    test::execute(admin(), "DROP DATABASE \"" + theirs + "\" WITH (FORCE)");
    auto ok = f.cli({"restore", stamp, "--yes"});
    INFO(ok.out << ok.err);
    REQUIRE(ok.exit_code == 0);
    CHECK(ok.out.find("leaving '" + other + "' alone") != std::string::npos);
    CHECK(read_note(other_session) == "mine");
    CHECK(title_of(db) == "Design Portfolio");
  }
}

TEST_CASE("the database's own comment stays with its name; kept and undone copies carry auditpitr's mark",
          "[pg][restore][safety]") {
  RestoreFixture f({"rs_mark"});
  test::execute(admin(), "COMMENT ON DATABASE rs_mark IS 'the shop''s data'");
  std::string stamp = f.backup();
  auto r = f.cli({"restore", stamp, "--yes"});
  INFO(r.out << r.err);
  REQUIRE(r.exit_code == 0);
  CHECK(comment_of("rs_mark") == "the shop's data");
  std::string kept = "rs_mark_before_restore_" + stamp;
  CHECK(comment_of(kept).rfind("auditpitr kept " + stamp + " ", 0) == 0);

  auto undo = f.cli({"restore", "--undo", stamp, "--yes"});
  INFO(undo.out << undo.err);
  REQUIRE(undo.exit_code == 0);
  CHECK(comment_of("rs_mark") == "the shop's data");
  CHECK(comment_of("rs_mark_undone_" + stamp).rfind("auditpitr undone " + stamp + " ", 0) == 0);

  SECTION("--into: the new database has no comment") {
    auto into = f.cli({"restore", stamp, "--db", "rs_mark", "--into", "rs_mark_copy"});
    REQUIRE(into.exit_code == 0);
    CHECK(comment_of("rs_mark_copy").empty());
  }
}

TEST_CASE("a role without rights cannot connect to the temporary database at any phase of a restore",
          "[pg][restore][safety]") {
  std::string phase = GENERATE(as<std::string>{}, "temp-created", "restored", "verified");
  RestoreFixture f({"rs_closed"});
  test::execute(admin(),
                "DO $$ BEGIN IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'rs_closed_stranger') THEN "
                "CREATE ROLE rs_closed_stranger LOGIN; END IF; END $$");
  auto& c = test::cluster();
  auto stranger = pg::ConnInfo::parse(
      "host=" + c.folder() + " port=" + std::to_string(c.port()) + " user=rs_closed_stranger", "rs_closed");
  REQUIRE(test::query_value(stranger, "SELECT current_user") == "rs_closed_stranger");  // the original is open
  std::string stamp = f.backup();

  INFO("phase " << phase);
  int pid = test::run_cli_until_paused({"-c", f.config(), "restore", stamp, "--yes"}, phase);
  REQUIRE(pid > 0);
  std::string refused;
  try {
    pg::Connection intruder(stranger.with_dbname("rs_closed_restoring_" + stamp));
  } catch (const std::exception& e) {
    refused = e.what();
  }
  test::kill_and_reap(pid);
  CHECK(refused.find("permission denied") != std::string::npos);

  // Once in place, the restored database has the original's privileges again (the defaults here).
  auto rerun = f.cli({"restore", stamp, "--yes"});
  INFO(rerun.out << rerun.err);
  REQUIRE(rerun.exit_code == 0);
  CHECK(test::query_value(stranger, "SELECT current_user") == "rs_closed_stranger");
}

TEST_CASE("pg_restore's jobs: --jobs 0 refused, never more than the cores, a share of connections left free",
          "[pg][restore][jobs]") {
  RestoreFixture f({"rs_cap"});
  std::string stamp = f.backup();

  auto zero = f.cli({"restore", stamp, "--yes", "--jobs", "0"});
  CHECK(zero.exit_code == 2);
  CHECK(zero.err.find("--jobs must be 1 or more") != std::string::npos);
  CHECK(f.databases_like("rs_cap_").empty());

  int cores = usable_cores();
  // The test server has 37 connections for ordinary roles and keeps 19 free: the cores decide.
  auto many = f.cli({"restore", stamp, "--db", "rs_cap", "--into", "rs_cap_many", "--jobs", "99"});
  INFO(many.out << many.err);
  REQUIRE(many.exit_code == 0);
  CHECK(many.out.find("--jobs=" + std::to_string(cores) + " instead of 99: this machine has " + std::to_string(cores) +
                      " core(s)") != std::string::npos);
  CHECK(many.out.find(cores > 1 ? "pg_restore -j" + std::to_string(cores) + " " : "pg_restore (streamed)") !=
        std::string::npos);

  SECTION("[restore] free_connections_percent keeps connections for the applications") {
    RestoreFixture busy({"rs_cap_busy"}, "[restore]\nfree_connections_percent = 99\n");
    std::string busy_stamp = busy.backup();
    auto r = busy.cli({"restore", busy_stamp, "--yes", "--jobs", "2"});
    INFO(r.out << r.err);
    REQUIRE(r.exit_code == 0);
    CHECK(r.out.find("--jobs=1 instead of 2: the server has ") != std::string::npos);
    CHECK(r.out.find("free_connections_percent = 99") != std::string::npos);
    CHECK(r.out.find("pg_restore (streamed)") != std::string::npos);
  }
}

TEST_CASE("--table without --db checks every database before writing to any", "[pg][restore][tables]") {
  RestoreFixture f({"rs_tab_a", "rs_tab_b"});
  auto a = f.db("rs_tab_a");
  auto b = f.db("rs_tab_b");
  test::execute(b, "DROP TABLE section_contents");  // this database never had it: neither has its backup
  std::string stamp = f.backup();
  std::string rows = test::query_value(a, "SELECT count(*) FROM section_contents");
  REQUIRE(rows != "0");
  test::execute(a, "DELETE FROM section_contents");

  auto r = f.cli({"restore", "latest", "--table", "section_contents", "--data-only", "--yes"});
  INFO(r.out << r.err);
  CHECK(r.exit_code == 2);
  CHECK(r.err.find("table 'section_contents' has no data in 'rs_tab_b_" + stamp + ".dump.gz'") != std::string::npos);
  CHECK(r.err.find("nothing was restored") != std::string::npos);
  CHECK(r.err.find("HINT: to restore only where the tables are, name those databases: --db rs_tab_a") !=
        std::string::npos);
  CHECK(test::query_value(a, "SELECT count(*) FROM section_contents") == "0");

  SECTION("a table in every backup but gone from one live database") {
    test::execute(b, "DROP TABLE projects");
    test::execute(a, "DELETE FROM projects");
    auto gone = f.cli({"restore", "latest", "--table", "projects", "--data-only", "--yes"});
    INFO(gone.out << gone.err);
    CHECK(gone.exit_code == 2);
    CHECK(gone.err.find("the database 'rs_tab_b' has no table 'projects'") != std::string::npos);
    CHECK(test::query_value(a, "SELECT count(*) FROM projects") == "0");
  }
  SECTION("named with --db, it goes ahead") {
    auto ok = f.cli({"restore", "latest", "--db", "rs_tab_a", "--table", "section_contents", "--data-only", "--yes"});
    INFO(ok.out << ok.err);
    REQUIRE(ok.exit_code == 0);
    CHECK(test::query_value(a, "SELECT count(*) FROM section_contents") == rows);
  }
}
