// auditpitr restore and export end to end, against a real server: confirmation, exact content,
// undo, other databases untouched, old-script backups, damaged backups, hooks, table data, export.
#include <dirent.h>
#include <sys/stat.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <fstream>
#include <regex>

#include "src/util/fs.h"
#include "src/util/sha256.h"
#include "tests/integration/restore_fixture.h"
#include "verify/compare.h"

using namespace auditpitr;
using test::RestoreFixture;
using test::TempDir;

namespace {

std::string title_of(const pg::ConnInfo& db, int id) {
  return test::query_value(db, "SELECT title FROM portfolios WHERE id = " + std::to_string(id));
}

std::string manifest_path(const RestoreFixture& f, const std::string& dbname, const std::string& stamp) {
  return f.backups() + "/" + dbname + "_" + stamp + ".manifest.json";
}

bool same_as_manifest(const pg::ConnInfo& db, const std::string& manifest) {
  return verify::compare_checksums(test::manifest_checksums(manifest), test::checksums_of(db)).empty();
}

// Rows changed, added and removed after the backup.
void change_after_backup(const pg::ConnInfo& db) {
  test::execute(db, "UPDATE portfolios SET title = 'changed after backup' WHERE id = 1");
  test::execute(db, "INSERT INTO portfolios (title, owner_id) VALUES ('added after backup', 'user-x')");
  test::execute(db, "DELETE FROM projects WHERE id = 3");
}

void flip_bytes_in_the_middle(const std::string& path) {
  std::fstream file(path, std::ios::in | std::ios::out | std::ios::binary);
  file.seekg(0, std::ios::end);
  auto middle = file.tellg() / 2;
  file.seekp(middle);
  file.write("\xde\xad\xbe\xef\xde\xad\xbe\xef", 8);
}

// Files named like the restore's inflated copy (`.dump.tmp-<pid>`) in a folder.
int temporary_files_in(const std::string& folder) {
  auto dir = opendir(folder.c_str());
  int found = 0;
  while (auto* e = readdir(dir)) found += std::string(e->d_name).find(".tmp-") != std::string::npos;
  closedir(dir);
  return found;
}

std::string schema_of(const pg::ConnInfo& db) {
  return test::query_value(
             db, "SELECT string_agg(indexdef, '; ' ORDER BY indexdef) FROM pg_indexes WHERE schemaname = 'public'") +
         " | " +
         test::query_value(db,
                           "SELECT string_agg(conname || ' ' || pg_get_constraintdef(oid) || ' ' || convalidated, '; ' "
                           "ORDER BY conname) FROM pg_constraint WHERE connamespace = 'public'::regnamespace");
}

}  // namespace

TEST_CASE("without a terminal and without --yes the restore is refused and nothing changes", "[pg][restore]") {
  RestoreFixture f({"rs_refuse"});
  std::string stamp = f.backup();
  change_after_backup(f.db("rs_refuse"));
  auto r = f.cli({"restore", stamp});
  CHECK(r.exit_code == 4);
  CHECK(r.err.find("--yes") != std::string::npos);
  CHECK(title_of(f.db("rs_refuse"), 1) == "changed after backup");
  CHECK(f.databases_like("rs_refuse_").empty());
}

