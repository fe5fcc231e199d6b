// `auditpitr backup` against a real server: compatible files, exact manifests, safe permissions.
#include <simdjson.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <catch2/catch.hpp>
#include <thread>

#include "src/ops/outcome_record.h"
#include "src/pg/connection.h"
#include "src/util/fs.h"
#include "src/util/gzip.h"
#include "tests/integration/backup_support.h"
#include "verify/compare.h"
#include "verify/database_checksum.h"
#include "verify/manifest.h"

using namespace auditpitr;

namespace {

int mode_of(const std::string& path) {
  struct stat st {};
  REQUIRE(::stat(path.c_str(), &st) == 0);
  return st.st_mode & 0777;
}

// Restores a .dump.gz the old guide's way (gunzip -c | pg_restore) into a new database.
pg::ConnInfo restore_with_pg_restore(const std::string& dump, const std::string& dbname) {
  auto info = test::fresh_database(dbname);
  GzipReader reader(dump);
  pg::Command c;
  c.program = "pg_restore";
  c.args = {"--no-owner", "--exit-on-error", "-d", dbname};
  c.env = info.child_environment();
  c.stdin_source = [&](char* buf, std::size_t cap) { return reader.read(buf, cap); };
  pg::PosixProcessRunner runner;
  auto r = runner.run(c);
  INFO(r.stderr_tail);
  REQUIRE(r.ok());
  return info;
}

}  // namespace

TEST_CASE("backup writes old-script-compatible files with an exact manifest", "[pg][backup]") {
  auto info = test::portfolio_database("bk_files");
  test::fresh_database("bk_files_auth");
  test::execute(test::cluster().connect_info("bk_files_auth"),
                "CREATE TABLE users (id int PRIMARY KEY, name text); INSERT INTO users VALUES (1, 'a')");
  test::BackupSetup setup({"portfolio=bk_files", "authentik=bk_files_auth"});

  auto r = setup.cli({"backup"});
  INFO(r.out << r.err);
  REQUIRE(r.exit_code == 0);
  std::string stamp = test::newest_stamp(setup.backups());
  CHECK_THAT(r.out, Catch::Contains("[SUCCESS] Backup completed successfully!"));
  CHECK_THAT(r.out, Catch::Contains("bk_files_" + stamp + ".dump.gz"));
  CHECK_THAT(r.out, Catch::Contains("Timestamp: " + stamp));
  CHECK_THAT(r.out, Catch::Contains("auditpitr restore " + stamp));

  std::string dump = setup.backups() + "/bk_files_" + stamp + ".dump.gz";
  CHECK(mode_of(setup.backups()) == 0700);
  CHECK(mode_of(dump) == 0600);
  CHECK(mode_of(setup.backups() + "/bk_files_" + stamp + ".manifest.json") == 0600);
  char link[256] = {};
  REQUIRE(::readlink((setup.backups() + "/bk_files_latest.dump.gz").c_str(), link, sizeof link - 1) > 0);
  CHECK(std::string(link) == "bk_files_" + stamp + ".dump.gz");  // relative, as the old script made it

  pg::PosixProcessRunner runner;
  pg::Command gunzip_t;
  gunzip_t.program = "gunzip";
  gunzip_t.args = {"-t", dump};
  CHECK(runner.run(gunzip_t).ok());

  auto manifest = verify::load_manifest(setup.backups() + "/bk_files_" + stamp + ".manifest.json");
  CHECK(manifest.stamp == stamp);
  CHECK(manifest.alias == "portfolio");
  CHECK(manifest.server_version_num == test::server_version_num());
  CHECK(manifest.file_size == test::read_text(dump).size());
  CHECK(manifest.tables.size() == 5);
  CHECK(manifest.total_rows() == 13);
  CHECK(verify::compare_checksums(manifest.tables, test::checksums_of(info)).empty());
  CHECK(manifest.snapshot_time_utc.size() == 27);
  auto record = ops::read_outcome(setup.backups(), "backup");
  REQUIRE(record);
  CHECK(record->ok);
  CHECK(record->stamp == stamp);
  CHECK(record->bytes ==
        manifest.file_size + test::read_text(setup.backups() + "/bk_files_auth_" + stamp + ".dump.gz").size());
  CHECK(record->detail == "backed up 'bk_files' and 'bk_files_auth'");

  // The same dump restored with plain pg_restore holds exactly what the manifest says.
  auto restored = restore_with_pg_restore(dump, "bk_files_restored");
  CHECK(verify::compare_checksums(manifest.tables, test::checksums_of(restored)).empty());
}

