// Encryption at rest ([backup] encrypt_to), through the binary against a real server: the dump is an
// age file that gunzip cannot read, the manifest stays plaintext; check verifies what it can without
// the identity and everything with it; restore, export and the catalog need the identity and refuse
// without it (or with a wrong one, or one others may read).
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <fstream>

#include "src/catalog/catalog.h"
#include "src/pg/process_runner.h"
#include "src/util/fs.h"
#include "src/util/sha256.h"
#include "tests/integration/backup_support.h"
#include "verify/manifest.h"

using namespace auditpitr;

namespace {

// age-keygen writes a fresh identity (0600); returns its public key.
std::string make_identity(const std::string& path) {
  pg::PosixProcessRunner runner;
  pg::Command keygen;
  keygen.program = "age-keygen";
  keygen.args = {"-o", path};
  auto made = runner.run(keygen);
  INFO(made.stderr_tail);
  REQUIRE(made.ok());
  pg::Command public_key;
  public_key.program = "age-keygen";
  public_key.args = {"-y", path};
  public_key.capture_stdout = true;
  auto r = runner.run(public_key);
  REQUIRE(r.ok());
  return r.stdout_text.substr(0, r.stdout_text.find('\n'));
}

int mode_of(const std::string& path) {
  struct stat st {};
  REQUIRE(::stat(path.c_str(), &st) == 0);
  return st.st_mode & 0777;
}

std::string link_target(const std::string& link) {
  char target[4096];
  ssize_t n = ::readlink(link.c_str(), target, sizeof target - 1);
  return n > 0 ? std::string(target, static_cast<std::size_t>(n)) : "";
}

bool gunzip_reads(const std::string& path) {
  pg::PosixProcessRunner runner;
  pg::Command gunzip;
  gunzip.program = "gunzip";
  gunzip.args = {"-t", path};
  return runner.run(gunzip).ok();
}

// Changes one byte in the middle of a file (a bit rotted on the copy that left the machine).
void flip_byte(const std::string& path) {
  std::string text = test::read_text(path);
  text[text.size() / 2] = static_cast<char>(text[text.size() / 2] ^ 0x20);
  std::ofstream(path, std::ios::binary | std::ios::trunc) << text;
}

}  // namespace

