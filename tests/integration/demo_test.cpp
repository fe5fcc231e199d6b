// `auditpitr demo`: what a new user runs first must work and say what happened.
#include <catch2/catch.hpp>

#include "src/catalog/catalog.h"
#include "src/pg/local_cluster.h"
#include "src/util/fs.h"
#include "tests/support/cli_runner.h"
#include "tests/support/temp_dir.h"
#include "tests/support/test_cluster.h"

using namespace auditpitr;

TEST_CASE("the demo backs up, checks, recovers to the moment before a disaster and analyzes the logs", "[pg][demo]") {
  test::require_server_programs();
  test::TempDir dir;
  auto r = test::run_cli({"demo", "--dir", dir / "demo"});
  INFO(r.out << r.err);
  REQUIRE(r.exit_code == 0);
  CHECK_THAT(r.out, Catch::Contains("Backing up portfolio_db"));
  CHECK_THAT(r.out, Catch::Contains(": sound (gzip CRC, sha256"));
  CHECK_THAT(r.out, Catch::Contains("DELETE FROM projects (3 rows)"));
  CHECK_THAT(r.out, Catch::Contains("projects after the recovery: 3 rows; portfolio 10: 'Travel'; portfolio 1: "
                                    "'Design Portfolio 2026'"));
  CHECK_THAT(r.out, Catch::Contains("Verification (backup figures + logged changes"));
  CHECK_THAT(r.out, Catch::Contains("What the logs could not bring back"));
  CHECK_THAT(r.out, Catch::Contains("public.categories 10: missing") &&
                        Catch::Contains("category 10 after lost --restore: 'Iceland'"));
  CHECK_THAT(r.out, Catch::Contains("projects: no create events"));
  CHECK_THAT(r.out, Catch::Contains("auditpitr status of ") && Catch::Contains("OK        audit logs: "));
  // The new files are not read as retention's victims: a heading of their own after "Cleaning up…".
  auto cleaning = r.out.find("Cleaning up backups older than");
  auto written = r.out.find("Backups written:");
  CHECK(cleaning != std::string::npos);
  CHECK(written > cleaning);
  CHECK(written < r.out.find("portfolio_db_", cleaning));
  // The closing lines point only at what works once the throwaway server has stopped.
  CHECK_THAT(r.out, !Catch::Contains("Next: auditpitr -c"));
  CHECK_THAT(r.out, Catch::Contains("analyze --backup latest") && Catch::Contains("Next: your own database"));
  Catalog catalog = Catalog::scan(dir / "demo/backups");
  REQUIRE(catalog.sets().size() == 1);
  CHECK(catalog.sets().front().not_latest_reason().empty());
  CHECK(path_exists(dir / "demo/auditpitr.toml"));

  // The configuration it leaves behind works on its own: list needs no server.
  auto list = test::run_cli({"-c", dir / "demo/auditpitr.toml", "list"});
  CHECK(list.exit_code == 0);
  CHECK_THAT(list.out, Catch::Contains("Total backups: 1"));
  // So do the other commands its closing lines suggest.
  CHECK(test::run_cli({"-c", dir / "demo/auditpitr.toml", "check", "latest"}).exit_code == 0);
  auto analyze = test::run_cli({"-c", dir / "demo/auditpitr.toml", "analyze", "--backup", "latest"});
  INFO(analyze.out << analyze.err);
  CHECK(analyze.exit_code == 0);
}