TEST_CASE("--yes gives exactly the backup's content, keeps the replaced database, and undo brings it back",
          "[pg][restore]") {
  RestoreFixture f({"rs_exact"});
  auto db = f.db("rs_exact");
  std::string original_title = title_of(db, 1);
  std::string stamp = f.backup();
  change_after_backup(db);
  test::execute(db, "CREATE TABLE added_after_backup (id int)");

  auto r = f.cli({"restore", stamp, "--yes"});
  INFO(r.out << r.err);
  REQUIRE(r.exit_code == 0);
  CHECK(r.out.find("match the manifest") != std::string::npos);
  CHECK(r.out.find("auditpitr -c " + f.config() + " restore --undo " + stamp) != std::string::npos);
  CHECK(r.out.find("auditpitr -c " + f.config() + " kept --drop " + stamp + " --db rs_exact") != std::string::npos);
  CHECK(same_as_manifest(db, manifest_path(f, "rs_exact", stamp)));
  CHECK(title_of(db, 1) == original_title);
  CHECK(test::query_value(db, "SELECT count(*) FROM projects WHERE id = 3") == "1");
  CHECK(test::query_value(db, "SELECT to_regclass('added_after_backup') IS NULL") == "t");

  std::string kept = "rs_exact_before_restore_" + stamp;
  REQUIRE(f.databases_like(kept) == std::vector<std::string>{kept});
  CHECK(title_of(test::cluster().connect_info(kept), 1) == "changed after backup");
  CHECK(f.databases_like("rs_exact_restoring_").empty());

  // A second restore of the same backup would overwrite the kept copy: refused, nothing changes.
  auto again = f.cli({"restore", stamp, "--yes"});
  CHECK(again.exit_code == 1);
  CHECK(again.err.find("already exists") != std::string::npos);

  auto refused_undo = f.cli({"restore", "--undo", stamp});
  CHECK(refused_undo.exit_code == 4);
  CHECK_THAT(refused_undo.err, Catch::Contains("refusing to undo the restore " + stamp + " of rs_exact"));
  auto undo = f.cli({"restore", "--undo", stamp, "--yes"});
  INFO(undo.out << undo.err);
  REQUIRE(undo.exit_code == 0);
  // A second undo says it was done, names the copies, changes nothing (and needs no confirmation).
  auto twice = f.cli({"restore", "--undo", stamp});
  INFO(twice.out << twice.err);
  CHECK(twice.exit_code == 0);
  CHECK_THAT(twice.out, Catch::Contains("the restore " + stamp + " of rs_exact was already undone") &&
                            Catch::Contains("rs_exact_undone_" + stamp));
  CHECK_THAT(twice.out + twice.err, !Catch::Contains("<dbname>"));
  auto twice_json = f.cli({"restore", "--undo", stamp, "--json"});
  CHECK_THAT(twice_json.out, Catch::Contains("\"undone\": []") && Catch::Contains("\"already_undone\": ["));
  CHECK(title_of(db, 1) == "changed after backup");
  CHECK(test::query_value(db, "SELECT count(*) FROM projects WHERE id = 3") == "0");
  CHECK(test::query_value(db, "SELECT to_regclass('added_after_backup') IS NOT NULL") == "t");
  CHECK(
      same_as_manifest(test::cluster().connect_info("rs_exact_undone_" + stamp), manifest_path(f, "rs_exact", stamp)));
  CHECK(f.databases_like(kept).empty());
}

TEST_CASE("with jobs or with one, from the verified inflated copy: same content, indexes and constraints",
          "[pg][restore]") {
  RestoreFixture f({"rs_jobs"});
  auto db = f.db("rs_jobs");
  std::string schema = schema_of(db);
  REQUIRE(schema.find("FOREIGN KEY") != std::string::npos);
  std::string stamp = f.backup();
  change_after_backup(db);

  auto r = f.cli({"restore", stamp, "--yes", "--jobs", "2"});
  INFO(r.out << r.err);
  REQUIRE(r.exit_code == 0);
  CHECK(r.out.find(", inflate ") != std::string::npos);
  CHECK(r.out.find(", pg_restore -j2 ") != std::string::npos);
  CHECK(r.out.find("verification ") != std::string::npos);
  CHECK(same_as_manifest(db, manifest_path(f, "rs_jobs", stamp)));
  CHECK(schema_of(db) == schema);
  CHECK(temporary_files_in(f.backups()) == 0);

  SECTION("one job: from the same verified copy (never the file a second time), phases in --json") {
    auto one = f.cli({"restore", stamp, "--db", "rs_jobs", "--into", "rs_jobs_one", "--jobs", "1", "--json"});
    INFO(one.out << one.err);
    REQUIRE(one.exit_code == 0);
    CHECK(one.out.find("\"phases\"") != std::string::npos);
    CHECK(one.out.find("\"inflate\": 0,") == std::string::npos);
    CHECK(one.out.find("\"jobs\": 1") != std::string::npos);
    CHECK(one.out.find("\"verified_while_loading\": 0") != std::string::npos);
    auto copy = test::cluster().connect_info("rs_jobs_one");
    CHECK(same_as_manifest(copy, manifest_path(f, "rs_jobs", stamp)));
    CHECK(schema_of(copy) == schema);
  }
  SECTION("two jobs: tables are checksummed as soon as pg_restore has loaded them") {
    auto two = f.cli({"restore", stamp, "--db", "rs_jobs", "--into", "rs_jobs_two", "--jobs", "2", "--json"});
    INFO(two.out << two.err);
    REQUIRE(two.exit_code == 0);
    std::smatch early;
    REQUIRE(std::regex_search(two.out, early, std::regex("\"verified_while_loading\": ([0-9]+)")));
    CHECK(std::stoi(early[1]) >= 1);
    CHECK(same_as_manifest(test::cluster().connect_info("rs_jobs_two"), manifest_path(f, "rs_jobs", stamp)));
  }
  SECTION("more jobs than the machine has cores or the server connections: capped, with a warning") {
    auto many = f.cli({"restore", stamp, "--db", "rs_jobs", "--into", "rs_jobs_many", "--jobs", "100000"});
    INFO(many.out << many.err);
    REQUIRE(many.exit_code == 0);
    CHECK((many.out + many.err).find("pg_restore runs with --jobs=") != std::string::npos);
    CHECK((many.out + many.err).find(" instead of 100000: ") != std::string::npos);
    CHECK(same_as_manifest(test::cluster().connect_info("rs_jobs_many"), manifest_path(f, "rs_jobs", stamp)));
  }
}