TEST_CASE("an encrypted backup is checked and restored with the identity, and refused without it",
          "[pg][backup][encryption]") {
  if (pg::find_program("age").empty()) FAIL("the 'age' program is missing: scripts/install-deps installs it");
  auto db = test::portfolio_database("enc_db");
  test::TempDir keys;
  std::string key = keys / "key.txt", other = keys / "other.txt";
  std::string recipient = make_identity(key);
  make_identity(other);
  REQUIRE(recipient.rfind("age1", 0) == 0);
  test::BackupSetup setup({"portfolio=enc_db"}, "encrypt_to = [\"" + recipient + "\"]");

  auto r = setup.cli({"backup", "--json"});
  INFO(r.out << r.err);
  REQUIRE(r.exit_code == 0);
  std::string stamp = test::newest_stamp(setup.backups());
  std::string dump = setup.backups() + "/enc_db_" + stamp + ".dump.gz.age";
  std::string manifest_path = setup.backups() + "/enc_db_" + stamp + ".manifest.json";
  REQUIRE(path_exists(dump));
  CHECK_FALSE(path_exists(setup.backups() + "/enc_db_" + stamp + ".dump.gz"));
  CHECK(mode_of(dump) == 0600);
  CHECK(test::read_text(dump).rfind("age-encryption.org/v1\n", 0) == 0);
  CHECK_FALSE(gunzip_reads(dump));  // never readable as gzip: the old scripts cannot mistake it
  CHECK(link_target(setup.backups() + "/enc_db_latest.dump.gz.age") == "enc_db_" + stamp + ".dump.gz.age");
  CHECK_FALSE(path_exists(setup.backups() + "/enc_db_latest.dump.gz"));

  // The manifest: plaintext, records the encryption and the sha256 of the file as it is on disk.
  auto manifest = verify::load_manifest(manifest_path);
  CHECK(manifest.encryption.method == "age");
  CHECK(manifest.encryption.recipients == std::vector<std::string>{recipient});
  CHECK(manifest.file_sha256 == sha256_of_file(dump));
  CHECK(manifest.file_size == test::read_text(dump).size());
  CHECK(manifest.encryption.gzip_size > 0);
  CHECK(manifest.run_databases == std::vector<std::string>{"enc_db"});
  CHECK(manifest.total_rows() > 0);

  SECTION("check without the identity verifies the file against the manifest and says what it could not") {
    auto check = setup.cli({"check", "latest"});
    INFO(check.out << check.err);
    CHECK(check.exit_code == 0);
    CHECK_THAT(check.out, Catch::Contains("age header ok") && Catch::Contains("sha256 matches the manifest"));
    CHECK_THAT(check.out + check.err, Catch::Contains("were not verified") && Catch::Contains("identity_file"));
    auto json = setup.cli({"check", "latest", "--json"});
    CHECK_THAT(json.out,
               Catch::Contains("\"contents_verified\": false") || Catch::Contains("\"contents_verified\":false"));
    CHECK_THAT(json.out, Catch::Contains("\"encrypted\": true") || Catch::Contains("\"encrypted\":true"));

    flip_byte(dump);
    auto damaged = setup.cli({"check", "latest"});
    CHECK(damaged.exit_code == 3);
    CHECK_THAT(damaged.out, Catch::Contains("does not match the manifest"));
    auto damaged_with_key = setup.cli({"--identity", key, "check", "latest"});
    CHECK(damaged_with_key.exit_code == 3);
    CHECK_THAT(damaged_with_key.out, Catch::Contains("failed to decrypt and authenticate"));
  }

  SECTION("check with the identity decrypts and verifies the contents") {
    auto check = setup.cli({"check", "latest", "--identity", key});
    INFO(check.out << check.err);
    CHECK(check.exit_code == 0);
    CHECK_THAT(check.out, Catch::Contains("decrypted (age), gzip CRC ok") && Catch::Contains("is sound"));
    auto wrong = setup.cli({"check", "latest", "--identity", other});
    INFO(wrong.out << wrong.err);
    CHECK(wrong.exit_code == 2);
    CHECK_THAT(wrong.err, Catch::Contains("cannot decrypt") && Catch::Contains("identity_file"));
  }

  SECTION("restore needs the identity: refused without it, with a wrong one, with one others may read") {
    test::execute(db, "UPDATE portfolios SET title = 'later' WHERE id = 1");
    auto without = setup.cli({"restore", "latest", "--yes"});
    INFO(without.out << without.err);
    CHECK(without.exit_code == 2);
    CHECK_THAT(without.err, Catch::Contains("identity_file") && Catch::Contains("--identity"));
    auto wrong = setup.cli({"restore", "latest", "--yes", "--identity", other});
    CHECK(wrong.exit_code == 2);
    CHECK_THAT(wrong.err, Catch::Contains("cannot decrypt"));
    REQUIRE(::chmod(key.c_str(), 0644) == 0);
    auto exposed = setup.cli({"restore", "latest", "--yes", "--identity", key});
    CHECK(exposed.exit_code == 4);
    CHECK_THAT(exposed.err, Catch::Contains("chmod 600"));
    REQUIRE(::chmod(key.c_str(), 0600) == 0);
    CHECK(test::query_value(db, "SELECT title FROM portfolios WHERE id = 1") == "later");

    auto restored = setup.cli({"restore", "latest", "--yes", "--identity", key});
    INFO(restored.out << restored.err);
    REQUIRE(restored.exit_code == 0);
    CHECK(test::query_value(db, "SELECT title FROM portfolios WHERE id = 1") == "Design Portfolio");
  }

  SECTION("[backup] identity_file serves every reader: export decrypts with it") {
    test::BackupSetup with_identity({"portfolio=enc_db"},
                                    "encrypt_to = [\"" + recipient + "\"]\nidentity_file = \"" + key + "\"");
    REQUIRE(with_identity.cli({"backup"}).exit_code == 0);
    std::string sql = with_identity.dir / "out.sql";
    auto exported = with_identity.cli({"export", "latest", "--sql", sql});
    INFO(exported.out << exported.err);
    CHECK(exported.exit_code == 0);
    CHECK_THAT(test::read_text(sql), Catch::Contains("Design Portfolio"));
    auto refused = setup.cli({"export", "latest", "--sql", sql + "2"});
    CHECK(refused.exit_code == 2);
    CHECK_FALSE(path_exists(sql + "2"));
  }
}

