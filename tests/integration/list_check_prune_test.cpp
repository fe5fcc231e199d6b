// list, check and prune on real backups, including those of the old scripts.
#include <simdjson.h>
#include <utime.h>

#include <catch2/catch.hpp>
#include <fstream>

#include "src/catalog/catalog.h"
#include "src/catalog/stamp.h"
#include "src/util/fs.h"
#include "tests/integration/backup_support.h"

using namespace auditpitr;

namespace {

void set_mtime(const std::string& path, std::time_t t) {
  struct utimbuf times {
    t, t
  };
  REQUIRE(::utime(path.c_str(), &times) == 0);
}

void flip_byte_in_middle(const std::string& path) {
  std::fstream f(path, std::ios::in | std::ios::out | std::ios::binary);
  f.seekg(0, std::ios::end);
  auto size = f.tellg();
  f.seekg(size / 2);
  char c;
  f.get(c);
  f.seekp(size / 2);
  f.put(static_cast<char>(c ^ 0x5a));
}

}  // namespace

TEST_CASE("list shows new and old-script backups, newest first, the latest marked", "[pg][list]") {
  test::portfolio_database("ls_db");
  test::BackupSetup setup({"portfolio=ls_db"});
  ensure_directory(setup.backups(), 0700);
  test::old_script_backup("ls_db", setup.backups(), "20250120_120000");
  REQUIRE(setup.cli({"backup"}).exit_code == 0);
  std::string stamp = test::newest_stamp(setup.backups());

  auto r = setup.cli({"list"});
  REQUIRE(r.exit_code == 0);
  CHECK_THAT(r.out, Catch::Contains("Latest Backup:") && Catch::Contains("Timestamp: " + stamp));
  CHECK_THAT(r.out, Catch::Contains("20250120_120000  2025-01-20 12:00:00"));
  CHECK_THAT(r.out, Catch::Contains("Total backups: 2"));
  CHECK(r.out.find(stamp + "  ") < r.out.find("20250120_120000  "));

  auto j = setup.cli({"list", "--json"});
  simdjson::dom::parser parser;
  auto doc = parser.parse(j.out);
  auto backups = doc["backups"].get_array().value();
  REQUIRE(backups.size() == 2);
  CHECK(backups.at(0)["latest"].get_bool().value());
  CHECK(backups.at(0)["files"].at(0)["manifest"].get_bool().value());
  CHECK_FALSE(backups.at(1)["files"].at(0)["manifest"].get_bool().value());
}

TEST_CASE("check: sound backups pass, damaged ones exit 3 with the reason", "[pg][check]") {
  test::portfolio_database("ck_db");
  test::BackupSetup setup({"ck_db"});
  ensure_directory(setup.backups(), 0700);
  test::old_script_backup("ck_db", setup.backups(), "20250120_120000");
  REQUIRE(setup.cli({"backup"}).exit_code == 0);
  std::string stamp = test::newest_stamp(setup.backups());

  auto ok = setup.cli({"check", "latest"});
  INFO(ok.out << ok.err);
  CHECK(ok.exit_code == 0);
  CHECK_THAT(ok.out, Catch::Contains("sha256 matches the manifest") && Catch::Contains("is sound"));
  auto old = setup.cli({"check", "20250120_120000"});
  CHECK(old.exit_code == 0);
  CHECK_THAT(old.out, Catch::Contains("no manifest (old-script backup)"));

  std::string dump = setup.backups() + "/ck_db_" + stamp + ".dump.gz";
  std::string manifest_path = setup.backups() + "/ck_db_" + stamp + ".manifest.json";
  std::string manifest = test::read_text(manifest_path);
  SECTION("a flipped byte is caught") {
    flip_byte_in_middle(dump);
    auto r = setup.cli({"check", stamp});
    CHECK(r.exit_code == 3);
    CHECK_THAT(r.out, Catch::Contains("DAMAGED") && Catch::Contains("damaged"));
    auto j = setup.cli({"check", stamp, "--json"});
    simdjson::dom::parser parser;
    CHECK_FALSE(parser.parse(j.out)["sound"].get_bool().value());
  }
  SECTION("a file that no longer matches its manifest is caught") {
    auto at = manifest.find("\"sha256\": \"") + 11;
    manifest[at] = manifest[at] == 'a' ? 'b' : 'a';
    test::write_text(manifest_path, manifest);
    auto r = setup.cli({"check", stamp});
    CHECK(r.exit_code == 3);
    CHECK_THAT(r.out, Catch::Contains("does not match the manifest"));
  }
  SECTION("a gzip that holds no dump is caught by pg_restore") {
    pg::PosixProcessRunner runner;
    std::string fake = setup.backups() + "/ck_db_20250121_000000.dump";
    test::write_text(fake, "this is not a pg_dump archive\n");
    pg::Command z;
    z.program = "gzip";
    z.args = {fake};
    REQUIRE(runner.run(z).ok());
    auto r = setup.cli({"check", "20250121_000000"});
    CHECK(r.exit_code == 3);
    CHECK_THAT(r.out, Catch::Contains("table of contents"));
  }
  SECTION("an unknown stamp names the nearest ones") {
    auto r = setup.cli({"check", "20250120_130000"});
    CHECK(r.exit_code == 2);
    CHECK_THAT(r.err, Catch::Contains("backup not found") && Catch::Contains("20250120_120000"));
  }
}

TEST_CASE("prune deletes by age only what it recognises, and --dry-run deletes nothing", "[pg][prune]") {
  test::portfolio_database("pr_db");
  test::BackupSetup setup({"pr_db"});
  ensure_directory(setup.backups(), 0700);
  test::old_script_backup("pr_db", setup.backups(), "20250101_020000");
  test::old_script_backup("pr_db", setup.backups(), "20250102_020000");
  test::write_text(setup.backups() + "/uploads_20250101_020000.tar.gz", "images");
  test::write_text(setup.backups() + "/notes_20250101_020000.txt", "not ours");
  for (const char* f :
       {"pr_db_20250101_020000.dump.gz", "pr_db_20250102_020000.dump.gz", "uploads_20250101_020000.tar.gz"})
    set_mtime(setup.backups() + "/" + f, *stamp_to_time("20250101_020000"));
  REQUIRE(setup.cli({"backup"}).exit_code == 0);  // retention runs after it: both old ones go
  CHECK_FALSE(path_exists(setup.backups() + "/pr_db_20250101_020000.dump.gz"));
  CHECK_FALSE(path_exists(setup.backups() + "/uploads_20250101_020000.tar.gz"));
  CHECK_FALSE(path_exists(setup.backups() + "/pr_db_20250102_020000.dump.gz"));
  CHECK(path_exists(setup.backups() + "/notes_20250101_020000.txt"));

  test::old_script_backup("pr_db", setup.backups(), "20250103_020000");
  set_mtime(setup.backups() + "/pr_db_20250103_020000.dump.gz", *stamp_to_time("20250103_020000"));
  auto dry = setup.cli({"prune", "--dry-run"});
  CHECK(dry.exit_code == 0);
  CHECK_THAT(dry.out, Catch::Contains("would delete pr_db_20250103_020000.dump.gz"));
  CHECK(path_exists(setup.backups() + "/pr_db_20250103_020000.dump.gz"));
  auto real = setup.cli({"prune", "--json"});
  CHECK(real.exit_code == 0);
  CHECK_THAT(real.out, Catch::Contains("20250103_020000"));
  CHECK_FALSE(path_exists(setup.backups() + "/pr_db_20250103_020000.dump.gz"));
  CHECK(Catalog::scan(setup.backups()).sets().size() == 1);
}
