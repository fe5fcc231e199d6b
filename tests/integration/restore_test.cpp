// auditpitr restore and export end to end, against a real server: confirmation, exact content,
// undo, other databases untouched, old-script backups, damaged backups, hooks, table data, export.
#include <dirent.h>
#include <sys/stat.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <fstream>

#include "src/util/fs.h"
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
  CHECK(r.out.find("auditpitr restore --undo " + stamp) != std::string::npos);
  CHECK(r.out.find("DROP DATABASE \"rs_exact_before_restore_" + stamp + "\"") != std::string::npos);
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

  auto undo = f.cli({"restore", "--undo", stamp, "--yes"});
  INFO(undo.out << undo.err);
  REQUIRE(undo.exit_code == 0);
  CHECK(title_of(db, 1) == "changed after backup");
  CHECK(test::query_value(db, "SELECT count(*) FROM projects WHERE id = 3") == "0");
  CHECK(test::query_value(db, "SELECT to_regclass('added_after_backup') IS NOT NULL") == "t");
  CHECK(same_as_manifest(test::cluster().connect_info("rs_exact_undone_" + stamp), manifest_path(f, "rs_exact", stamp)));
  CHECK(f.databases_like(kept).empty());
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
    auto into = f.cli({"restore", stamp, "--db", "rs_beta", "--into", "rs_beta_inspect"});  // no prompt: nothing overwritten
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

TEST_CASE("unknown stamps list the nearest; 'latest' with a broken link falls back with a note", "[pg][restore]") {
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
  CHECK(r.out.find("missing or broken: using the newest backup, " + stamp) != std::string::npos);
  CHECK(same_as_manifest(f.db("rs_latest"), manifest_path(f, "rs_latest", stamp)));
}

TEST_CASE("hooks run in order around the restore, and post_restore runs after a failure", "[pg][restore]") {
  TempDir marks;
  std::string log = marks / "hooks.log";
  std::string hooks = "[hooks]\npre_restore = [\"sh\", \"-c\", \"echo pre >> " + log + "; echo stopping services\"]\n"
                      "post_restore = [\"sh\", \"-c\", \"echo post $AUDITPITR_RESTORE_RESULT >> " + log + "\"]\n";
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

  auto ok = f.cli({"restore", stamp, "--table", "projects", "--data-only", "--yes"});
  INFO(ok.out << ok.err);
  REQUIRE(ok.exit_code == 0);
  CHECK(test::query_value(db, "SELECT count(*) FROM projects") == "3");

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
