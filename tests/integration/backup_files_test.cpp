// What auditpitr writes and reads in folders, end to end with the built binary: export and demo
// never replace a user's file, what was checked is what is restored, a manifest bounds what is
// inflated and read, and a backup folder others can write to is refused.
#include <dirent.h>
#include <sys/stat.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <regex>

#include "src/pg/custom_archive.h"
#include "src/util/fs.h"
#include "src/util/gzip.h"
#include "src/util/sha256.h"
#include "tests/integration/restore_fixture.h"

using namespace auditpitr;
using test::RestoreFixture;

namespace {

std::string dump_of(const RestoreFixture& f, const std::string& db, const std::string& stamp) {
  return f.backups() + "/" + db + "_" + stamp + ".dump.gz";
}
std::string manifest_of(const RestoreFixture& f, const std::string& db, const std::string& stamp) {
  return f.backups() + "/" + db + "_" + stamp + ".manifest.json";
}

std::string title_of(const pg::ConnInfo& db) {
  return test::query_value(db, "SELECT title FROM portfolios WHERE id = 1");
}

int temporary_files_in(const std::string& folder) {
  int found = 0;
  DIR* dir = ::opendir(folder.c_str());
  while (auto* e = ::readdir(dir)) found += temporary_file_target(e->d_name).empty() ? 0 : 1;
  ::closedir(dir);
  return found;
}

std::string sha256_of(const std::string& bytes) {
  Sha256 sha;
  sha.update(bytes.data(), bytes.size());
  return sha.hex_digest();
}

// Replaces the first occurrence of `from` in a file.
void edit(const std::string& path, const std::string& from, const std::string& to) {
  std::string text = test::read_text(path);
  auto at = text.find(from);
  REQUIRE(at != std::string::npos);
  text.replace(at, from.size(), to);
  test::write_text(path, text);
}

// Writes `bytes` as the dump and makes its manifest's sha256 and size match them.
void replace_dump_keeping_manifest(const std::string& dump, const std::string& manifest, const std::string& bytes) {
  std::string original = test::read_text(dump);
  test::write_text(dump, bytes);
  edit(manifest, sha256_of(original), sha256_of(bytes));
  edit(manifest, "\"size\": " + std::to_string(original.size()), "\"size\": " + std::to_string(bytes.size()));
}

// Runs `auditpitr args` until it has checked the backup `checked`, moves the dump of `other` over
// it, lets it go on and returns its exit status.
int swap_after_check(const RestoreFixture& f, const std::string& db, const std::string& checked,
                     const std::string& other, std::vector<std::string> args) {
  args.insert(args.begin(), {"-c", f.config()});
  int pid = test::run_cli_until_paused(args, "checked", {{"NO_COLOR", "1"}});
  REQUIRE(pid > 0);
  REQUIRE(::rename(dump_of(f, db, other).c_str(), dump_of(f, db, checked).c_str()) == 0);
  return test::resume_and_wait(pid);
}

}  // namespace

TEST_CASE("a dump swapped in between the check and the restore is not restored", "[pg][restore][files]") {
  RestoreFixture f({"fs_swap"});
  auto db = f.db("fs_swap");
  std::string checked = f.backup();
  test::execute(db, "UPDATE portfolios SET title = 'planted' WHERE id = 1");
  std::string other = f.backup();  // a whole, valid dump of the same database, other content
  test::execute(db, "UPDATE portfolios SET title = 'live data' WHERE id = 1");

  std::string jobs = GENERATE(as<std::string>{}, "1", "2");
  INFO("--jobs " << jobs);
  // Before: the output said "sha256 matches its manifest" and the swapped file was restored.
  CHECK(swap_after_check(f, "fs_swap", checked, other, {"restore", checked, "--yes", "--jobs", jobs}) == 3);
  CHECK(title_of(db) == "live data");
  CHECK(f.databases_like("fs_swap_").empty());
  CHECK(temporary_files_in(f.backups()) == 0);
}