TEST_CASE("switching encryption on removes the plain latest link; a stopped encrypted run is partial",
          "[pg][backup][encryption]") {
  if (pg::find_program("age").empty()) FAIL("the 'age' program is missing: scripts/install-deps installs it");
  test::portfolio_database("enc_a");
  test::portfolio_database("enc_b");
  test::TempDir keys;
  std::string recipient = make_identity(keys / "key.txt");
  test::BackupSetup plain({"a=enc_a", "b=enc_b"});
  REQUIRE(plain.cli({"backup"}).exit_code == 0);
  std::string plain_stamp = test::newest_stamp(plain.backups());
  CHECK(link_target(plain.backups() + "/enc_a_latest.dump.gz") == "enc_a_" + plain_stamp + ".dump.gz");

  // The same folder, now encrypted.
  std::string text = test::read_text(plain.config);
  text.replace(text.find("retention_days"), 0, "encrypt_to = [\"" + recipient + "\"]\n");
  test::write_text(plain.config, text);
  REQUIRE(plain.cli({"backup"}).exit_code == 0);
  std::string encrypted_stamp = test::newest_stamp(plain.backups());
  CHECK_FALSE(path_exists(plain.backups() + "/enc_a_latest.dump.gz"));  // would name an older backup "latest"
  CHECK(link_target(plain.backups() + "/enc_a_latest.dump.gz.age") == "enc_a_" + encrypted_stamp + ".dump.gz.age");

  // Stopped after the first database: the run's databases come from the manifest (the gzip header is
  // encrypted), so the set is partial and latest stays whole.
  int pid = test::run_cli_until_paused({"-c", plain.config, "backup"}, "backup-database-done");
  REQUIRE(pid > 0);
  test::kill_and_reap(pid);
  Catalog c = Catalog::scan(plain.backups());
  REQUIRE(c.sets().size() == 3);
  CHECK(c.sets().front().dumps.front().encrypted);
  CHECK(c.sets().front().missing_databases() == std::vector<std::string>{"enc_b"});
  CHECK(c.latest_stamp({"enc_a", "enc_b"}) == encrypted_stamp);
  auto list = plain.cli({"list"});
  CHECK_THAT(list.out, Catch::Contains("partial: the run stopped before backing up 'enc_b'"));
  CHECK_THAT(list.out, Catch::Contains("(age)"));
  CHECK(c.unrecognised().empty());

  // prune knows the encrypted files and links as its own.
  auto prune = plain.cli({"prune", "--dry-run"});
  INFO(prune.out << prune.err);
  CHECK(prune.exit_code == 0);
  CHECK(prune.out.find("not a file auditpitr writes") == std::string::npos);
}

TEST_CASE("an encrypted set's file archive is encrypted too: checked with and without the identity, restored with it",
          "[pg][backup][encryption][files]") {
  if (pg::find_program("age").empty()) FAIL("the 'age' program is missing: scripts/install-deps installs it");
  test::portfolio_database("enc_files");
  test::TempDir keys;
  std::string key = keys / "key.txt";
  std::string recipient = make_identity(key);
  test::BackupSetup setup({"portfolio=enc_files"},
                          "encrypt_to = [\"" + recipient + "\"]\n[[files]]\nname = \"uploads\"\npath = \"uploads\"\n");
  std::string uploads = setup.dir / "uploads";
  REQUIRE(::mkdir(uploads.c_str(), 0755) == 0);
  test::write_text(uploads + "/portrait.jpg", "not really a jpeg");
  auto r = setup.cli({"backup"});
  INFO(r.out << r.err);
  REQUIRE(r.exit_code == 0);
  std::string stamp = test::newest_stamp(setup.backups());
  std::string archive = setup.backups() + "/uploads_" + stamp + ".tar.gz.age";
  REQUIRE(path_exists(archive));
  CHECK_FALSE(path_exists(setup.backups() + "/uploads_" + stamp + ".tar.gz"));
  CHECK(mode_of(archive) == 0600);
  CHECK_FALSE(gunzip_reads(archive));
  CHECK(test::read_text(archive).find("not really a jpeg") == std::string::npos);
  std::string manifest = test::read_text(setup.backups() + "/uploads_" + stamp + ".tar.gz.manifest.json");
  CHECK_THAT(manifest, Catch::Contains("\"method\"") && Catch::Contains(recipient));
  CHECK_THAT(manifest, Catch::Contains(sha256_of_file(archive)));

  auto unverified = setup.cli({"check", "latest"});
  INFO(unverified.out << unverified.err);
  CHECK(unverified.exit_code == 0);
  CHECK_THAT(unverified.out, Catch::Contains("uploads_" + stamp + ".tar.gz.age: age header ok"));
  CHECK_THAT(unverified.out + unverified.err, Catch::Contains("(gzip CRCs, the tar stream, its file count) were not"));
  auto verified = setup.cli({"check", "latest", "--identity", key});
  INFO(verified.out << verified.err);
  CHECK(verified.exit_code == 0);
  CHECK_THAT(verified.out, Catch::Contains("uploads_" + stamp + ".tar.gz.age: decrypted (age), gzip CRC ok"));

  test::write_text(uploads + "/portrait.jpg", "changed after the backup");
  auto refused = setup.cli({"restore", "latest", "--files", "--yes"});
  CHECK(refused.exit_code == 2);
  CHECK_THAT(refused.err, Catch::Contains("identity_file"));
  CHECK(test::read_text(uploads + "/portrait.jpg") == "changed after the backup");
  auto restored = setup.cli({"restore", "latest", "--files", "--yes", "--identity", key});
  INFO(restored.out << restored.err);
  REQUIRE(restored.exit_code == 0);
  CHECK(test::read_text(uploads + "/portrait.jpg") == "not really a jpeg");
}