TEST_CASE("a file matching its manifest but failing its gzip CRC fails during the restore, before any swap",
          "[pg][restore]") {
  // The check before a restore compares sha256 and size with the manifest and leaves the CRCs to
  // the restore's own inflating. Bytes that match the manifest yet fail a CRC can only come from a
  // bad writer: the restore still stops (exit 3) with the original untouched and nothing left.
  RestoreFixture f({"rs_crc"});
  std::string stamp = f.backup();
  change_after_backup(f.db("rs_crc"));
  std::string dump = f.backups() + "/rs_crc_" + stamp + ".dump.gz";
  std::string manifest = manifest_path(f, "rs_crc", stamp);
  std::string before = sha256_of_file(dump);
  flip_bytes_in_the_middle(dump);
  std::string text = test::read_text(manifest);
  auto at = text.find(before);
  REQUIRE(at != std::string::npos);
  text.replace(at, before.size(), sha256_of_file(dump));
  test::write_text(manifest, text);

  auto r = f.cli({"restore", stamp, "--yes"});
  INFO(r.out << r.err);
  CHECK(r.exit_code == 3);
  CHECK(r.err.find("damaged") != std::string::npos);
  CHECK(title_of(f.db("rs_crc"), 1) == "changed after backup");
  CHECK(f.databases_like("rs_crc_").empty());
  CHECK(temporary_files_in(f.backups()) == 0);
  // `auditpitr check` inflates everything: it says so at once.
  auto checked = f.cli({"check", stamp});
  CHECK(checked.exit_code == 3);
}

TEST_CASE("--db and --into leave the other databases untouched", "[pg][restore]") {
  RestoreFixture f({"rs_alpha", "rs_beta"});
  std::string stamp = f.backup();
  change_after_backup(f.db("rs_alpha"));
  change_after_backup(f.db("rs_beta"));

  auto r = f.cli({"restore", stamp, "--db", "rs_alpha", "--yes"});
  INFO(r.out << r.err);
  REQUIRE(r.exit_code == 0);
  CHECK(same_as_manifest(f.db("rs_alpha"), manifest_path(f, "rs_alpha", stamp)));
  CHECK(title_of(f.db("rs_beta"), 1) == "changed after backup");

  SECTION("--into a new database") {
    auto into =
        f.cli({"restore", stamp, "--db", "rs_beta", "--into", "rs_beta_inspect"});  // no prompt: nothing overwritten
    INFO(into.out << into.err);
    REQUIRE(into.exit_code == 0);
    CHECK(same_as_manifest(test::cluster().connect_info("rs_beta_inspect"), manifest_path(f, "rs_beta", stamp)));
    CHECK(title_of(f.db("rs_beta"), 1) == "changed after backup");
    CHECK(f.databases_like("rs_beta_before_restore_").empty());

    auto exists = f.cli({"restore", stamp, "--db", "rs_beta", "--into", "rs_beta_inspect"});
    CHECK(exists.exit_code == 2);
    CHECK(exists.err.find("already exists") != std::string::npos);
    auto two = f.cli({"restore", stamp, "--into", "rs_both"});
    CHECK(two.exit_code == 2);
  }
}

