// Backups that cannot succeed fail clearly, and leave nothing that looks like a backup.
#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include <catch2/catch.hpp>

#include "src/catalog/catalog.h"
#include "src/ops/outcome_record.h"
#include "src/pg/connection.h"
#include "src/pg/local_cluster.h"
#include "src/util/fs.h"
#include "tests/integration/backup_support.h"

using namespace auditpitr;

namespace {

std::string config_with(const test::TempDir& dir, const std::string& conninfo, const std::string& extra = "") {
  std::string path = dir / "auditpitr.toml";
  test::write_text(path, "[backup]\ndir = \"backups\"\n" + extra +
                             "\n[[databases]]\nalias = \"app\"\ndbname = \"app_db\"\nconninfo = \"" + conninfo +
                             "\"\n");
  return path;
}

bool no_valid_backup(const std::string& dir) {
  Catalog catalog = Catalog::scan(dir);
  for (const auto& set : catalog.sets())
    if (!set.dumps.empty() && set.not_latest_reason().empty()) return false;
  return true;
}

}  // namespace

TEST_CASE("an unreachable server is named by host and port", "[pg][backup][errors]") {
  test::TempDir dir;
  int port = pg::find_free_port();
  auto r = test::run_cli(
      {"-c", config_with(dir, "host=127.0.0.1 port=" + std::to_string(port) + " user=x connect_timeout=3"), "backup"});
  CHECK(r.exit_code == 1);
  CHECK_THAT(r.err, Catch::Contains("127.0.0.1:" + std::to_string(port)) && Catch::Contains("unable to connect"));
  CHECK_THAT(r.err, Catch::Contains("HINT:"));
  CHECK(no_valid_backup(dir / "backups"));
  // auditpitr status shows that the last backup failed, and why.
  auto record = ops::read_outcome(dir / "backups", "backup");
  REQUIRE(record);
  CHECK_FALSE(record->ok);
  CHECK_THAT(record->detail, Catch::Contains("unable to connect"));
  CHECK(record->finished >= record->started);
}

TEST_CASE("a wrong password is reported without showing it", "[pg][backup][errors]") {
  test::fresh_database("bk_pw");
  test::execute(test::cluster().connect_info(),
                "DROP ROLE IF EXISTS app_pw; CREATE ROLE app_pw LOGIN PASSWORD 'right-one'");
  test::TempDir dir;
  std::string conninfo =
      "host=127.0.0.1 port=" + std::to_string(test::cluster().port()) + " user=app_pw password=wrong-one dbname=bk_pw";
  auto r = test::run_cli({"-c", config_with(dir, conninfo), "backup"});
  CHECK(r.exit_code == 1);
  CHECK_THAT(r.err, Catch::Contains("password authentication failed"));
  CHECK_THAT(r.err, Catch::Contains("HINT: check the user and password"));
  CHECK_THAT(r.out + r.err, !Catch::Contains("wrong-one"));

  // And with the right one, over TCP with scram, through PGPASSWORD: the backup works.
  std::string good = "host=127.0.0.1 port=" + std::to_string(test::cluster().port()) + " user=app_pw dbname=bk_pw";
  auto ok = test::run_cli({"-c", config_with(dir, good), "backup"}, {{"PGPASSWORD", "right-one"}});
  INFO(ok.err);
  CHECK(ok.exit_code == 0);
}

TEST_CASE("an unknown alias lists the configured ones", "[pg][backup][errors]") {
  test::BackupSetup setup({"portfolio=bk_alias", "authentik=bk_alias2"});
  auto r = setup.cli({"backup", "--db", "portfolo"});
  CHECK(r.exit_code == 2);
  CHECK_THAT(r.err, Catch::Contains("unknown database alias 'portfolo'") && Catch::Contains("portfolio, authentik"));
}

TEST_CASE("usage errors exit 2", "[backup][errors]") {
  test::TempDir dir;
  CHECK(test::run_cli({"-c", dir / "missing.toml", "backup"}).exit_code == 2);
  CHECK(test::run_cli({"backup", "--no-such-flag"}).exit_code == 2);
  CHECK(test::run_cli({}).exit_code == 2);
  auto help = test::run_cli({"backup", "--help"});
  CHECK(help.exit_code == 0);
  CHECK_THAT(help.out, Catch::Contains("--db"));
}

TEST_CASE("a backup folder that cannot be written is an error naming it", "[pg][backup][errors]") {
  test::portfolio_database("bk_nowrite");
  test::BackupSetup setup({"bk_nowrite"});
  test::write_text(setup.dir / "backups", "a file where the folder should be");
  auto r = setup.cli({"backup"});
  CHECK(r.exit_code == 1);
  CHECK_THAT(r.err, Catch::Contains("backups") && Catch::Contains("not a folder"));
}

