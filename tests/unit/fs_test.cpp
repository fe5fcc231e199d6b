// Files auditpitr writes cannot be hijacked: unguessable temporary names created exclusively,
// exact modes, a lock file that is never followed, a backup folder others cannot write to.
#include "src/util/fs.h"

#include <sys/stat.h>
#include <unistd.h>

#include <catch2/catch.hpp>

#include "src/error.h"
#include "tests/support/temp_dir.h"

using namespace auditpitr;

namespace {

int mode_of(const std::string& path) {
  struct stat st {};
  REQUIRE(::lstat(path.c_str(), &st) == 0);
  return static_cast<int>(st.st_mode & 07777);
}

}  // namespace

TEST_CASE("temporary names are unguessable and recognised as temporary", "[fs]") {
  std::string a = temporary_name_for("/b/portfolio_db_20250123_140530.dump.gz");
  std::string b = temporary_name_for("/b/portfolio_db_20250123_140530.dump.gz");
  CHECK(a != b);
  CHECK(a.rfind("/b/portfolio_db_20250123_140530.dump.gz.tmp-", 0) == 0);
  CHECK(temporary_file_target(a) == "/b/portfolio_db_20250123_140530.dump.gz");
}

TEST_CASE("a link planted under the old predictable temporary name is not followed", "[fs]") {
  test::TempDir dir;
  test::write_text(dir / "victim.toml", "precious\n");
  std::string final_path = dir / "export.sql";
  // Before: the writer opened <final>.tmp-<pid> with O_CREAT|O_TRUNC and wrote through this link.
  REQUIRE(::symlink((dir / "victim.toml").c_str(), (final_path + ".tmp-" + std::to_string(::getpid())).c_str()) == 0);
  write_file_atomically(final_path, "SELECT 1;\n");
  CHECK(test::read_text(dir / "victim.toml") == "precious\n");
  CHECK(test::read_text(final_path) == "SELECT 1;\n");
}

TEST_CASE("create_exclusive never opens what is already there", "[fs]") {
  test::TempDir dir;
  test::write_text(dir / "victim", "precious");
  REQUIRE(::symlink((dir / "victim").c_str(), (dir / "link").c_str()) == 0);
  REQUIRE(::symlink((dir / "nowhere").c_str(), (dir / "dangling").c_str()) == 0);
  test::write_text(dir / "planted", "theirs");
  CHECK(create_exclusive(dir / "link", 0600) == -1);
  CHECK(create_exclusive(dir / "dangling", 0600) == -1);
  CHECK(create_exclusive(dir / "planted", 0600) == -1);
  CHECK(test::read_text(dir / "victim") == "precious");
  CHECK_FALSE(path_exists(dir / "nowhere"));
  CHECK(test::read_text(dir / "planted") == "theirs");
  CHECK_THROWS_AS(create_exclusive(dir / "no-such-folder/x", 0600), Error);
}

TEST_CASE("files get exactly their mode whatever the umask", "[fs]") {
  test::TempDir dir;
  mode_t old = ::umask(0);
  write_file_atomically(dir / "open-umask", "x", 0600);
  ::umask(0777);
  write_file_atomically(dir / "closed-umask", "x", 0640);
  ::umask(old);
  CHECK(mode_of(dir / "open-umask") == 0600);
  CHECK(mode_of(dir / "closed-umask") == 0640);
}

TEST_CASE("an abandoned temporary file is removed and the final name never appears", "[fs]") {
  test::TempDir dir;
  std::string temp;
  {
    AtomicFile file(dir / "half.sql", 0600);
    temp = file.temp_path();
    file.write("half");
    CHECK(path_exists(temp));
    CHECK(temporary_file_target(temp) == dir / "half.sql");
    CHECK(file_being_written(temp));
  }
  CHECK_FALSE(path_exists(temp));
  CHECK_FALSE(path_exists(dir / "half.sql"));
}

TEST_CASE("the lock file is never followed", "[fs]") {
  test::TempDir dir;
  REQUIRE(::symlink((dir / "elsewhere").c_str(), (dir / ".auditpitr.lock").c_str()) == 0);
  try {
    DirectoryLock lock(dir.path(), "a test");
    FAIL("the lock followed a link");
  } catch (const Error& e) {
    CHECK_THAT(e.what(), Catch::Contains("is a link"));
  }
  CHECK_FALSE(path_exists(dir / "elsewhere"));
  REQUIRE(::unlink((dir / ".auditpitr.lock").c_str()) == 0);
  REQUIRE(::mkfifo((dir / ".auditpitr.lock").c_str(), 0600) == 0);
  CHECK_THROWS_AS(DirectoryLock(dir.path(), "a test"), Error);
  REQUIRE(::unlink((dir / ".auditpitr.lock").c_str()) == 0);
  DirectoryLock lock(dir.path(), "a test");
  CHECK(mode_of(dir / ".auditpitr.lock") == 0600);
}

TEST_CASE("a backup folder others can write to is refused, one they can read is warned about", "[fs]") {
  test::TempDir dir;
  for (mode_t mode : {0777, 01777, 0702}) {
    REQUIRE(::chmod(dir.path().c_str(), mode) == 0);
    try {
      require_private_folder(dir.path());
      FAIL("accepted a folder of mode " << mode);
    } catch (const Error& e) {
      CHECK(e.kind() == ErrorKind::refused);
      CHECK_THAT(e.what(), Catch::Contains("'" + dir.path() + "' can be written by other users"));
      CHECK_THAT(e.hint(), Catch::Contains("chmod o-w '" + dir.path() + "'"));
    }
  }
  REQUIRE(::chmod(dir.path().c_str(), 0755) == 0);
  CHECK_THAT(require_private_folder(dir.path()),
             Catch::Contains("can be read by other users (mode 0755)") && Catch::Contains("chmod o-rwx"));
  REQUIRE(::chmod(dir.path().c_str(), 0750) == 0);
  CHECK(require_private_folder(dir.path()).empty());
  CHECK(require_private_folder(dir / "not-yet").empty());
}

TEST_CASE("a small file larger than its limit is not read into memory", "[fs]") {
  test::TempDir dir;
  std::string huge = dir / "huge.json";
  test::write_text(huge, "");
  REQUIRE(::truncate(huge.c_str(), 1L << 30) == 0);  // sparse: 1 GiB that takes no disk
  CHECK_THROWS_WITH(read_small_file(huge, 1 << 20), Catch::Contains("is larger than 1048576 bytes"));
  test::write_text(dir / "small", "abc");
  CHECK(read_small_file(dir / "small", 3) == "abc");
  CHECK(file_size(huge) == (1u << 30));
}
