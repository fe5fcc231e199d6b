// Outcome records: written atomically, read back, never a failure of the operation, not catalogued.
#include "src/ops/outcome_record.h"

#include <sys/stat.h>

#include <catch2/catch.hpp>

#include "src/catalog/catalog.h"
#include "src/error.h"
#include "src/util/fs.h"
#include "tests/support/temp_dir.h"

using namespace auditpitr;

TEST_CASE("an outcome record is read back as written, in its own folder", "[outcome]") {
  test::TempDir dir;
  CHECK_FALSE(ops::read_outcome(dir.path(), "push"));
  ops::OutcomeRecord r{"backup", false, 1764720000, 1764720042, "20251203_000000", "pg_dump failed: \"x\"", 123};
  ops::record_outcome(dir.path(), r);
  std::string path = dir / ".auditpitr/last-backup.json";
  REQUIRE(path_exists(path));
  struct stat st {};
  REQUIRE(::stat(path.c_str(), &st) == 0);
  CHECK((st.st_mode & 0777) == 0600);
  REQUIRE(::stat((dir / ".auditpitr").c_str(), &st) == 0);
  CHECK((st.st_mode & 0777) == 0700);
  auto back = ops::read_outcome(dir.path(), "backup");
  REQUIRE(back);
  CHECK(back->operation == "backup");
  CHECK_FALSE(back->ok);
  CHECK(back->started == r.started);
  CHECK(back->finished == r.finished);
  CHECK(back->stamp == r.stamp);
  CHECK(back->detail == r.detail);
  CHECK(back->bytes == 123);
  CHECK_THAT(test::read_text(path), Catch::Contains(R"("started": "2025-12-03T00:00:00Z")"));

  r.ok = true;  // the next one replaces it, leaving no temporary file
  ops::record_outcome(dir.path(), r);
  CHECK(ops::read_outcome(dir.path(), "backup")->ok);
  Catalog catalog = Catalog::scan(dir.path());
  CHECK(catalog.unrecognised().empty());  // the records' folder is not a stranger in the backup folder
  CHECK(catalog.temporary_files().empty());
}

TEST_CASE("an outcome that cannot be recorded is a warning, never an error", "[outcome]") {
  test::TempDir dir;
  ops::OutcomeRecord r{"backup", true, 1, 2, "", "", 0};
  CHECK_NOTHROW(ops::record_outcome(dir / "missing", r));  // no backup folder: nothing is created
  CHECK_FALSE(path_exists(dir / "missing"));
  test::write_text(dir / ".auditpitr", "a file in its place");
  CHECK_NOTHROW(ops::record_outcome(dir.path(), r));
  CHECK(Catalog::scan(dir.path()).unrecognised().size() == 1);  // a file of that name is a stranger
}

TEST_CASE("a damaged outcome record is named", "[outcome]") {
  test::TempDir dir;
  ensure_directory(dir / ".auditpitr", 0700);
  test::write_text(dir / ".auditpitr/last-drill.json", "{\"operation\": \"drill\"");
  CHECK_THROWS_WITH(ops::read_outcome(dir.path(), "drill"),
                    Catch::Contains("last-drill.json") && Catch::Contains("not a JSON object"));
  test::write_text(dir / ".auditpitr/last-drill.json", R"({"operation": "backup", "ok": true})");
  CHECK_THROWS_WITH(ops::read_outcome(dir.path(), "drill"), Catch::Contains("does not record a drill"));
}