TEST_CASE("the manifest describes the dump's snapshot even while the database is being written", "[pg][backup]") {
  auto info = test::portfolio_database("bk_busy");
  test::execute(info,
                "INSERT INTO portfolios (title, owner_id, created_at) "
                "SELECT 'p' || g, 'user-' || (g % 50), now() FROM generate_series(1, 200000) g");
  test::BackupSetup setup({"portfolio=bk_busy"});
  std::atomic<bool> stop{false};
  std::atomic<int> writes{0};
  std::thread writer([&] {
    pg::Connection conn(info);
    while (!stop) {
      pqxx::work tx(conn.raw());
      tx.exec("INSERT INTO portfolios (title, owner_id) VALUES ('during backup', 'user-x')");
      tx.exec("UPDATE portfolios SET title = title || '!' WHERE id = 1");
      tx.commit();
      ++writes;
    }
  });
  auto r = setup.cli({"backup"});
  stop = true;
  writer.join();
  INFO(r.out << r.err);
  REQUIRE(r.exit_code == 0);
  CHECK(writes > 0);
  std::string stamp = test::newest_stamp(setup.backups());
  auto manifest = verify::load_manifest(setup.backups() + "/bk_busy_" + stamp + ".manifest.json");
  auto restored = restore_with_pg_restore(setup.backups() + "/bk_busy_" + stamp + ".dump.gz", "bk_busy_restored");
  auto diffs = verify::compare_checksums(manifest.tables, test::checksums_of(restored));
  for (const auto& d : diffs) UNSCOPED_INFO(verify::describe(d));
  CHECK(diffs.empty());
  CHECK(verify::compare_checksums(manifest.tables, test::checksums_of(info)).size() > 0);  // the live one moved on
}

TEST_CASE("backup --db and --json", "[pg][backup]") {
  test::portfolio_database("bk_json");
  test::fresh_database("bk_json_other");
  test::BackupSetup setup({"portfolio=bk_json", "other=bk_json_other"});
  auto r = setup.cli({"backup", "--db", "portfolio", "--json"});
  INFO(r.err);
  REQUIRE(r.exit_code == 0);
  simdjson::dom::parser parser;
  simdjson::dom::element doc = parser.parse(r.out);
  CHECK(std::string(doc["stamp"].get_string().value()) == test::newest_stamp(setup.backups()));
  auto dbs = doc["databases"].get_array().value();
  REQUIRE(dbs.size() == 1);
  CHECK(std::string(dbs.at(0)["dbname"].get_string().value()) == "bk_json");
  CHECK(dbs.at(0)["rows"].get_uint64().value() == 13);
  CHECK_FALSE(path_exists(setup.backups() + "/bk_json_other_latest.dump.gz"));
}

TEST_CASE("two backups in the same second get different stamps", "[pg][backup]") {
  test::portfolio_database("bk_twice");
  test::BackupSetup setup({"bk_twice"});
  REQUIRE(setup.cli({"backup"}).exit_code == 0);
  REQUIRE(setup.cli({"backup"}).exit_code == 0);
  auto r = setup.cli({"list", "--json"});
  simdjson::dom::parser parser;
  CHECK(parser.parse(r.out)["backups"].get_array().value().size() == 2);
}