TEST_CASE("a backup made by the old scripts restores, with limited verification said", "[pg][restore]") {
  RestoreFixture f({"rs_old"});
  auto db = f.db("rs_old");
  std::string expected_title = title_of(db, 1);
  f.old_script_backup("rs_old", "20250123_140530");
  change_after_backup(db);
  auto r = f.cli({"restore", "20250123_140530", "--yes"});
  INFO(r.out << r.err);
  REQUIRE(r.exit_code == 0);
  CHECK(r.out.find("old-script backup: no manifest") != std::string::npos);
  CHECK(r.out.find("verification of rs_old was limited") != std::string::npos);
  CHECK(title_of(db, 1) == expected_title);
  CHECK(test::query_value(db, "SELECT count(*) FROM portfolios") == "3");
}

TEST_CASE("a damaged backup is refused before anything changes, hooks included", "[pg][restore]") {
  TempDir marks;
  std::string hooks = "[hooks]\npre_restore = [\"touch\", \"" + marks / "pre" + "\"]\n";
  RestoreFixture f({"rs_damaged"}, hooks);
  std::string stamp = f.backup();
  change_after_backup(f.db("rs_damaged"));
  flip_bytes_in_the_middle(f.backups() + "/rs_damaged_" + stamp + ".dump.gz");
  auto r = f.cli({"restore", stamp, "--yes"});
  CHECK(r.exit_code == 3);
  CHECK(r.err.find("damaged") != std::string::npos);
  CHECK(title_of(f.db("rs_damaged"), 1) == "changed after backup");
  CHECK(f.databases_like("rs_damaged_").empty());
  CHECK_FALSE(path_exists(marks / "pre"));
}

TEST_CASE("unknown stamps list the nearest; 'latest' is the newest whole backup, whatever the link says",
          "[pg][restore]") {
  RestoreFixture f({"rs_latest"});
  std::string stamp = f.backup();
  auto unknown = f.cli({"restore", "20000101_000000", "--yes"});
  CHECK(unknown.exit_code == 2);
  CHECK(unknown.err.find("nearest available stamps are: " + stamp) != std::string::npos);

  std::string link = f.backups() + "/rs_latest_latest.dump.gz";
  ::unlink(link.c_str());
  REQUIRE(::symlink("rs_latest_20000101_000000.dump.gz", link.c_str()) == 0);
  change_after_backup(f.db("rs_latest"));
  auto r = f.cli({"restore", "latest", "--yes"});
  INFO(r.out << r.err);
  REQUIRE(r.exit_code == 0);
  CHECK(r.out.find("Starting database restore from " + stamp) != std::string::npos);
  CHECK(same_as_manifest(f.db("rs_latest"), manifest_path(f, "rs_latest", stamp)));
}

