// [[files]] archives through the built binary: the uploads folder archived with each backup,
// listed, checked, restored (--files, the old contents kept, --undo), pruned with its set; an
// old-script uploads_<stamp>.tar.gz read as it is; a restore killed around its swap leaves the
// folder whole.
#include <simdjson.h>
#include <sys/stat.h>
#include <unistd.h>
#include <utime.h>

#include <catch2/catch.hpp>
#include <fstream>

#include "src/pg/process_runner.h"
#include "src/util/fs.h"
#include "src/util/sha256.h"
#include "tests/integration/backup_support.h"

using namespace auditpitr;

namespace {

const char* kFiles = "[[files]]\nname = \"uploads\"\npath = \"uploads\"\n";

void make_uploads(const test::TempDir& dir) {
  ensure_directory(dir / "uploads/portfolio/7", 0755);
  test::write_text(dir / "uploads/a.jpg", "original a");
  test::write_text(dir / "uploads/portfolio/7/cover.png", std::string(100000, 'c'));
  REQUIRE(::symlink("a.jpg", (dir / "uploads/latest.jpg").c_str()) == 0);
}

std::string link_target(const std::string& path) {
  char buffer[256];
  ssize_t n = ::readlink(path.c_str(), buffer, sizeof buffer);
  return n < 0 ? "" : std::string(buffer, static_cast<std::size_t>(n));
}

void age_by_days(const std::string& path, int days) {
  std::time_t t = std::time(nullptr) - days * 86400;
  struct utimbuf times {
    t, t
  };
  REQUIRE(::utime(path.c_str(), &times) == 0);
}

pg::ProcessResult run_tar(const std::vector<std::string>& args, const std::string& cwd) {
  pg::PosixProcessRunner runner;
  pg::Command c;
  c.program = "tar";
  c.args = args;
  c.working_dir = cwd;
  c.capture_stdout = true;
  return runner.run(c);
}

}  // namespace

