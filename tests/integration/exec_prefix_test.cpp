// [tools] exec: pg_dump and pg_restore run through a prefix (`podman exec -i -e PGPASSWORD ... NAME`).
// No container runtime here: the stand-in prefix is a script that logs its argv and runs the tool
// in another environment (only the forwarded PG* variables, PATH the server's bin folder, cwd /),
// as a container would.
#include <sys/stat.h>

#include <catch2/catch.hpp>

#include "src/pg/local_cluster.h"
#include "src/util/fs.h"
#include "tests/integration/restore_fixture.h"

using namespace auditpitr;
using test::RestoreFixture;

namespace {

const char* kSecret = "s3cret-never-in-argv";

std::string write_wrapper(const RestoreFixture& f, const std::string& log) {
  std::string path = f.dir() / "container-exec";
  std::string forwarded;
  for (const char* name : {"PGHOST", "PGPORT", "PGUSER", "PGPASSWORD", "PGDATABASE", "PGTZ", "PGOPTIONS", "LC_ALL"})
    forwarded += std::string(" ${") + name + "+\"" + name + "=$" + name + "\"}";
  test::write_text(path,
                   "#!/bin/sh\n"
                   "log='" +
                       log +
                       "'\n"
                       "printf 'argv:' >> \"$log\"; for a in \"$@\"; do printf ' %s' \"$a\" >> \"$log\"; done\n"
                       "printf '\\n' >> \"$log\"\n"
                       "[ -n \"$PGPASSWORD\" ] && echo 'PGPASSWORD in the environment' >> \"$log\"\n"
                       "cd /\n"
                       "exec env -i PATH='" +
                       pg::server_bin_dir() + "'" + forwarded + " \"$@\"\n");
  REQUIRE(::chmod(path.c_str(), 0755) == 0);
  return path;
}

std::string title_of(const pg::ConnInfo& db) {
  return test::query_value(db, "SELECT title FROM portfolios WHERE id = 1");
}

}  // namespace

TEST_CASE("backup, check and restore through a [tools] exec prefix: files by stdin/stdout, password not in argv",
          "[pg][restore][exec]") {
  RestoreFixture f({"ep_app"});
  std::string log = f.dir() / "exec.log";
  std::string wrapper = write_wrapper(f, log);
  auto& c = test::cluster();
  test::write_text(f.config(),
                   "[backup]\ndir = \"backups\"\n"
                   "[[databases]]\nalias = \"ep_app\"\ndbname = \"ep_app\"\nconninfo = \"host=" +
                       c.folder() + " port=" + std::to_string(c.port()) + " user=postgres password=" + kSecret +
                       "\"\n[tools]\nexec = [\"" + wrapper + "\"]\n");
  auto db = f.db("ep_app");
  std::string before = title_of(db);

  std::string stamp = f.backup();
  std::string after_backup = test::read_text(log);
  CHECK(after_backup.find("pg_dump --version") != std::string::npos);
  CHECK(after_backup.find("pg_dump --format=custom") != std::string::npos);

  auto checked = f.cli({"check", stamp});
  INFO(checked.out << checked.err);
  CHECK(checked.exit_code == 0);

  test::execute(db, "UPDATE portfolios SET title = 'changed after the backup' WHERE id = 1");
  auto restored = f.cli({"restore", stamp, "--yes", "--jobs", "4"});
  INFO(restored.out << restored.err);
  REQUIRE(restored.exit_code == 0);
  CHECK((restored.out + restored.err).find("pg_restore runs with one job") != std::string::npos);
  CHECK(restored.out.find("pg_restore (streamed)") != std::string::npos);
  CHECK(title_of(db) == before);

  std::string text = test::read_text(log);
  INFO(text);
  CHECK(text.find("pg_restore --version") != std::string::npos);
  CHECK(text.find("pg_restore --no-password --dbname=") != std::string::npos);
  CHECK(text.find("pg_restore --list") != std::string::npos);
  CHECK(text.find("PGPASSWORD in the environment") != std::string::npos);  // the password went by environment,
  CHECK(text.find(kSecret) == std::string::npos);                          // never by argv
  CHECK(text.find(f.backups()) == std::string::npos);  // no host path reaches the tool: archives by stdin
  CHECK(text.find("--jobs") == std::string::npos);
}
