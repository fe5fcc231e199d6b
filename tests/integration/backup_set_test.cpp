// What a backup set is and what prune may delete, on real backups: a run stopped part-way is
// partial and never `latest`; prune deletes only what it proves it wrote, and a dump whose
// manifest is gone or damaged is a backup (checked by content, restorable), not a leftover.
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>
#include <utime.h>

#include <catch2/catch.hpp>
#include <cstdio>

#include "src/catalog/catalog.h"
#include "src/catalog/stamp.h"
#include "src/util/fs.h"
#include "tests/integration/backup_support.h"

using namespace auditpitr;

namespace {

std::string link_target(const std::string& link) {
  char target[4096];
  ssize_t n = ::readlink(link.c_str(), target, sizeof target - 1);
  return n > 0 ? std::string(target, static_cast<std::size_t>(n)) : "";
}

void set_mtime(const std::string& path, std::time_t t) {
  struct utimbuf times {
    t, t
  };
  REQUIRE(::utime(path.c_str(), &times) == 0);
}

// Stops a backup once its first database is written: SIGKILL, or SIGINT as Ctrl-C would (the run
// then fails on the next database and exits 130).
void stop_after_first_database(const test::BackupSetup& setup, bool interrupt) {
  int pid = test::run_cli_until_paused({"-c", setup.config, "backup"}, "backup-database-done");
  REQUIRE(pid > 0);
  if (!interrupt) return test::kill_and_reap(pid);
  ::kill(pid, SIGINT);
  ::kill(pid, SIGCONT);
  int status = 0;
  REQUIRE(::waitpid(pid, &status, 0) == pid);
  // Stopped, not finished: 130 is promised, but today the interrupted `pg_dump --version` probe of
  // the next database surfaces as "not runnable", exit 1 (issue 13, item 2).
  CHECK(WIFEXITED(status));
  CHECK(WEXITSTATUS(status) != 0);
}

}  // namespace

TEST_CASE("a backup stopped after the first of two databases is partial, and latest stays whole", "[pg][backup][set]") {
  bool interrupt = GENERATE(false, true);
  INFO((interrupt ? "SIGINT" : "SIGKILL"));
  auto first = test::portfolio_database("set_first");
  auto second = test::portfolio_database("set_second");
  test::BackupSetup setup({"a=set_first", "b=set_second"});
  REQUIRE(setup.cli({"backup"}).exit_code == 0);
  std::string whole = test::newest_stamp(setup.backups());
  for (const auto& db : {first, second}) test::execute(db, "UPDATE portfolios SET title = 'later' WHERE id = 1");

  stop_after_first_database(setup, interrupt);
  Catalog c = Catalog::scan(setup.backups());
  REQUIRE(c.sets().size() == 2);
  std::string stopped = c.sets().front().stamp;
  CHECK(stopped != whole);
  CHECK(c.sets().front().missing_databases() == std::vector<std::string>{"set_second"});
  CHECK(c.latest_stamp({"set_first", "set_second"}) == whole);
  CHECK(c.latest_stamp({"set_first"}) == whole);
  // The links move only once the whole set is written.
  CHECK(link_target(setup.backups() + "/set_first_latest.dump.gz") == dump_file_name("set_first", whole));

  auto list = setup.cli({"list"});
  CHECK_THAT(list.out, Catch::Contains("Timestamp: " + whole));
  CHECK_THAT(list.out, Catch::Contains(whole) && Catch::Contains("<- latest"));
  CHECK_THAT(list.out, Catch::Contains("partial: the run stopped before backing up 'set_second'"));
  CHECK(list.out.find("<- latest") > list.out.find(whole + "  "));

  auto check = setup.cli({"check", "latest"});
  INFO(check.out << check.err);
  CHECK(check.exit_code == 0);
  CHECK_THAT(check.out, Catch::Contains("Backup " + whole + " is sound"));
  CHECK_THAT(check.err + check.out, Catch::Contains(stopped + " is not used (partial"));
  auto partial = setup.cli({"check", stopped});
  CHECK(partial.exit_code == 3);
  CHECK_THAT(partial.out, Catch::Contains("partial"));

  auto refused = setup.cli({"restore", stopped, "--yes"});
  CHECK(refused.exit_code == 3);
  CHECK_THAT(refused.err, Catch::Contains("partial") && Catch::Contains("'set_second'"));
  CHECK(test::query_value(first, "SELECT title FROM portfolios WHERE id = 1") == "later");

  auto restored = setup.cli({"restore", "latest", "--yes"});
  INFO(restored.out << restored.err);
  REQUIRE(restored.exit_code == 0);
  for (const auto& db : {first, second})  // both from the one whole stamp
    CHECK(test::query_value(db, "SELECT title FROM portfolios WHERE id = 1") == "Design Portfolio");

  REQUIRE(setup.cli({"backup"}).exit_code == 0);  // the next whole run is the latest again
  std::string next = test::newest_stamp(setup.backups());
  CHECK(Catalog::scan(setup.backups()).latest_stamp({"set_first", "set_second"}) == next);
  CHECK(link_target(setup.backups() + "/set_second_latest.dump.gz") == dump_file_name("set_second", next));
}

