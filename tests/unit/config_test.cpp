// Configuration: shape, defaults, relative paths, and errors that name file, line and key.
#include "src/config/config.h"

#include <catch2/catch.hpp>

#include "replay/mapping/mapping_rules.h"
#include "src/error.h"
#include "tests/support/temp_dir.h"

using namespace auditpitr;

namespace {

const char* kValid = R"(
[backup]
dir = "backups"
retention_days = 14
keep_daily = 7

[[databases]]
alias = "portfolio"
dbname = "portfolio_db"
conninfo = "host=localhost port=5432 user=portfolio_user"

[[databases]]
alias = "authentik"
dbname = "authentik"

[hooks]
pre_restore = ["systemctl", "stop", "portfolio"]
)";

std::string error_of(const std::string& text) {
  try {
    parse_config(text, "/etc/app/auditpitr.toml");
  } catch (const Error& e) {
    CHECK(e.kind() == ErrorKind::usage);
    return e.what();
  }
  FAIL("no error");
  return "";
}

}  // namespace

TEST_CASE("a valid configuration is read with relative paths resolved", "[config]") {
  Config c = parse_config(kValid, "/etc/app/auditpitr.toml");
  CHECK(c.backup_dir == "/etc/app/backups");
  CHECK(c.retention.retention_days == 14);
  CHECK(c.retention.keep_daily == 7);
  REQUIRE(c.databases.size() == 2);
  CHECK(c.database("authentik").dbname == "authentik");
  CHECK(c.pre_restore_hook == std::vector<std::string>{"systemctl", "stop", "portfolio"});
  CHECK(c.select({}).size() == 2);
  CHECK(c.select({"all"}).size() == 2);
  CHECK(c.select({"authentik"}).front()->alias == "authentik");
}

TEST_CASE("[tools] exec is an argv prefix; bin_dir is then a folder inside the container", "[config]") {
  std::string base = "[backup]\ndir = \"b\"\n[[databases]]\ndbname = \"x\"\n[tools]\n";
  Config c = parse_config(base + "exec = [\"podman\", \"exec\", \"-i\", \"pg\"]\nbin_dir = \"pgbin\"\n",
                          "/etc/app/auditpitr.toml");
  CHECK(c.pg_exec == std::vector<std::string>{"podman", "exec", "-i", "pg"});
  CHECK(c.pg_bin_dir == "pgbin");
  CHECK(parse_config(base + "bin_dir = \"pgbin\"\n", "/etc/app/auditpitr.toml").pg_bin_dir == "/etc/app/pgbin");
  CHECK_THAT(error_of(base + "exec = \"podman exec -i pg\"\n"), Catch::Contains("list of strings"));
  CHECK_THAT(error_of(base + "exek = [\"podman\"]\n"), Catch::Contains("unknown key 'exek'"));
}

TEST_CASE("[backup] encrypt_to holds age recipients and identity_file a path; a secret key is refused unechoed",
          "[config]") {
  const std::string key = "age1ql3z7hjy54pw3hyww5ayyfg7zqgvc7w3j2elw8zmrj2kg5sfn9aqmcac8p";
  std::string dbs = "[[databases]]\ndbname = \"x\"\n";
  Config c = parse_config("[backup]\nencrypt_to = [\"" + key + "\", \"ssh-ed25519 AAAAC3Nz a@b\"]\n" +
                              "identity_file = \"keys/backup.txt\"\n" + dbs,
                          "/etc/app/auditpitr.toml");
  CHECK(c.encrypt_to == std::vector<std::string>{key, "ssh-ed25519 AAAAC3Nz a@b"});
  CHECK(c.identity_file == "/etc/app/keys/backup.txt");
  CHECK_THAT(c.identity_origin, Catch::Contains("[backup] identity_file"));
  CHECK(parse_config("[backup]\n" + dbs, "/etc/app/auditpitr.toml").encrypt_to.empty());
  CHECK_THAT(error_of("[backup]\nencrypt_to = [\"bogus\"]\n" + dbs),
             Catch::Contains("auditpitr.toml:2") && Catch::Contains("not an age recipient"));
  CHECK_THAT(error_of("[backup]\nencrypt_to = \"" + key + "\"\n" + dbs), Catch::Contains("must be a list"));
  const std::string secret = "AGE-SECRET-KEY-1QQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQ7SECRET";
  std::string refused = error_of("[backup]\nencrypt_to = [\"" + secret + "\"]\n" + dbs);
  CHECK_THAT(refused, Catch::Contains("secret key"));
  CHECK(refused.find("7SECRET") == std::string::npos);
  CHECK(refused.find("1QQQ") == std::string::npos);
}

