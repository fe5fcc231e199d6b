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

TEST_CASE("the catalog groups files by stamp and knows old-script and interrupted backups", "[catalog]") {
  test::TempDir dir;
  write_gzip(dir / "portfolio_db_20250123_140530.dump.gz", kDumpMarker);
  test::write_text(dir / "portfolio_db_20250123_140530.manifest.json", "{}");
  write_gzip(dir / "authentik_20250123_140530.dump.gz", kDumpMarker);
  test::write_text(dir / "authentik_20250123_140530.manifest.json", "{}");
  write_gzip(dir / "portfolio_db_20250120_120000.dump.gz", "");  // old script: no marker, no manifest
  test::write_text(dir / "uploads_20250120_120000.tar.gz", "x");
  write_gzip(dir / "portfolio_db_20250124_080000.dump.gz", kDumpMarker);  // interrupted: no manifest
  test::write_text(dir / "portfolio_db_20250125_080000.dump.gz.tmp-99999999", "partial");
  test::write_text(dir / "notes.txt", "not a backup");
  REQUIRE(::symlink("portfolio_db_20250123_140530.dump.gz", (dir / "portfolio_db_latest.dump.gz").c_str()) == 0);

  Catalog c = Catalog::scan(dir.path());
  REQUIRE(c.sets().size() == 3);
  CHECK(c.sets()[0].stamp == "20250124_080000");
  CHECK_FALSE(c.sets()[0].complete());
  CHECK(c.sets()[1].dumps.size() == 2);
  CHECK(c.sets()[1].complete());
  CHECK(c.sets()[2].dumps[0].written_by_auditpitr == false);
  CHECK(c.sets()[2].complete());
  CHECK(c.sets()[2].other_files.size() == 1);
  CHECK(c.temporary_files().size() == 1);

  CHECK(c.linked_latest("portfolio_db") == "20250123_140530");
  CHECK(c.resolve("latest", "portfolio_db").stamp == "20250123_140530");
  CHECK_THROWS_AS(c.resolve("20250124_080000", "portfolio_db"), Error);
  try {
    c.resolve("20250122_000000", "portfolio_db");
    FAIL("no error");
  } catch (const Error& e) {
    CHECK(e.kind() == ErrorKind::usage);
    CHECK_THAT(e.what(), Catch::Contains("backup not found"));
    CHECK_THAT(e.hint(), Catch::Contains("20250123_140530") && Catch::Contains("20250120_120000"));
  }
}

TEST_CASE("latest falls back to the newest complete backup when the link is broken", "[catalog]") {
  test::TempDir dir;
  write_gzip(dir / "authentik_20250121_183045.dump.gz", "");
  REQUIRE(::symlink("authentik_20250101_000000.dump.gz", (dir / "authentik_latest.dump.gz").c_str()) == 0);
  Catalog c = Catalog::scan(dir.path());
  std::string note;
  CHECK(c.resolve("latest", "authentik", &note).stamp == "20250121_183045");
  CHECK_THAT(note, Catch::Contains("missing or broken"));
}