TEST_CASE("prune leaves alone what it cannot prove it wrote, and backups go on working", "[pg][prune][set]") {
  test::portfolio_database("pr_safe");
  test::BackupSetup setup({"pr_safe"});
  ensure_directory(setup.backups(), 0700);
  const std::string b = setup.backups() + "/";
  test::write_text(b + "my_notes.txt.tmp-4000000", "the user's notes");
  test::write_text(b + "otherapp_20200101_000000.dump.gz", "another program's backup");
  set_mtime(b + "otherapp_20200101_000000.dump.gz", *stamp_to_time("20200101_000000"));
  test::write_text(b + "x.tmp-99999999999999999999", "made prune fail with 'stol'");
  REQUIRE(::mkdir((b + "d.tmp-4000001").c_str(), 0700) == 0);
  test::write_text(b + "pr_safe_20250101_000000.dump.gz.tmp-4000002", "left by a killed backup");

  auto backup = setup.cli({"backup"});  // retention runs after it
  INFO(backup.out << backup.err);
  REQUIRE(backup.exit_code == 0);
  for (const char* kept :
       {"my_notes.txt.tmp-4000000", "otherapp_20200101_000000.dump.gz", "x.tmp-99999999999999999999", "d.tmp-4000001"})
    CHECK(path_exists(b + kept));
  CHECK_FALSE(path_exists(b + "pr_safe_20250101_000000.dump.gz.tmp-4000002"));

  auto prune = setup.cli({"prune"});
  CHECK(prune.exit_code == 0);
  CHECK_THAT(prune.out, Catch::Contains("leaving my_notes.txt.tmp-4000000 alone"));
  CHECK_THAT(prune.out, Catch::Contains("leaving otherapp_20200101_000000.dump.gz alone (database 'otherapp' is not "
                                        "in the configuration)"));
  CHECK_THAT(prune.out, Catch::Contains("leaving x.tmp-99999999999999999999 alone"));
  CHECK_THAT(prune.out, Catch::Contains("leaving d.tmp-4000001 alone"));
  auto json = setup.cli({"prune", "--json"});
  CHECK_THAT(json.out, Catch::Contains("\"ignored\"") && Catch::Contains("otherapp_20200101_000000.dump.gz"));
  REQUIRE(setup.cli({"backup"}).exit_code == 0);
}

TEST_CASE("a dump whose manifest is gone or damaged survives prune, is checked by content and restores",
          "[pg][prune][check][set]") {
  auto db = test::portfolio_database("mf_db");
  test::BackupSetup setup({"mf_db"});
  REQUIRE(setup.cli({"backup"}).exit_code == 0);
  std::string older = test::newest_stamp(setup.backups());
  REQUIRE(setup.cli({"backup"}).exit_code == 0);
  test::execute(db, "UPDATE portfolios SET title = 'later' WHERE id = 1");
  std::string dump = setup.backups() + "/" + dump_file_name("mf_db", older);
  std::string manifest = setup.backups() + "/mf_db_" + older + ".manifest.json";

  SECTION("moved away") {
    REQUIRE(::rename(manifest.c_str(), (setup.dir / "elsewhere.json").c_str()) == 0);
    auto prune = setup.cli({"prune"});
    CHECK(prune.exit_code == 0);
    CHECK(path_exists(dump));
    auto check = setup.cli({"check", older});
    INFO(check.out << check.err);
    CHECK(check.exit_code == 0);
    CHECK_THAT(check.out, Catch::Contains("is missing") && Catch::Contains("judged by its content alone"));
    auto restore = setup.cli({"restore", older, "--yes"});
    INFO(restore.out << restore.err);
    REQUIRE(restore.exit_code == 0);
    CHECK_THAT(restore.out + restore.err, Catch::Contains("verified like an old-script backup"));
    CHECK(test::query_value(db, "SELECT title FROM portfolios WHERE id = 1") == "Design Portfolio");
  }
  SECTION("damaged") {
    test::write_text(manifest, "{\"format\": 1, \"tables\": [");
    CHECK(setup.cli({"prune"}).exit_code == 0);
    CHECK(path_exists(dump));
    auto check = setup.cli({"check", older});
    CHECK(check.exit_code == 0);
    CHECK_THAT(check.out, Catch::Contains("is not valid") && Catch::Contains("judged by its content alone"));
    auto restore = setup.cli({"restore", older, "--yes"});
    INFO(restore.out << restore.err);
    REQUIRE(restore.exit_code == 0);
    CHECK(test::query_value(db, "SELECT title FROM portfolios WHERE id = 1") == "Design Portfolio");
  }
  SECTION("cut short: the only kind prune deletes, saying why") {
    REQUIRE(::unlink(manifest.c_str()) == 0);
    struct stat st {};
    REQUIRE(::stat(dump.c_str(), &st) == 0);
    REQUIRE(::truncate(dump.c_str(), st.st_size / 2) == 0);
    auto prune = setup.cli({"prune"});
    CHECK(prune.exit_code == 0);
    CHECK_THAT(prune.out, Catch::Contains("deleting " + base_name(dump)) && Catch::Contains("cut short"));
    CHECK_FALSE(path_exists(dump));
  }
}
