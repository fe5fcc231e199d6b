// Catalog: names of the old scripts, manifests, interrupted backups, latest, nearest stamps.
#include "src/catalog/catalog.h"

#include <unistd.h>

#include <catch2/catch.hpp>

#include "src/catalog/stamp.h"
#include "src/error.h"
#include "src/util/gzip.h"
#include "tests/support/temp_dir.h"

using namespace auditpitr;

namespace {

void write_gzip(const std::string& path, const std::string& comment) {
  std::string out;
  GzipWriter w([&](const char* d, std::size_t n) { out.append(d, n); }, 6, 1, comment);
  w.write("PGDMP", 5);
  w.finish();
  test::write_text(path, out);
}

}  // namespace

TEST_CASE("stamps are parsed and validated", "[catalog]") {
  CHECK(is_stamp("20250123_140530"));
  CHECK_FALSE(is_stamp("20250230_140530"));
  CHECK_FALSE(is_stamp("20250123-140530"));
  CHECK_FALSE(is_stamp("latest"));
  CHECK(time_to_stamp(*stamp_to_time("20250123_140530")) == "20250123_140530");
  CHECK(stamp_display("20250123_140530") == "2025-01-23 14:05:30");
}

TEST_CASE("the catalog groups files by stamp and knows old-script backups and lost manifests", "[catalog]") {
  test::TempDir dir;
  write_gzip(dir / "portfolio_db_20250123_140530.dump.gz", kDumpMarker);
  test::write_text(dir / "portfolio_db_20250123_140530.manifest.json", "{}");
  write_gzip(dir / "authentik_20250123_140530.dump.gz", kDumpMarker);
  test::write_text(dir / "authentik_20250123_140530.manifest.json", "{}");
  write_gzip(dir / "portfolio_db_20250120_120000.dump.gz", "");  // old script: no marker, no manifest
  test::write_text(dir / "uploads_20250120_120000.tar.gz", "x");
  write_gzip(dir / "portfolio_db_20250124_080000.dump.gz", kDumpMarker);  // ours, its manifest gone
  test::write_text(dir / "portfolio_db_20250125_080000.dump.gz.tmp-99999999", "partial");
  test::write_text(dir / "notes.txt", "not a backup");
  REQUIRE(::symlink("portfolio_db_20250123_140530.dump.gz", (dir / "portfolio_db_latest.dump.gz").c_str()) == 0);

  Catalog c = Catalog::scan(dir.path());
  REQUIRE(c.sets().size() == 3);
  CHECK(c.sets()[0].stamp == "20250124_080000");
  CHECK(c.sets()[0].dumps[0].manifest_missing());
  CHECK_FALSE(c.sets()[0].partial());
  CHECK_THAT(c.sets()[0].not_latest_reason(), Catch::Contains("manifest of 'portfolio_db' is missing"));
  CHECK(c.sets()[1].dumps.size() == 2);
  CHECK(c.sets()[1].not_latest_reason().empty());
  CHECK(c.sets()[2].dumps[0].written_by_auditpitr == false);
  CHECK_FALSE(c.sets()[2].dumps[0].manifest_missing());
  CHECK(c.sets()[2].archives.size() == 1);
  CHECK(c.sets()[2].other_files == std::vector<std::string>{dir / "uploads_20250120_120000.tar.gz"});
  REQUIRE(c.temporary_files().size() == 1);
  CHECK(c.temporary_files()[0].target == dir / "portfolio_db_20250125_080000.dump.gz");
  CHECK(c.unrecognised() == std::vector<std::string>{dir / "notes.txt"});

  std::string note;
  CHECK(c.resolve("latest", "portfolio_db", &note).stamp == "20250123_140530");
  CHECK_THAT(note, Catch::Contains("20250124_080000 is not used") && Catch::Contains("manifest"));
  // Named by its stamp, the dump without manifest is a backup like an old-script one.
  CHECK(c.resolve("20250124_080000", "portfolio_db").manifest_missing());
  try {
    c.resolve("20250122_000000", "portfolio_db");
    FAIL("no error");
  } catch (const Error& e) {
    CHECK(e.kind() == ErrorKind::usage);
    CHECK_THAT(e.what(), Catch::Contains("backup not found"));
    CHECK_THAT(e.hint(), Catch::Contains("20250123_140530") && Catch::Contains("20250120_120000"));
  }
}