TEST_CASE("configuration errors name the file, the line and the key", "[config]") {
  CHECK_THAT(error_of("[backup]\nretention_dayz = 3\n[[databases]]\ndbname = \"x\"\n"),
             Catch::Contains("auditpitr.toml:2") && Catch::Contains("unknown key 'retention_dayz'"));
  CHECK_THAT(error_of("[backup]\nretention_days = \"thirty\"\n[[databases]]\ndbname = \"x\"\n"),
             Catch::Contains("auditpitr.toml:2") && Catch::Contains("'retention_days'"));
  CHECK_THAT(error_of("[backup]\ndir = \"b\"\n"), Catch::Contains("no [[databases]]"));
  CHECK_THAT(error_of("[backup\n"), Catch::Contains("auditpitr.toml:1"));
  CHECK_THAT(error_of("[backup]\n[[databases]]\ndbname = \"a\"\n[[databases]]\ndbname = \"a\"\n"),
             Catch::Contains("used twice"));
  CHECK_THAT(error_of("[backup]\n[[databases]]\ndbname = \"a\"\nconninfo = \"host='unclosed\"\n"),
             Catch::Contains("auditpitr.toml:4") && Catch::Contains("invalid connection string"));
}

// One reader for both files: a failure to read keeps its hint (it was dropped, leaving only the message).
TEST_CASE("a configuration or rules file that cannot be read is a usage error keeping the reason's hint", "[config]") {
  test::TempDir dir;
  for (int rules = 0; rules < 2; ++rules) {
    INFO((rules ? "mapping rules" : "configuration"));
    try {
      if (rules) replay::load_mapping_rules(dir.path());
      else load_config(dir.path());
      FAIL("no error");
    } catch (const Error& e) {
      CHECK(e.kind() == ErrorKind::usage);
      CHECK_THAT(e.what(), Catch::Contains(dir.path()) && Catch::Contains("is a folder"));
      CHECK(e.hint() == "name the file in it");
    }
  }
  try {
    replay::load_mapping_rules(dir / "nope.toml");
    FAIL("no error");
  } catch (const Error& e) {
    CHECK(e.kind() == ErrorKind::usage);
    CHECK_THAT(e.what(), Catch::Contains("mapping rules file") && Catch::Contains("not found"));
    CHECK_THAT(e.hint(), Catch::Contains("[audit] mapping"));
  }
}

TEST_CASE("a missing configuration file is a usage error naming it", "[config]") {
  test::TempDir dir;
  try {
    load_config(dir / "nope.toml");
    FAIL("no error");
  } catch (const Error& e) {
    CHECK(e.kind() == ErrorKind::usage);
    CHECK_THAT(e.what(), Catch::Contains("nope.toml") && Catch::Contains("not found"));
  }
}

TEST_CASE("an unknown alias lists the known ones", "[config]") {
  Config c = parse_config(kValid, "/etc/app/auditpitr.toml");
  try {
    c.database("portfolo");
    FAIL("no error");
  } catch (const Error& e) {
    CHECK(e.kind() == ErrorKind::usage);
    CHECK_THAT(e.hint(), Catch::Contains("portfolio") && Catch::Contains("authentik"));
  }
}

TEST_CASE("a database name or alias with a control character is refused at its line", "[config]") {
  // Such a name backs up, but the catalog cannot read the file name back: list, check and restore
  // would find no backup of it.
  CHECK_THAT(error_of("[backup]\n[[databases]]\ndbname = \"app\\ndb\"\n"), Catch::Contains("auditpitr.toml:3") &&
                                                                               Catch::Contains("dbname 'app\\x0adb'") &&
                                                                               Catch::Contains("control character"));
  CHECK_THAT(error_of("[backup]\n[[databases]]\ndbname = \"app\\tdb\"\n"), Catch::Contains("dbname 'app\\x09db'"));
  CHECK_THAT(error_of("[backup]\n[[databases]]\ndbname = \"app\"\nalias = \"a\\u007fb\"\n"),
             Catch::Contains("auditpitr.toml:4") && Catch::Contains("alias 'a\\x7fb'") &&
                 Catch::Contains("control character"));
  CHECK(parse_config("[backup]\n[[databases]]\ndbname = \"Ünïcode db\"\n", "/x.toml").databases.front().dbname ==
        "Ünïcode db");
}

