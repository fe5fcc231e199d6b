// A backup that fills the disk fails clearly and leaves nothing. Its own binary: it mounts a small
// tmpfs, which needs root, and is otherwise skipped, loudly and counted by CTest as skipped.
#include <sys/mount.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <cerrno>
#include <cstring>

#include "src/catalog/catalog.h"
#include "src/util/fs.h"
#include "tests/integration/backup_support.h"

using namespace auditpitr;

TEST_CASE("a full disk during the dump removes the partial file and exits 1", "[pg][backup][errors]") {
  if (::geteuid() != 0) test::skip_binary("the disk-full backup test mounts a small tmpfs, which needs root");
  auto info = test::portfolio_database("bk_full");
  test::execute(info,
                "INSERT INTO portfolios (title, owner_id) SELECT md5(g::text) || md5((g * 3)::text), 'u' FROM "
                "generate_series(1, 100000) g");
  test::BackupSetup setup({"bk_full"});
  ensure_directory(setup.backups(), 0700);
  if (::mount("tmpfs", setup.backups().c_str(), "tmpfs", 0, "size=256k,mode=0700") != 0)
    test::skip_binary(std::string("cannot mount a small tmpfs here: ") + std::strerror(errno));
  auto r = setup.cli({"backup"});
  Catalog after = Catalog::scan(setup.backups());
  std::size_t leftovers = after.temporary_files().size() + after.sets().size();
  ::umount(setup.backups().c_str());
  CHECK(r.exit_code == 1);
  CHECK_THAT(r.err, Catch::Contains("No space left on device") && Catch::Contains("HINT: free some space"));
  CHECK(leftovers == 0);
}