TEST_CASE("uploads are archived, listed, checked, restored and pruned with their set", "[pg][files]") {
  test::portfolio_database("files_db");
  test::BackupSetup setup({"portfolio=files_db"}, kFiles);
  make_uploads(setup.dir);

  auto b = setup.cli({"backup", "--json"});
  INFO(b.out << b.err);
  REQUIRE(b.exit_code == 0);
  simdjson::dom::parser parser;
  auto doc = parser.parse(b.out).value();
  std::string stamp(doc["stamp"].get_string().value());
  auto files = doc["files"].at(0);
  CHECK(files["name"].get_string().value() == "uploads");
  CHECK(files["file_count"].get_uint64().value() == 2);
  std::string archive = setup.backups() + "/uploads_" + stamp + ".tar.gz";
  std::string manifest = archive + ".manifest.json";
  CHECK(std::string(files["file"].get_string().value()) == archive);
  struct stat st {};
  REQUIRE(::stat(archive.c_str(), &st) == 0);
  CHECK((st.st_mode & 0777) == 0600);
  simdjson::dom::parser mp;
  auto m = mp.parse(test::read_text(manifest)).value();
  CHECK(std::string(m["file_sha256"].get_string().value()) == sha256_of_file(archive));
  CHECK(m["file_size"].get_uint64().value() == static_cast<uint64_t>(st.st_size));
  CHECK(m["file_count"].get_uint64().value() == 2);
  // The old scripts' layout: `tar xzf` beside the folder puts it back.
  auto listed = run_tar({"-tzf", archive}, setup.dir.path());
  CHECK_THAT(listed.stdout_text, Catch::Contains("uploads/portfolio/7/cover.png"));

  auto list = setup.cli({"list"});
  CHECK_THAT(list.out, Catch::Contains("uploads") && Catch::Contains("<- latest"));
  auto lj = setup.cli({"list", "--json"});
  simdjson::dom::parser lp;
  auto set = lp.parse(lj.out).value()["backups"].at(0);
  CHECK(set["archives"].at(0)["name"].get_string().value() == "uploads");
  CHECK(set["archives"].at(0)["manifest"].get_bool().value());
  CHECK(set["complete"].get_bool().value());

  auto check = setup.cli({"check", "latest"});
  INFO(check.out << check.err);
  CHECK(check.exit_code == 0);
  CHECK_THAT(check.out, Catch::Contains("uploads_" + stamp + ".tar.gz: gzip CRC ok, sha256 and file count match"));

  // The folder changes after the backup; the restore puts the backup's contents back.
  test::write_text(setup.dir / "uploads/a.jpg", "changed a");
  test::write_text(setup.dir / "uploads/new.jpg", "new");
  auto refused = setup.cli({"restore", "latest", "--files"});
  CHECK(refused.exit_code == 4);
  CHECK(test::read_text(setup.dir / "uploads/a.jpg") == "changed a");
  auto restored = setup.cli({"restore", "latest", "--files", "--yes", "--json"});
  INFO(restored.out << restored.err);
  REQUIRE(restored.exit_code == 0);
  CHECK(test::read_text(setup.dir / "uploads/a.jpg") == "original a");
  CHECK(test::read_text(setup.dir / "uploads/portfolio/7/cover.png") == std::string(100000, 'c'));
  CHECK(link_target(setup.dir / "uploads/latest.jpg") == "a.jpg");
  CHECK_FALSE(path_exists(setup.dir / "uploads/new.jpg"));
  CHECK_FALSE(path_exists(setup.dir / "uploads/uploads"));  // the archive's top folder is the folder itself
  struct stat sub {};
  REQUIRE(::stat((setup.dir / "uploads/portfolio/7").c_str(), &sub) == 0);
  CHECK((sub.st_mode & 0777) == 0755);  // folders' modes come back
  std::string kept = setup.dir / ("uploads_before_restore_" + stamp);
  CHECK(test::read_text(kept + "/new.jpg") == "new");
  simdjson::dom::parser rp;
  auto rf = rp.parse(restored.out).value()["files"].at(0);
  CHECK(std::string(rf["kept_copy"].get_string().value()) == kept);

  // --undo --files puts the folder back as it was before the restore.
  auto undone = setup.cli({"restore", "--undo", stamp, "--files", "--yes"});
  INFO(undone.out << undone.err);
  REQUIRE(undone.exit_code == 0);
  CHECK(test::read_text(setup.dir / "uploads/new.jpg") == "new");
  CHECK(test::read_text(setup.dir / ("uploads_undone_" + stamp + "/a.jpg")) == "original a");

  // A damaged archive is named, exit 3.
  std::string saved = test::read_text(archive);
  {
    std::fstream f(archive, std::ios::in | std::ios::out | std::ios::binary);
    f.seekp(static_cast<std::streamoff>(saved.size() / 2));
    f.put(static_cast<char>(saved[saved.size() / 2] ^ 0x5a));
  }
  auto damaged = setup.cli({"check", stamp});
  CHECK(damaged.exit_code == 3);
  CHECK_THAT(damaged.out, Catch::Contains("[DAMAGED] uploads_" + stamp + ".tar.gz"));
  auto no_restore = setup.cli({"restore", stamp, "--files", "--yes"});
  CHECK(no_restore.exit_code == 3);
  CHECK_THAT(no_restore.err, Catch::Contains("archive 'uploads_" + stamp + ".tar.gz' is damaged"));
  test::write_text(archive, saved);
  ::chmod(archive.c_str(), 0600);

  // Pruned with its set: once old and not the newest, the archive and its manifest go too.
  for (const auto& f : {archive, manifest, setup.backups() + "/files_db_" + stamp + ".dump.gz",
                        setup.backups() + "/files_db_" + stamp + ".manifest.json"})
    age_by_days(f, 60);
  auto second = setup.cli({"backup"});
  INFO(second.out << second.err);
  REQUIRE(second.exit_code == 0);
  CHECK_THAT(second.out, Catch::Contains("uploads_" + stamp + ".tar.gz"));
  CHECK_FALSE(path_exists(archive));
  CHECK_FALSE(path_exists(manifest));
  CHECK(path_exists(setup.backups() + "/uploads_" + test::newest_stamp(setup.backups()) + ".tar.gz"));
}