TEST_CASE("a dump swapped in between the check and the export is not exported", "[pg][export][files]") {
  RestoreFixture f({"fs_swapx"});
  auto db = f.db("fs_swapx");
  std::string checked = f.backup();
  test::execute(db, "UPDATE portfolios SET title = 'planted' WHERE id = 1");
  std::string other = f.backup();
  test::TempDir out;
  CHECK(swap_after_check(f, "fs_swapx", checked, other, {"export", checked, "--sql", out / "x.sql"}) == 3);
  CHECK_FALSE(path_exists(out / "x.sql"));
  CHECK(temporary_files_in(f.backups()) == 0);
}

TEST_CASE("inflating stops at the manifest's uncompressed size; a huge manifest is not read", "[pg][restore][files]") {
  RestoreFixture f({"fs_bound"});
  auto db = f.db("fs_bound");
  std::string stamp = f.backup();
  test::execute(db, "UPDATE portfolios SET title = 'live data' WHERE id = 1");
  std::string dump = dump_of(f, "fs_bound", stamp);
  std::string manifest = manifest_of(f, "fs_bound", stamp);

  SECTION("a gzip member of zeros appended, the manifest's size and sha256 made to match") {
    std::string original = test::read_text(dump);
    std::string zeros;
    GzipWriter gzip([&](const char* d, std::size_t n) { zeros.append(d, n); }, 9, 1, "");
    std::string block(1u << 20, '\0');
    for (int i = 0; i < 256; ++i) gzip.write(block.data(), block.size());  // 256 MiB inflated
    gzip.finish();
    replace_dump_keeping_manifest(dump, manifest, original + zeros);

    auto checked = f.cli({"check", stamp});
    INFO(checked.out << checked.err);
    CHECK(checked.exit_code == 3);
    // Bytes after the archive's end: the archive reader stops there, before the size does.
    CHECK((checked.out + checked.err).find("unexpected bytes after the archive's data") != std::string::npos);
    auto restored = f.cli({"restore", stamp, "--yes"});
    INFO(restored.out << restored.err);
    CHECK(restored.exit_code == 3);
    CHECK(title_of(db) == "live data");
    CHECK(temporary_files_in(f.backups()) == 0);
  }
  SECTION("the manifest's uncompressed size made smaller than what the dump inflates to") {
    std::string text = test::read_text(manifest);
    std::smatch size;
    REQUIRE(std::regex_search(text, size, std::regex("\"uncompressed_size\": ([0-9]+)")));
    edit(manifest, size[0], "\"uncompressed_size\": " + std::to_string(std::stoull(size[1]) / 2));
    auto checked = f.cli({"check", stamp});
    INFO(checked.out << checked.err);
    CHECK(checked.exit_code == 3);
    CHECK((checked.out + checked.err).find("inflates to more than the") != std::string::npos);
    auto restored = f.cli({"restore", stamp, "--yes"});
    INFO(restored.out << restored.err);
    CHECK(restored.exit_code == 3);
    CHECK(title_of(db) == "live data");
    CHECK(temporary_files_in(f.backups()) == 0);
  }
  SECTION("a 1 GiB manifest") {
    REQUIRE(::truncate(manifest.c_str(), 1L << 30) == 0);  // sparse: no disk, but 1 GiB to read
    auto checked = f.cli({"check", stamp});
    INFO(checked.out << checked.err);
    // Not read (it took 2.1 GB of memory): a manifest that cannot be one, and the dump is judged by
    // its content like any backup whose manifest is damaged.
    CHECK((checked.out + checked.err).find("larger than 16 MiB") != std::string::npos);
    CHECK(checked.exit_code == 0);
  }
}

TEST_CASE("a backup of an earlier version (its data not compressed inside the archive) restores and verifies",
          "[pg][restore][files]") {
  RestoreFixture f({"fs_earlier"});
  auto db = f.db("fs_earlier");
  std::string stamp = f.backup();
  test::execute(db, "UPDATE portfolios SET title = 'live data' WHERE id = 1");
  std::string dump = dump_of(f, "fs_earlier", stamp);
  std::string manifest = manifest_of(f, "fs_earlier", stamp);
  // As versions before issue 14 wrote it: pg_dump -Z0's archive, gzip'd.
  std::string now = test::read_text(dump), archive, earlier;
  GzipReader reader(dump);
  pg::ArchiveInflater inflater([&](const char* d, std::size_t n) { archive.append(d, n); }, dump);
  char buffer[1 << 16];
  for (std::size_t n; (n = reader.read(buffer, sizeof buffer)) > 0;) inflater.write(buffer, n);
  inflater.finish();
  GzipWriter gzip([&](const char* d, std::size_t n) { earlier.append(d, n); }, 6, 1, "");
  gzip.write(archive.data(), archive.size());
  gzip.finish();
  REQUIRE(earlier != now);
  replace_dump_keeping_manifest(dump, manifest, earlier);

  auto restored = f.cli({"restore", stamp, "--yes"});
  INFO(restored.out << restored.err);
  REQUIRE(restored.exit_code == 0);
  CHECK_THAT(restored.out, Catch::Contains("match the manifest"));
  CHECK(title_of(db) != "live data");
}

