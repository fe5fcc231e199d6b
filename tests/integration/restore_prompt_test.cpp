// The typed confirmation on a real (pseudo) terminal: the old script's warning, then only the word
// 'yes' lets a restore overwrite anything.
#include <catch2/catch.hpp>

#include "tests/integration/restore_fixture.h"

using namespace auditpitr;

TEST_CASE("on a terminal, restore shows the warning and needs the typed word yes", "[pg][restore][prompt]") {
  test::RestoreFixture f({"rp_db"});
  std::string stamp = f.backup();
  test::execute(f.db("rp_db"), "DELETE FROM projects");
  const std::string prompt = "Type 'yes' to proceed:";

  auto refused = test::run_cli_in_terminal({"-c", f.config(), "restore", stamp}, prompt, "y");
  INFO(refused.out);
  CHECK(refused.exit_code == 4);
  CHECK_THAT(refused.out, Catch::Contains("WARNING") && Catch::Contains("REPLACE") && Catch::Contains(stamp));
  CHECK_THAT(refused.out, Catch::Contains("nothing was changed"));
  // The box says what the line under it says (the replaced database is kept), and its right
  // border stands in one column.
  CHECK_THAT(refused.out, !Catch::Contains("LOST") && Catch::Contains("rp_db_before_restore_" + stamp));
  std::size_t width = 0;
  for (std::size_t at = refused.out.find("║"); at != std::string::npos; at = refused.out.find("║", at + 1)) {
    std::size_t end = refused.out.find("║", at + 1);
    REQUIRE(end != std::string::npos);
    std::size_t line_width = end - at;
    if (width == 0) width = line_width;
    CHECK(line_width == width);
    at = end;
  }
  CHECK(width > 0);

  // Without a terminal the refusal names what it would replace.
  auto no_terminal = f.cli({"restore", stamp});
  CHECK(no_terminal.exit_code == 4);
  CHECK_THAT(no_terminal.err, Catch::Contains("refusing to replace rp_db with the backup " + stamp));
  CHECK(test::query_value(f.db("rp_db"), "SELECT count(*) FROM projects") == "0");

  auto accepted = test::run_cli_in_terminal({"-c", f.config(), "restore", stamp}, prompt, "yes");
  INFO(accepted.out);
  CHECK(accepted.exit_code == 0);
  CHECK(test::query_value(f.db("rp_db"), "SELECT count(*) FROM projects") == "3");
}

// The question of --undo went to stdout, into the JSON a script reads.
TEST_CASE("restore --undo --json asks on the terminal and keeps stdout for the JSON", "[pg][restore][prompt]") {
  test::RestoreFixture f({"rp_undo"});
  std::string stamp = f.backup();
  REQUIRE(f.cli({"restore", stamp, "--yes"}).exit_code == 0);
  std::string json;
  auto undone = test::run_cli_in_terminal({"-c", f.config(), "restore", "--undo", stamp, "--json"},
                                          "Type 'yes' to proceed:", "yes", &json);
  INFO(undone.out << "\nstdout: " << json);
  CHECK(undone.exit_code == 0);
  CHECK_THAT(undone.out, Catch::Contains("puts back rp_undo as before the restore " + stamp));
  REQUIRE_FALSE(json.empty());
  CHECK(json.front() == '{');
  CHECK(json.find("Type 'yes'") == std::string::npos);
  CHECK_THAT(json, Catch::Contains("\"undone\""));
}