TEST_CASE("an old-script uploads archive is listed, checked and restored as it is", "[pg][files]") {
  if (pg::find_program("tar").empty()) {
    WARN("no tar program: skipped");
    return;
  }
  test::portfolio_database("files_old_db");
  test::BackupSetup setup({"portfolio=files_old_db"}, kFiles);
  ensure_directory(setup.backups(), 0700);
  test::old_script_backup("files_old_db", setup.backups(), "20250120_120000");
  make_uploads(setup.dir);
  REQUIRE(run_tar({"czf", setup.backups() + "/uploads_20250120_120000.tar.gz", "uploads"}, setup.dir.path()).ok());
  test::write_text(setup.dir / "uploads/a.jpg", "changed a");

  auto list = setup.cli({"list"});
  CHECK_THAT(list.out, Catch::Contains("uploads"));
  auto check = setup.cli({"check", "20250120_120000"});
  INFO(check.out << check.err);
  CHECK(check.exit_code == 0);
  CHECK_THAT(check.out, Catch::Contains("no manifest (old-script archive), 2 files"));
  auto restored = setup.cli({"restore", "20250120_120000", "--files", "--yes"});
  INFO(restored.out << restored.err);
  REQUIRE(restored.exit_code == 0);
  CHECK(test::read_text(setup.dir / "uploads/a.jpg") == "original a");
  CHECK(link_target(setup.dir / "uploads/latest.jpg") == "a.jpg");
  CHECK(test::read_text(setup.dir / "uploads_before_restore_20250120_120000/a.jpg") == "changed a");
  CHECK_FALSE(path_exists(setup.dir / "uploads/uploads"));

  // Cut short, the old archive is damage: exit 3, named.
  std::string path = setup.backups() + "/uploads_20250120_120000.tar.gz";
  std::string bytes = test::read_text(path);
  test::write_text(path, bytes.substr(0, bytes.size() / 2));
  auto cut = setup.cli({"check", "20250120_120000"});
  CHECK(cut.exit_code == 3);
  CHECK_THAT(cut.out, Catch::Contains("[DAMAGED] uploads_20250120_120000.tar.gz"));

  // An archive of the folder's contents (tar czf X -C uploads .): its members go in as they are.
  test::old_script_backup("files_old_db", setup.backups(), "20250121_120000");
  REQUIRE(run_tar({"czf", setup.backups() + "/uploads_20250121_120000.tar.gz", "-C", "uploads", "."}, setup.dir.path())
              .ok());
  test::write_text(setup.dir / "uploads/a.jpg", "changed again");
  auto contents = setup.cli({"restore", "20250121_120000", "--files-only", "--yes"});
  INFO(contents.out << contents.err);
  REQUIRE(contents.exit_code == 0);
  CHECK(test::read_text(setup.dir / "uploads/a.jpg") == "original a");
  CHECK(test::read_text(setup.dir / "uploads/portfolio/7/cover.png") == std::string(100000, 'c'));
}