TEST_CASE("pg_dump missing or of another major version is named", "[pg][backup][errors]") {
  test::portfolio_database("bk_tools");
  std::string major = std::to_string(test::server_version_num() / 10000);
  std::string other = std::to_string(test::server_version_num() / 10000 - 1) + ".9";
  test::TempDir tools;
  test::BackupSetup missing({"bk_tools"}, "[tools]\nbin_dir = \"" + tools.path() + "\"\n");
  auto r = missing.cli({"backup"});
  CHECK(r.exit_code == 1);
  CHECK_THAT(r.err, Catch::Contains("pg_dump not found") && Catch::Contains("major version " + major + ")"));

  test::write_text(tools / "pg_dump", "#!/bin/sh\necho 'pg_dump (PostgreSQL) " + other + "'\n");
  ::chmod((tools / "pg_dump").c_str(), 0755);
  r = missing.cli({"backup"});
  CHECK(r.exit_code == 1);
  CHECK_THAT(r.err,
             Catch::Contains("'pg_dump (PostgreSQL) " + other + "'") && Catch::Contains("(PostgreSQL " + major + ")"));
  CHECK(no_valid_backup(missing.backups()));
}

TEST_CASE("a second backup of the same folder is refused while one runs", "[pg][backup][errors]") {
  test::portfolio_database("bk_lock");
  test::BackupSetup setup({"bk_lock"});
  ensure_directory(setup.backups(), 0700);
  int fd = ::open((setup.backups() + "/.auditpitr.lock").c_str(), O_RDWR | O_CREAT, 0600);
  REQUIRE(::flock(fd, LOCK_EX) == 0);
  auto r = setup.cli({"backup"});
  ::close(fd);
  CHECK(r.exit_code == 1);
  CHECK_THAT(r.err, Catch::Contains("another auditpitr process"));
  CHECK(setup.cli({"backup"}).exit_code == 0);
}

TEST_CASE("a backup killed at any moment leaves nothing taken for a valid backup", "[pg][backup][crash]") {
  test::portfolio_database("bk_kill");
  test::BackupSetup setup({"bk_kill"});
  REQUIRE(setup.cli({"backup"}).exit_code == 0);
  std::string good = test::newest_stamp(setup.backups());
  std::string whole_without_manifest;
  for (const char* phase : {"backup-before-rename", "backup-before-manifest"}) {
    INFO(phase);
    int pid = test::run_cli_until_paused({"-c", setup.config, "backup"}, phase);
    REQUIRE(pid > 0);
    test::kill_and_reap(pid);
    Catalog c = Catalog::scan(setup.backups());
    CHECK(c.latest_stamp({"bk_kill"}) == good);
    CHECK(c.resolve("latest", "bk_kill").stamp == good);
    std::string stamp = c.sets().front().stamp;
    if (stamp != good) {  // killed after the rename: the dump is whole, only its manifest is missing
      whole_without_manifest = stamp;
      auto check = setup.cli({"check", stamp});
      CHECK(check.exit_code == 0);
      CHECK_THAT(check.out, Catch::Contains("manifest") && Catch::Contains("is missing"));
    }
    auto list = setup.cli({"list"});
    CHECK_THAT(list.out, Catch::Contains(good + "  ") && Catch::Contains("<- latest"));
  }
  // prune clears the killed backup's temporary file; the whole dump without manifest is a backup.
  auto prune = setup.cli({"prune"});
  CHECK(prune.exit_code == 0);
  Catalog c = Catalog::scan(setup.backups());
  CHECK(c.temporary_files().empty());
  REQUIRE(c.sets().size() == 2);
  CHECK(c.sets().back().stamp == good);
  CHECK(c.sets().front().stamp == whole_without_manifest);
  CHECK(c.latest_stamp({"bk_kill"}) == good);
}

TEST_CASE("a backup larger than the free space, going by the last one, is refused before writing",
          "[pg][backup][errors]") {
  test::portfolio_database("bk_room");
  test::BackupSetup setup({"bk_room"});
  REQUIRE(setup.cli({"backup"}).exit_code == 0);
  std::string stamp = test::newest_stamp(setup.backups());
  // The last dump made (sparsely) larger than the free space: the next one is expected as large.
  struct statvfs fs {};
  REQUIRE(::statvfs(setup.backups().c_str(), &fs) == 0);
  uint64_t absurd = static_cast<uint64_t>(fs.f_bavail) * fs.f_frsize + (uint64_t{1} << 30);
  std::string dump = setup.backups() + "/" + dump_file_name("bk_room", stamp);
  if (::truncate(dump.c_str(), static_cast<off_t>(absurd)) != 0) {
    WARN("cannot make a sparse file of " << absurd << " bytes here; skipped");
    return;
  }
  std::size_t entries = Catalog::scan(setup.backups()).sets().size();
  auto r = setup.cli({"backup"});
  CHECK(r.exit_code == 1);
  CHECK_THAT(r.err, Catch::Contains("not enough free space in '" + setup.backups() + "'") &&
                        Catch::Contains("as large as the last: bk_room's of " + stamp) && Catch::Contains("are free") &&
                        Catch::Contains("HINT: nothing was written; free some space there"));
  Catalog after = Catalog::scan(setup.backups());
  CHECK(after.sets().size() == entries);
  CHECK(after.temporary_files().empty());
}