TEST_CASE("absurd nesting or size is refused before toml++ parses it", "[config]") {
  // toml++ recurses once per part of a dotted header: tens of thousands overflow the stack (exit 139).
  std::string header = "[a";
  for (int i = 0; i < 50000; ++i) header += ".a";
  header += "]\n";
  CHECK_THAT(error_of("[backup]\n" + header), Catch::Contains("auditpitr.toml:2") && Catch::Contains("nest"));
  CHECK_THAT(error_of(std::string(20000, '[') + "\n"), Catch::Contains("auditpitr.toml:1") && Catch::Contains("nest"));
  CHECK_THAT(error_of("[backup]\nx = " + std::string(20000, '[') + "\n"), Catch::Contains("nest"));
  CHECK_THAT(error_of("# " + std::string(2 * 1024 * 1024, 'x') + "\n"), Catch::Contains("too large"));
  // Dots in strings and comments are not nesting.
  std::string dots(500, '.');
  CHECK(parse_config("[backup]\ndir = \"" + dots + "\" # " + dots + "\n[[databases]]\ndbname = 'x." + dots + "'\n",
                     "/x.toml")
            .databases.size() == 1);
}

TEST_CASE("[[files]] names a folder archived with each backup; its name must be a safe prefix", "[config]") {
  std::string text = std::string(kValid) + "\n[[files]]\nname = \"uploads\"\npath = \"uploads/\"\n";
  Config c = parse_config(text, "/etc/app/auditpitr.toml");
  REQUIRE(c.files.size() == 1);
  CHECK(c.files[0].name == "uploads");
  CHECK(c.files[0].path == "/etc/app/uploads");
  CHECK(c.files_named("uploads") == &c.files[0]);
  CHECK(c.files_named("static") == nullptr);
  CHECK_THAT(error_of(std::string(kValid) + "\n[[files]]\nname = \"../up\"\npath = \"uploads\"\n"),
             Catch::Contains("cannot be used as an archive file prefix"));
  CHECK_THAT(error_of(std::string(kValid) + "\n[[files]]\nname = \"authentik\"\npath = \"x\"\n"),
             Catch::Contains("also a database's dbname"));
  CHECK_THAT(error_of(std::string(kValid) + "\n[[files]]\nname = \"up\"\n"), Catch::Contains("missing key 'path'"));
}

TEST_CASE("[status] limits are durations with a unit, or 0 for off", "[config]") {
  Config plain = parse_config(kValid, "/etc/app/auditpitr.toml");
  CHECK(plain.status.max_backup_age_seconds == 26 * 3600);
  CHECK(plain.status.max_log_lag_seconds == 48 * 3600);
  Config c = parse_config(std::string(kValid) + "[status]\nmax_backup_age = \"90m\"\nmax_log_lag = \"0\"\n",
                          "/etc/app/auditpitr.toml");
  CHECK(c.status.max_backup_age_seconds == 90 * 60);
  CHECK(c.status.max_log_lag_seconds == 0);
  CHECK(parse_duration_setting("2d", "x") == 2 * 86400);
  CHECK(parse_duration_setting("45s", "x") == 45);
  CHECK_THAT(error_of(std::string(kValid) + "[status]\nmax_backup_age = \"26 hours\"\n"),
             Catch::Contains("auditpitr.toml:19': 'max_backup_age'") &&
                 Catch::Contains("'max_backup_age' in [status] is not a duration: '26 hours'"));
  CHECK_THAT(error_of(std::string(kValid) + "[status]\nmax_log_lag = 26\n"),
             Catch::Contains("must be a duration in quotes"));
  CHECK_THAT(error_of(std::string(kValid) + "[status]\nmax_age = \"1h\"\n"), Catch::Contains("max_age"));
}