TEST_CASE("a restore of files killed around its swap leaves the old or the new contents", "[pg][files]") {
  test::portfolio_database("files_crash_db");
  test::BackupSetup setup({"portfolio=files_crash_db"}, kFiles);
  make_uploads(setup.dir);
  REQUIRE(setup.cli({"backup"}).exit_code == 0);
  std::string stamp = test::newest_stamp(setup.backups());
  test::write_text(setup.dir / "uploads/a.jpg", "changed a");
  std::string work = setup.dir / ".uploads.auditpitr-restore";

  // Killed after extracting, before the swap: the folder is as it was; the next restore cleans up.
  int pid =
      test::run_cli_until_paused({"-c", setup.config, "restore", stamp, "--files-only", "--yes"}, "files-before-swap");
  REQUIRE(pid > 0);
  test::kill_and_reap(pid);
  CHECK(test::read_text(setup.dir / "uploads/a.jpg") == "changed a");
  CHECK(path_exists(work));

  // Killed right after the exchange: the folder already holds the backup's contents; the undo
  // finishes the swap (the replaced contents to their kept name), then puts them back.
  pid = test::run_cli_until_paused({"-c", setup.config, "restore", stamp, "--files-only", "--yes"}, "files-swapped");
  REQUIRE(pid > 0);
  test::kill_and_reap(pid);
  CHECK(test::read_text(setup.dir / "uploads/a.jpg") == "original a");
  CHECK_FALSE(path_exists(setup.dir / ("uploads_before_restore_" + stamp)));
  auto undo = setup.cli({"restore", "--undo", stamp, "--files", "--yes"});
  INFO(undo.out << undo.err);
  REQUIRE(undo.exit_code == 0);
  CHECK_THAT(undo.out + undo.err, Catch::Contains("finished the swap"));
  CHECK(test::read_text(setup.dir / "uploads/a.jpg") == "changed a");
  CHECK_FALSE(path_exists(work));
}

TEST_CASE("a backup stopped before its archive is partial, and its temporary archive a leftover", "[pg][files]") {
  test::portfolio_database("files_partial_db");
  test::BackupSetup setup({"portfolio=files_partial_db"}, kFiles);
  make_uploads(setup.dir);
  int pid = test::run_cli_until_paused({"-c", setup.config, "backup"}, "files-before-rename");
  REQUIRE(pid > 0);
  test::kill_and_reap(pid);
  std::string stamp = test::newest_stamp(setup.backups());

  auto lj = setup.cli({"list", "--json"});
  simdjson::dom::parser parser;
  auto set = parser.parse(lj.out).value()["backups"].at(0);
  CHECK_FALSE(set["complete"].get_bool().value());
  CHECK(set["missing_archives"].at(0).get_string().value() == "uploads");
  CHECK(parser.parse(lj.out).value()["latest"].is_null());
  auto check = setup.cli({"check", stamp});
  CHECK(check.exit_code == 3);
  CHECK_THAT(check.out, Catch::Contains("[PARTIAL]") && Catch::Contains("before archiving 'uploads'"));
  auto prune = setup.cli({"prune"});
  INFO(prune.out << prune.err);
  CHECK(prune.exit_code == 0);
  CHECK_THAT(prune.out, Catch::Contains("uploads_" + stamp + ".tar.gz.tmp-") &&
                            Catch::Contains("stopped before finishing uploads_" + stamp + ".tar.gz"));
}

TEST_CASE("a [[files]] path that is a link: the folder it points to is restored, the link stays", "[pg][files]") {
  test::portfolio_database("files_link_db");
  test::BackupSetup setup({"portfolio=files_link_db"}, kFiles);
  ensure_directory(setup.dir / "data", 0755);
  make_uploads(setup.dir);
  REQUIRE(::rename((setup.dir / "uploads").c_str(), (setup.dir / "data/uploads").c_str()) == 0);
  REQUIRE(::symlink("data/uploads", (setup.dir / "uploads").c_str()) == 0);
  REQUIRE(setup.cli({"backup"}).exit_code == 0);
  std::string stamp = test::newest_stamp(setup.backups());
  test::write_text(setup.dir / "uploads/a.jpg", "changed a");
  auto restored = setup.cli({"restore", stamp, "--files-only", "--yes"});
  INFO(restored.out << restored.err);
  REQUIRE(restored.exit_code == 0);
  CHECK(link_target(setup.dir / "uploads") == "data/uploads");
  CHECK(test::read_text(setup.dir / "data/uploads/a.jpg") == "original a");
  CHECK(test::read_text(setup.dir / ("data/uploads_before_restore_" + stamp + "/a.jpg")) == "changed a");
}