TEST_CASE("hooks run in order around the restore, and post_restore runs after a failure", "[pg][restore]") {
  TempDir marks;
  std::string log = marks / "hooks.log";
  std::string hooks = "[hooks]\npre_restore = [\"sh\", \"-c\", \"echo pre >> " + log +
                      "; echo stopping services\"]\n"
                      "post_restore = [\"sh\", \"-c\", \"echo post $AUDITPITR_RESTORE_RESULT >> " +
                      log + "\"]\n";
  RestoreFixture f({"rs_hooks"}, hooks);
  std::string stamp = f.backup();
  auto ok = f.cli({"restore", stamp, "--yes"});
  INFO(ok.out << ok.err);
  REQUIRE(ok.exit_code == 0);
  CHECK(ok.out.find("pre_restore: stopping services") != std::string::npos);
  CHECK(test::read_text(log) == "pre\npost success\n");

  // A manifest whose counts the dump cannot match (its sha256 still matches): verification fails.
  test::execute(f.db("rs_hooks"), "UPDATE portfolios SET title = 'live' WHERE id = 1");
  std::string manifest = manifest_path(f, "rs_hooks", stamp);
  std::string text = test::read_text(manifest);
  auto rows = text.find("\"rows\": 3");
  REQUIRE(rows != std::string::npos);
  text.replace(rows, 9, "\"rows\": 4");
  test::write_text(manifest, text);
  test::execute(test::cluster().connect_info(), "DROP DATABASE \"rs_hooks_before_restore_" + stamp + "\"");
  ::unlink(log.c_str());
  auto failed = f.cli({"restore", stamp, "--yes"});
  CHECK(failed.exit_code == 3);
  CHECK(failed.err.find("differs from the manifest") != std::string::npos);
  CHECK(test::read_text(log) == "pre\npost failure\n");
  CHECK(title_of(f.db("rs_hooks"), 1) == "live");
  CHECK(f.databases_like("rs_hooks_restoring_").empty());
}

TEST_CASE("--table --data-only restores rows in one transaction; a conflict rolls all of it back", "[pg][restore]") {
  RestoreFixture f({"rs_tables"});
  auto db = f.db("rs_tables");
  std::string stamp = f.backup();
  test::execute(db, "DELETE FROM projects");

  // categories still holds its rows: its copy conflicts, and projects' rows must not stay either.
  auto conflict = f.cli({"restore", stamp, "--table", "projects", "--table", "categories", "--data-only", "--yes"});
  CHECK(conflict.exit_code == 1);
  CHECK(conflict.err.find("rolled back") != std::string::npos);
  CHECK(conflict.err.find("Key (id)=(") != std::string::npos);
  CHECK(test::query_value(db, "SELECT count(*) FROM projects") == "0");

  // Without a terminal the refusal says what it would have done, and where.
  auto refused = f.cli({"restore", stamp, "--table", "projects", "--data-only"});
  CHECK(refused.exit_code == 4);
  CHECK_THAT(refused.err, Catch::Contains("refusing to add rows to rs_tables without confirmation"));
  CHECK_THAT(refused.err, !Catch::Contains("overwrite"));

  auto ok = f.cli({"restore", stamp, "--table", "projects", "--data-only", "--yes"});
  INFO(ok.out << ok.err);
  REQUIRE(ok.exit_code == 0);
  CHECK(test::query_value(db, "SELECT count(*) FROM projects") == "3");
  // The report says what happened: the rows added, no phases, no swap, no kept copy.
  CHECK_THAT(ok.out, Catch::Contains("rs_tables: 3 rows of 1 table added in one transaction"));
  CHECK_THAT(ok.out, !Catch::Contains("swap") && !Catch::Contains("0 rows") && !Catch::Contains("1 tables") &&
                         !Catch::Contains("verification of") && !Catch::Contains("kept"));
  test::execute(db, "DELETE FROM projects");
  auto json = f.cli({"restore", stamp, "--table", "projects", "--data-only", "--yes", "--json"});
  CHECK(json.exit_code == 0);
  CHECK_THAT(json.out, Catch::Contains("\"data_only\": true") && Catch::Contains("\"rows\": 3,") &&
                           Catch::Contains("\"phases\": null") && Catch::Contains("\"kept_copy\": null"));

  CHECK(f.cli({"restore", stamp, "--table", "projects", "--yes"}).exit_code == 2);  // needs --data-only
  auto unknown = f.cli({"restore", stamp, "--table", "nope", "--data-only", "--yes"});
  CHECK(unknown.exit_code == 2);
  CHECK(unknown.err.find("portfolios") != std::string::npos);
}