TEST_CASE("encrypted dumps (.dump.gz.age) are auditpitr's; their run's databases come from the manifest", "[catalog]") {
  test::TempDir dir;
  test::write_text(dir / "a_20250123_140530.dump.gz.age", "age-encryption.org/v1\n");
  test::write_text(dir / "a_20250123_140530.manifest.json", "{\"run_databases\": [\"a\", \"b\"]}");
  test::write_text(dir / "a_20250124_140530.dump.gz.age", "age-encryption.org/v1\n");  // manifest lost
  REQUIRE(::symlink("a_20250123_140530.dump.gz.age", (dir / "a_latest.dump.gz.age").c_str()) == 0);
  Catalog c = Catalog::scan(dir.path());
  CHECK(c.unrecognised().empty());
  REQUIRE(c.sets().size() == 2);
  const BackupSet& older = c.sets().back();
  REQUIRE(older.dumps.size() == 1);
  CHECK(older.dumps.front().encrypted);
  CHECK(older.dumps.front().written_by_auditpitr);
  CHECK(older.missing_databases() == std::vector<std::string>{"b"});
  CHECK(c.sets().front().dumps.front().manifest_missing());
  CHECK(c.latest_stamp({"a"}).empty());  // one partial, one without its manifest
  CHECK(dump_file_name("a", "20250123_140530", true) == "a_20250123_140530.dump.gz.age");
  CHECK(latest_link_name("a", true) == "a_latest.dump.gz.age");
}

TEST_CASE("latest comes from the catalog, not from a link that may be broken or repointed", "[catalog]") {
  test::TempDir dir;
  write_gzip(dir / "authentik_20250121_183045.dump.gz", "");
  write_gzip(dir / "authentik_20250101_000000.dump.gz", "");
  REQUIRE(::symlink("authentik_20250101_000000.dump.gz", (dir / "authentik_latest.dump.gz").c_str()) == 0);
  Catalog c = Catalog::scan(dir.path());
  CHECK(c.resolve("latest", "authentik").stamp == "20250121_183045");
  CHECK(c.unrecognised().empty());  // the link is the old scripts' layout, not an unknown file
}

TEST_CASE("a run that stopped part-way is partial and never latest; latest is one stamp for all", "[catalog]") {
  test::TempDir dir;
  std::string both = dump_comment({"portfolio_db", "authentik"});
  for (const char* db : {"portfolio_db", "authentik"}) {
    write_gzip(dir / (std::string(db) + "_20250101_020000.dump.gz"), both);
    test::write_text(dir / (std::string(db) + "_20250101_020000.manifest.json"), "{}");
  }
  // The next run wrote portfolio_db whole, then stopped before authentik.
  write_gzip(dir / "portfolio_db_20250102_020000.dump.gz", both);
  test::write_text(dir / "portfolio_db_20250102_020000.manifest.json", "{}");

  Catalog c = Catalog::scan(dir.path());
  const BackupSet& stopped = c.sets().front();
  CHECK(stopped.partial());
  CHECK(stopped.missing_databases() == std::vector<std::string>{"authentik"});
  CHECK(c.latest_stamp({"portfolio_db", "authentik"}) == "20250101_020000");
  CHECK(c.latest_stamp({"portfolio_db"}) == "20250101_020000");
  std::string note;
  CHECK(c.resolve_stamp("latest", {"portfolio_db", "authentik"}, &note) == "20250101_020000");
  CHECK_THAT(note, Catch::Contains("20250102_020000 is not used (partial") && Catch::Contains("'authentik'"));
  try {
    c.resolve("20250102_020000", "authentik");
    FAIL("no error");
  } catch (const Error& e) {
    CHECK(e.kind() == ErrorKind::verification);
    CHECK_THAT(e.what(), Catch::Contains("partial") && Catch::Contains("'authentik'"));
  }
  CHECK(c.resolve("20250102_020000", "portfolio_db").stamp == "20250102_020000");  // asked for by name
}

