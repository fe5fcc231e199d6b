// VerifiedDump: the copy pg_restore reads holds exactly the bytes that were checked, and no more.
#include "src/ops/verified_dump.h"

#include <dirent.h>
#include <unistd.h>

#include <catch2/catch.hpp>

#include "src/error.h"
#include "src/util/gzip.h"
#include "src/util/sha256.h"
#include "tests/support/temp_dir.h"

using namespace auditpitr;

namespace {

pg::PosixProcessRunner runner;  // plain dumps: it is never asked to run anything

// A .dump.gz of `content` written as backups write it; returns what its check would find.
ops::DumpExpectation write_dump(const std::string& path, const std::string& content) {
  std::string compressed;
  GzipWriter gzip([&](const char* d, std::size_t n) { compressed.append(d, n); }, 6, 1, "auditpitr backup");
  gzip.write(content.data(), content.size());
  gzip.finish();
  test::write_text(path, compressed);
  Sha256 sha;
  sha.update(compressed.data(), compressed.size());
  return {compressed.size(), sha.hex_digest(), content.size(), false, {}};
}

int entries_in(const std::string& folder) {
  DIR* dir = ::opendir(folder.c_str());
  int n = 0;
  while (auto* e = ::readdir(dir)) n += e->d_name[0] != '.';
  ::closedir(dir);
  return n;
}

}  // namespace

TEST_CASE("the copy holds the checked bytes, in a private temporary file removed afterwards", "[verified_dump]") {
  test::TempDir dir;
  std::string dump = dir / "db_20250123_140530.dump.gz";
  auto expected = write_dump(dump, "PGDMP archive bytes");
  std::string copy;
  {
    ops::VerifiedDump verified(dump, expected, runner);
    copy = verified.path();
    CHECK(test::read_text(copy) == "PGDMP archive bytes");
    CHECK(temporary_file_target(copy) == dir / "db_20250123_140530.dump");
  }
  CHECK_FALSE(path_exists(copy));
}

TEST_CASE("a file other than the one checked is refused and leaves nothing", "[verified_dump]") {
  test::TempDir dir;
  std::string dump = dir / "db_20250123_140530.dump.gz";
  auto checked = write_dump(dump, "the checked archive, A");
  auto swapped = write_dump(dump, "the checked archive, B");  // whole and valid, of the same size
  REQUIRE(swapped.file_size == checked.file_size);
  try {
    ops::VerifiedDump verified(dump, checked, runner);
    FAIL("the swapped file was accepted");
  } catch (const Error& e) {
    CHECK(e.kind() == ErrorKind::verification);
    CHECK_THAT(e.what(), Catch::Contains("is not the file that was checked: its sha256 is " + swapped.file_sha256));
  }
  CHECK(entries_in(dir.path()) == 1);
}

TEST_CASE("inflating stops past the size that was checked", "[verified_dump]") {
  test::TempDir dir;
  std::string dump = dir / "db_20250123_140530.dump.gz";
  auto checked = write_dump(dump, "the archive");
  // A gzip member of zeros appended (64 MiB inflated, a few KB on disk), the expectation forged to
  // match the file: only the inflated size can stop it.
  write_dump(dir / "zeros.gz", std::string(64u << 20, '\0'));
  test::write_text(dump, test::read_text(dump) + test::read_text(dir / "zeros.gz"));
  ::unlink((dir / "zeros.gz").c_str());
  Sha256 sha;
  std::string bytes = test::read_text(dump);
  sha.update(bytes.data(), bytes.size());
  ops::DumpExpectation forged{bytes.size(), sha.hex_digest(), checked.uncompressed_size, false, {}};
  CHECK_THROWS_WITH(ops::VerifiedDump(dump, forged, runner), Catch::Contains("inflates to more than the 11 bytes"));
  CHECK(entries_in(dir.path()) == 1);
}

TEST_CASE("without room for the inflated copy nothing is written", "[verified_dump]") {
  test::TempDir dir;
  std::string dump = dir / "db_20250123_140530.dump.gz";
  auto expected = write_dump(dump, "x");
  expected.uncompressed_size = uint64_t{1} << 60;  // an exabyte
  CHECK_THROWS_WITH(ops::VerifiedDump(dump, expected, runner),
                    Catch::Contains("not enough free space in '" + dir.path() + "'"));
  CHECK(entries_in(dir.path()) == 1);
}

TEST_CASE("a link in place of the dump is not followed", "[verified_dump]") {
  test::TempDir dir;
  auto expected = write_dump(dir / "elsewhere.gz", "x");
  std::string dump = dir / "db_20250123_140530.dump.gz";
  REQUIRE(::symlink((dir / "elsewhere.gz").c_str(), dump.c_str()) == 0);
  CHECK_THROWS_AS(ops::VerifiedDump(dump, expected, runner), Error);
  CHECK(entries_in(dir.path()) == 2);
}

TEST_CASE("the free-space check names the folder, what is needed and free, and a hint", "[verified_dump]") {
  const uint64_t margin = 64u << 20;
  CHECK_NOTHROW(ops::require_room("/b", 100 + margin, 100, "it"));
  try {
    ops::require_room("/b", 99 + margin, 100, "the backup", "free some space in /b");
    FAIL("a byte short was accepted");
  } catch (const Error& e) {
    CHECK(e.kind() == ErrorKind::runtime);
    CHECK_THAT(e.what(), Catch::Contains("not enough free space in '/b' for the backup: it needs 100B") &&
                             Catch::Contains("are free"));
    CHECK(e.hint() == "free some space in /b");
  }
}
