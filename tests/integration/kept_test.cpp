// auditpitr kept: the copies restores keep, listed and dropped through the configured connection,
// only with a typed yes or --yes, and only when they carry auditpitr's mark and nobody uses them.
#include <unistd.h>

#include <catch2/catch.hpp>

#include "src/pg/connection.h"
#include "tests/integration/restore_fixture.h"

using namespace auditpitr;
using test::RestoreFixture;

namespace {

pg::ConnInfo admin() { return test::cluster().connect_info("postgres"); }

std::string restore(const RestoreFixture& f, const std::string& stamp) {
  auto r = f.cli({"restore", stamp, "--yes"});
  INFO(r.out << r.err);
  REQUIRE(r.exit_code == 0);
  return r.out;
}

// A backup with a stamp of its own (stamps have whole seconds).
std::string next_backup(const RestoreFixture& f, const std::string& previous) {
  std::string stamp;
  while ((stamp = f.backup()) == previous) ::sleep(1);
  return stamp;
}

}  // namespace

TEST_CASE("kept lists the copies restores keep, and drops them only after a typed yes or --yes", "[pg][kept]") {
  RestoreFixture f({"kp_db"});
  std::string stamp = f.backup();
  std::string out = restore(f, stamp);
  std::string kept = "kp_db_before_restore_" + stamp;
  // The hint uses the configuration the restore used, and drops through it.
  CHECK(out.find("drop the kept copy: auditpitr -c " + f.config() + " kept --drop " + stamp + " --db kp_db") !=
        std::string::npos);
  CHECK(out.find("psql") == std::string::npos);

  auto listed = f.cli({"kept", "--json"});
  INFO(listed.out << listed.err);
  REQUIRE(listed.exit_code == 0);
  CHECK(listed.out.find("\"name\": \"" + kept + "\"") != std::string::npos);
  CHECK(listed.out.find("\"kind\": \"kept\"") != std::string::npos);
  CHECK(listed.out.find("\"marked\": true") != std::string::npos);
  CHECK(f.cli({"kept"}).out.find(kept) != std::string::npos);

  auto no_terminal = f.cli({"kept", "--drop", stamp});
  CHECK(no_terminal.exit_code == 4);
  CHECK(no_terminal.err.find("'" + kept + "'") != std::string::npos);
  auto said_no = test::run_cli_in_terminal({"-c", f.config(), "kept", "--drop", stamp}, "Type 'yes' to proceed:", "y");
  CHECK(said_no.exit_code == 4);
  REQUIRE(f.databases_like(kept).size() == 1);

  auto said_yes =
      test::run_cli_in_terminal({"-c", f.config(), "kept", "--drop", stamp}, "Type 'yes' to proceed:", "yes");
  INFO(said_yes.out);
  CHECK(said_yes.exit_code == 0);
  CHECK(f.databases_like(kept).empty());
  CHECK(test::query_value(f.db("kp_db"), "SELECT count(*) FROM portfolios") == "3");  // the restored one stays

  auto again = f.cli({"kept", "--drop", stamp, "--yes"});
  CHECK(again.exit_code == 2);
  CHECK(again.err.find("no kept copy of the restore " + stamp) != std::string::npos);
}

TEST_CASE("kept never drops a database without auditpitr's mark, nor a copy in use", "[pg][kept][safety]") {
  RestoreFixture f({"kp_safe"});
  std::string theirs = "kp_safe_before_restore_20000101_000000";
  test::execute(admin(), "CREATE DATABASE " + theirs);
  pg::Connection their_session(test::cluster().connect_info(theirs));

  CHECK(f.cli({"kept"}).out.find("not marked by auditpitr") != std::string::npos);
  auto refused = f.cli({"kept", "--drop", "20000101_000000", "--yes"});
  CHECK(refused.exit_code == 1);
  CHECK(refused.err.find("does not carry auditpitr's mark") != std::string::npos);
  auto old = f.cli({"kept", "--older-than", "0s", "--yes"});
  CHECK(old.exit_code == 0);
  CHECK(f.databases_like(theirs).size() == 1);
  pqxx::nontransaction(their_session.raw()).exec("SELECT 1");  // its session lives on

  std::string stamp = f.backup();
  restore(f, stamp);
  std::string kept = "kp_safe_before_restore_" + stamp;
  {
    pg::Connection inspecting(test::cluster().connect_info(kept));
    auto busy = f.cli({"kept", "--drop", stamp, "--yes"});
    CHECK(busy.exit_code == 1);
    CHECK((busy.out + busy.err).find("is in use") != std::string::npos);
    CHECK(f.databases_like(kept).size() == 1);
    pqxx::nontransaction(inspecting.raw()).exec("SELECT 1");
  }
  auto dropped = f.cli({"kept", "--drop", stamp, "--yes"});
  INFO(dropped.out << dropped.err);
  CHECK(dropped.exit_code == 0);
  CHECK(f.databases_like(kept).empty());
}

TEST_CASE("kept --older-than drops the copies made longer ago, by the time in their mark", "[pg][kept]") {
  RestoreFixture f({"kp_age"});
  std::string first = f.backup();
  restore(f, first);
  std::string second = next_backup(f, first);
  restore(f, second);
  std::string old_copy = "kp_age_before_restore_" + first, new_copy = "kp_age_before_restore_" + second;
  // As if the first restore had been made in 2020.
  test::execute(admin(), "COMMENT ON DATABASE " + old_copy + " IS 'auditpitr kept " + first + " 2020-01-01T00:00:00Z'");

  CHECK(f.cli({"kept", "--older-than", "3x"}).exit_code == 2);
  auto r = f.cli({"kept", "--older-than", "30d", "--yes", "--json"});
  INFO(r.out << r.err);
  CHECK(r.exit_code == 0);
  auto dropped = r.out.find("\"dropped\"");
  REQUIRE(dropped != std::string::npos);
  CHECK(r.out.find(old_copy, dropped) != std::string::npos);
  CHECK(r.out.find(new_copy, dropped) == std::string::npos);
  CHECK(f.databases_like(old_copy).empty());
  CHECK(f.databases_like(new_copy).size() == 1);
}