TEST_CASE("databases backed up at different stamps have no common latest, and it is said", "[catalog]") {
  test::TempDir dir;
  write_gzip(dir / "portfolio_db_20250102_020000.dump.gz", dump_comment({"portfolio_db"}));
  test::write_text(dir / "portfolio_db_20250102_020000.manifest.json", "{}");
  write_gzip(dir / "authentik_20250101_020000.dump.gz", dump_comment({"authentik"}));
  test::write_text(dir / "authentik_20250101_020000.manifest.json", "{}");
  Catalog c = Catalog::scan(dir.path());
  CHECK(c.latest_stamp({"portfolio_db"}) == "20250102_020000");
  CHECK(c.latest_stamp({"authentik"}) == "20250101_020000");
  try {
    c.resolve_stamp("latest", {"portfolio_db", "authentik"});
    FAIL("no error");
  } catch (const Error& e) {
    CHECK(e.kind() == ErrorKind::usage);
    CHECK_THAT(e.what(), Catch::Contains("holds no backup of 'authentik'"));
    CHECK_THAT(e.hint(), Catch::Contains("--db"));
  }
}

TEST_CASE("a dump's header names its run's databases, whatever their names", "[catalog]") {
  test::TempDir dir;
  std::vector<std::string> names{"a,b", "odd name%", "plain"};
  write_gzip(dir / "plain_20250101_020000.dump.gz", dump_comment(names));
  Catalog c = Catalog::scan(dir.path());
  const BackupFile& f = c.sets().front().dumps.front();
  CHECK(f.written_by_auditpitr);
  CHECK(f.run_databases == names);
  CHECK(c.sets().front().missing_databases() == std::vector<std::string>{"a,b", "odd name%"});
}

TEST_CASE("a run's planned file archives are in its dumps' comment: a set without one is partial", "[catalog]") {
  test::TempDir dir;
  const std::string stamp = "20250123_140530";
  write_gzip(dir / ("portfolio_db_" + stamp + ".dump.gz"), dump_comment({"portfolio_db"}, {"uploads", "static-1"}));
  test::write_text(dir / ("portfolio_db_" + stamp + ".manifest.json"), "{}");
  write_gzip(dir / ("static-1_" + stamp + ".tar.gz"), kArchiveMarker);
  test::write_text(dir / ("static-1_" + stamp + ".tar.gz.manifest.json"), "{}");
  Catalog c = Catalog::scan(dir.path());
  REQUIRE(c.sets().size() == 1);
  const BackupSet& set = c.sets()[0];
  CHECK(set.dumps[0].run_databases == std::vector<std::string>{"portfolio_db"});
  CHECK(set.dumps[0].run_files == std::vector<std::string>{"uploads", "static-1"});
  REQUIRE(set.archives.size() == 1);
  CHECK(set.archives[0].written_by_auditpitr);
  CHECK(set.archives[0].has_manifest);
  CHECK(set.lone_manifests.empty());
  CHECK(set.missing_archives() == std::vector<std::string>{"uploads"});
  CHECK(set.partial());
  CHECK_THAT(set.not_latest_reason(), Catch::Contains("the run stopped before archiving 'uploads'"));
  CHECK(c.latest_stamp({"portfolio_db"}).empty());

  write_gzip(dir / ("uploads_" + stamp + ".tar.gz"), kArchiveMarker);  // its manifest not written yet
  Catalog c2 = Catalog::scan(dir.path());
  CHECK_FALSE(c2.sets()[0].partial());
  CHECK_THAT(c2.sets()[0].not_latest_reason(), Catch::Contains("manifest of the archive 'uploads' is missing"));
  // Without files, the comment is the one older versions wrote.
  CHECK(dump_comment({"a", "b"}) == std::string(kDumpMarker) + "; databases=a,b");
}