TEST_CASE("export writes the backup as SQL atomically, 0600, and nothing when it fails", "[pg][export]") {
  RestoreFixture f({"rs_export"});
  std::string stamp = f.backup();
  TempDir out;
  auto r = f.cli({"export", stamp, "--sql", out / "backup.sql"});
  INFO(r.out << r.err);
  REQUIRE(r.exit_code == 0);
  std::string sql = test::read_text(out / "backup.sql");
  CHECK(sql.find("CREATE TABLE public.portfolios") != std::string::npos);
  CHECK(sql.find("Design Portfolio") != std::string::npos);
  struct stat st {};
  REQUIRE(::stat((out / "backup.sql").c_str(), &st) == 0);
  CHECK((st.st_mode & 0777) == 0600);

  flip_bytes_in_the_middle(f.backups() + "/rs_export_" + stamp + ".dump.gz");
  auto damaged = f.cli({"export", stamp, "--sql", out / "damaged.sql"});
  CHECK(damaged.exit_code == 3);
  CHECK_FALSE(path_exists(out / "damaged.sql"));
  auto dir = opendir(out.path().c_str());
  int entries = 0;
  while (auto* e = readdir(dir)) entries += e->d_name[0] != '.';
  closedir(dir);
  CHECK(entries == 1);  // no temporary file left behind
}

namespace {

// A database's settings (per role, '*' for all), privileges ('default' when never changed) and
// connection limit, in one comparable line.
std::string properties_of(const std::string& dbname) {
  return test::query_value(
      test::cluster().connect_info("postgres"),
      "SELECT (SELECT coalesce(string_agg(r, '; ' ORDER BY r), '') FROM (SELECT "
      "coalesce(pg_get_userbyid(nullif(s.setrole, 0)), "
      "'*') || ':' || c AS r FROM pg_db_role_setting s, unnest(s.setconfig) c WHERE s.setdatabase = d.oid) x) || ' | ' "
      "|| "
      "(SELECT coalesce(string_agg(g, '; ' ORDER BY g), 'default') FROM (SELECT "
      "coalesce(pg_get_userbyid(nullif(a.grantee, 0)), "
      "'PUBLIC') || ':' || a.privilege_type || ':' || a.is_grantable AS g FROM aclexplode(d.datacl) a) y) || ' | ' || "
      "d.datconnlimit FROM pg_database d WHERE d.datname = '" +
          dbname + "'");
}

}  // namespace

TEST_CASE("the restored database keeps the replaced one's settings, privileges and connection limit", "[pg][restore]") {
  RestoreFixture f({"rs_props"});
  auto admin = test::cluster().connect_info("postgres");
  test::execute(admin,
                "DO $$ BEGIN IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'rs_props_reader') THEN "
                "CREATE ROLE rs_props_reader; END IF; END $$");
  test::execute(admin, "ALTER DATABASE rs_props SET work_mem = '8MB'");
  test::execute(admin, R"(ALTER DATABASE rs_props SET search_path = public, "My ""quoted"" Schema")");
  test::execute(admin, "ALTER DATABASE rs_props SET myapp.region = 'eu west'");
  test::execute(admin, "ALTER ROLE rs_props_reader IN DATABASE rs_props SET statement_timeout = '5s'");
  test::execute(admin, "REVOKE CONNECT, TEMPORARY ON DATABASE rs_props FROM PUBLIC");
  test::execute(admin, "GRANT CONNECT ON DATABASE rs_props TO rs_props_reader WITH GRANT OPTION");
  test::execute(admin, "ALTER DATABASE rs_props CONNECTION LIMIT 50");
  // Set before pg_restore runs, this would make it fail: the copy gets it once verified.
  test::execute(admin, "ALTER DATABASE rs_props SET default_transaction_read_only = on");
  std::string before = properties_of("rs_props");
  REQUIRE(before.find("PUBLIC:CONNECT") == std::string::npos);
  REQUIRE(before.find(R"(search_path=public, "My ""quoted"" Schema")") != std::string::npos);

  std::string stamp = f.backup();
  auto r = f.cli({"restore", stamp, "--yes"});
  INFO(r.out << r.err);
  REQUIRE(r.exit_code == 0);
  CHECK(properties_of("rs_props") == before);
  CHECK(properties_of("rs_props_before_restore_" + stamp) == before);
  CHECK(properties_of("rs_props").find("rs_props_reader:statement_timeout=5s") != std::string::npos);
  CHECK(properties_of("rs_props").find("rs_props_reader:CONNECT:true") != std::string::npos);
  CHECK(properties_of("rs_props").find("| 50") != std::string::npos);
}