TEST_CASE("export replaces no file unless told to, never one of the backup folder, and writes to stdout with -",
          "[pg][export][files]") {
  RestoreFixture f({"fs_export"});
  std::string stamp = f.backup();
  test::TempDir out;
  test::write_text(out / "auditpitr.toml", "precious\n");

  // Before: the user's file was replaced without a word.
  auto refused = f.cli({"export", stamp, "--sql", out / "auditpitr.toml"});
  CHECK(refused.exit_code == 4);
  CHECK(refused.err.find("--force") != std::string::npos);
  CHECK(test::read_text(out / "auditpitr.toml") == "precious\n");

  auto forced = f.cli({"export", stamp, "--sql", out / "auditpitr.toml", "--force"});
  INFO(forced.out << forced.err);
  CHECK(forced.exit_code == 0);
  CHECK(test::read_text(out / "auditpitr.toml").find("CREATE TABLE public.portfolios") != std::string::npos);

  // Before: the backup's own dump was overwritten with its SQL.
  std::string dump = dump_of(f, "fs_export", stamp);
  std::string dump_bytes = test::read_text(dump);
  for (const std::string& target : {dump, f.backups() + "/new.sql"}) {
    auto into_backups = f.cli({"export", stamp, "--sql", target, "--force"});
    CHECK(into_backups.exit_code == 2);
    CHECK(into_backups.err.find("export never writes there") != std::string::npos);
  }
  CHECK(test::read_text(dump) == dump_bytes);
  CHECK_FALSE(path_exists(f.backups() + "/new.sql"));

  auto piped = f.cli({"export", stamp, "--sql", "-"});
  INFO(piped.err);
  CHECK(piped.exit_code == 0);
  CHECK(piped.out.rfind("--\n-- PostgreSQL database dump", 0) == 0);
  CHECK(piped.out.find("Design Portfolio") != std::string::npos);
  CHECK(piped.err.find("Exported fs_export " + stamp + " to the standard output") != std::string::npos);
  CHECK(f.cli({"export", stamp, "--sql", "-", "--json"}).exit_code == 2);
}

TEST_CASE("demo refuses a folder that is not empty", "[files]") {
  test::TempDir dir;
  test::write_text(dir / "auditpitr.toml", "# the user's own\n");
  auto r = test::run_cli({"demo", "--dir", dir.path()});
  CHECK(r.exit_code == 4);
  CHECK(r.err.find("is not empty") != std::string::npos);
  CHECK(test::read_text(dir / "auditpitr.toml") == "# the user's own\n");
}

TEST_CASE("a backup folder others can write to is refused; one they can read is warned about", "[pg][files]") {
  RestoreFixture f({"fs_mode"});
  std::string stamp = f.backup();
  REQUIRE(::chmod(f.backups().c_str(), 0777) == 0);
  for (const std::vector<std::string>& args :
       {std::vector<std::string>{"list"}, {"check", stamp}, {"restore", stamp, "--yes"}, {"backup"}, {"prune"}}) {
    auto r = f.cli(args);
    INFO(args[0] << ": " << r.out << r.err);
    CHECK(r.exit_code == 4);
    CHECK(r.err.find("can be written by other users") != std::string::npos);
    CHECK(r.err.find("chmod o-w '" + f.backups() + "'") != std::string::npos);
  }
  REQUIRE(::chmod(f.backups().c_str(), 0755) == 0);
  auto warned = f.cli({"backup"});
  INFO(warned.out << warned.err);
  CHECK(warned.exit_code == 0);
  CHECK(warned.out.find("can be read by other users (mode 0755)") != std::string::npos);
}
