// The command line as a new user meets it, through the built binary: every parse error in the
// house format (auditpitr: … / HINT: …, exit 2), global options before or after the command.
#include <catch2/catch.hpp>
#include <cstdlib>
#include <map>
#include <sstream>

#include "tests/support/cli_runner.h"
#include "tests/support/temp_dir.h"
#include "verify/manifest.h"

using namespace auditpitr;
using test::CliResult;

namespace {

CliResult run(const std::vector<std::string>& args) {
  CliResult r = test::run_cli(args);
  UNSCOPED_INFO("exit " << r.exit_code << "\nstdout:\n" << r.out << "\nstderr:\n" << r.err);
  return r;
}

// A usage error in the house format: the message first, a hint, nothing on stdout, exit 2.
void check_usage_error(const CliResult& r, const std::string& message, const std::string& hint) {
  CHECK(r.exit_code == 2);
  CHECK(r.out.empty());
  CHECK(r.err.rfind("auditpitr: " + message, 0) == 0);
  CHECK_THAT(r.err, Catch::Contains("\nHINT: ") && Catch::Contains(hint));
  CHECK_THAT(r.err, !Catch::Contains("Run with --help"));
}

// A configuration with one database and an empty backup folder: enough for list.
struct EmptyFolder {
  test::TempDir dir;
  std::string config = dir / "app.toml";
  EmptyFolder() {
    test::write_text(config,
                     "[backup]\ndir = \"backups\"\n[[databases]]\nalias = \"portfolio\"\ndbname = \"portfolio_db\"\n");
  }
};

}  // namespace

TEST_CASE("cli: a misspelt command is named, with the command it resembles", "[cli]") {
  check_usage_error(run({"bakup"}), "unknown command 'bakup'; did you mean 'backup'?", "auditpitr --help");
  check_usage_error(run({"frobnicate"}), "unknown command 'frobnicate'", "auditpitr --help");
  check_usage_error(run({}), "no command given", "auditpitr --help");
}

TEST_CASE("cli: unknown options and stray arguments are named in the order typed", "[cli]") {
  check_usage_error(run({"backup", "--dbb", "x"}),
                    "unknown option '--dbb' for 'auditpitr backup'; did you mean '--db'?", "'auditpitr backup --help'");
  check_usage_error(run({"backup", "x"}), "unexpected argument 'x' for 'auditpitr backup'",
                    "takes no arguments besides its options");
  check_usage_error(run({"restore", "20250101_000000", "extra"}), "unexpected argument 'extra' for 'auditpitr restore'",
                    "takes one STAMP");
  check_usage_error(run({"backup", "list"}), "unexpected argument 'list' after 'auditpitr backup'",
                    "one command at a time");
  check_usage_error(run({"backup", "--db"}), "option --db of 'auditpitr backup' needs a value", "--help");
  check_usage_error(run({"restore", "latest", "--jobs", "x"}),
                    "invalid value 'x' for option --jobs of 'auditpitr restore'", "--help");
}

TEST_CASE("cli: a missing STAMP is said clearly", "[cli]") {
  for (const char* command : {"restore", "check", "export"}) {
    CliResult r = run({command});
    check_usage_error(r, std::string("missing STAMP for 'auditpitr ") + command + "'",
                      "'auditpitr list' shows the stamps");
  }
  CHECK_THAT(run({"check", "--help"}).out, Catch::Contains("Usage: auditpitr check [OPTIONS] STAMP"));
}

TEST_CASE("cli: -c, -v and --json work before and after the command", "[cli]") {
  EmptyFolder f;
  for (const auto& args : std::vector<std::vector<std::string>>{{"-c", f.config, "--json", "list"},
                                                                {"list", "-c", f.config, "--json"},
                                                                {"--json", "list", "--config", f.config},
                                                                {"-v", "list", "--json", "-c", f.config}}) {
    CliResult r = run(args);
    CHECK(r.exit_code == 0);
    CHECK(r.out.rfind("{", 0) == 0);
  }
  CliResult missing = run({"list", "-c", f.dir / "none.toml", "-v"});
  CHECK(missing.exit_code == 2);
  CHECK_THAT(missing.err, Catch::Contains("none.toml"));
  CliResult demo = run({"--json", "demo"});
  CHECK(demo.exit_code == 2);
  CHECK_THAT(demo.err, Catch::StartsWith("auditpitr: 'auditpitr demo' has no JSON output"));
}

namespace {

CliResult list_with(const test::TempDir& dir, const std::string& toml) {
  test::write_text(dir / "app.toml", toml);
  return run({"list", "-c", dir / "app.toml"});
}

const char* kOneDatabase =
    "[backup]\ndir = \"backups\"\n[[databases]]\nalias = \"portfolio\"\ndbname = \"portfolio_db\"\n";

}  // namespace

TEST_CASE("cli: configuration mistakes are named at file:line with what was meant", "[cli][config]") {
  test::TempDir dir;
  std::string at = "invalid configuration '" + (dir / "app.toml");
  CliResult quote = list_with(dir, "[backup]\ndir = \"backups\n[[databases]]\ndbname = \"x\"\n");
  check_usage_error(quote, at + ":2': unterminated string (the closing quote is missing)", "docs/configuration.md");
  CliResult key = list_with(dir, std::string(kOneDatabase) + "[restore]\nfree_connection_percent = 3\n");
  check_usage_error(
      key, at + ":7': unknown key 'free_connection_percent' in [restore]; did you mean 'free_connections_percent'?",
      "known keys there");
  CliResult alias = list_with(dir, std::string(kOneDatabase) + "[audit]\ndatabase = \"portfolio_db\"\n");
  check_usage_error(alias,
                    at + ":7': unknown database alias 'portfolio_db' in [audit]; did you mean alias 'portfolio'?",
                    "portfolio");
}

TEST_CASE("cli: a password in a malformed connection URI is masked in the message", "[cli][config]") {
  test::TempDir dir;
  CliResult r = list_with(dir, std::string(kOneDatabase) + "conninfo = \"postgresql://app:s3cret@[db/x\"\n");
  CHECK(r.exit_code == 2);
  CHECK_THAT(r.err, Catch::Contains("invalid connection string") && Catch::Contains("postgresql://app:****@[db/x"));
  CHECK_THAT(r.err + r.out, !Catch::Contains("s3cret"));
}

TEST_CASE("cli: list without a complete backup shows no example without a stamp", "[cli][list]") {
  test::TempDir dir;
  test::write_text(dir / "app.toml",
                   std::string(kOneDatabase) + "[[databases]]\nalias = \"other\"\ndbname = \"other_db\"\n");
  CliResult none = run({"list", "-c", dir / "app.toml"});
  CHECK(none.exit_code == 0);
  CHECK_THAT(none.out, Catch::Contains("No backups yet") && !Catch::Contains("restore latest"));
  std::string folder = dir / "backups";
  REQUIRE(
      system(("mkdir -p '" + folder + "' && printf x | gzip > '" + folder + "/portfolio_db_20250101_000000.dump.gz'")
                 .c_str()) == 0);
  CliResult partial = run({"list", "-c", dir / "app.toml"});
  CHECK(partial.exit_code == 0);
  CHECK_THAT(partial.out, Catch::Contains("20250101_000000") && Catch::Contains("make one with 'auditpitr -c "));
  CHECK_THAT(partial.out, !Catch::Contains("Usage Examples") && !Catch::Contains("restore latest") &&
                              !Catch::Contains("<stamp>") && !Catch::Contains("auditpitr restore  "));
}

TEST_CASE("cli: a backup's file name and LATEST stand for a stamp; no backup at all is not a usage error", "[cli]") {
  test::TempDir dir;
  test::write_text(dir / "app.toml", kOneDatabase);
  std::string folder = dir / "backups";
  CliResult none = run({"check", "LATEST", "-c", dir / "app.toml"});
  CHECK(none.exit_code == 1);
  CHECK_THAT(none.err, Catch::Contains("can be 'latest'") && Catch::Contains("there is none"));
  REQUIRE(
      system(("mkdir -p '" + folder + "' && printf x | gzip > '" + folder + "/portfolio_db_20250101_000000.dump.gz'")
                 .c_str()) == 0);
  CliResult by_file = run({"check", "backups/portfolio_db_20250101_000000.dump.gz", "-c", dir / "app.toml"});
  CHECK(by_file.exit_code == 3);  // found and checked: a gzip of one byte is no dump
  CHECK_THAT(by_file.out, Catch::Contains("Backup 20250101_000000 is damaged"));
  CHECK_THAT(by_file.err, !Catch::Contains("is not a backup stamp"));
}

TEST_CASE("cli: help lists the commands in the order a user needs them, each with examples", "[cli][help]") {
  CliResult main_help = run({"--help"});
  CHECK(main_help.exit_code == 0);
  std::size_t last = 0;
  for (const char* command : {"backup", "list", "check", "restore", "recover", "prune", "export", "demo"}) {
    std::size_t at = main_help.out.find(std::string("\n  ") + command + " ");
    CHECK(at != std::string::npos);
    CHECK(at > last);
    last = at;
  }
  CHECK_THAT(main_help.out, Catch::Contains("Exit codes:"));
  // The words the docs and the hints use: COMMAND, FILE.
  CHECK_THAT(main_help.out, Catch::Contains("Usage: auditpitr [OPTIONS] COMMAND\n") &&
                                Catch::Contains("\nCommands:\n") && Catch::Contains("-c,--config FILE"));
  CHECK_THAT(main_help.out, !Catch::Contains("SUBCOMMAND") && !Catch::Contains("Subcommands"));
  for (const char* command : {"backup", "list", "check", "restore", "recover", "verify", "analyze", "replay", "kept",
                              "drill", "prune", "export", "demo", "history", "changes", "schedule"}) {
    CliResult help = run({command, "--help"});
    CHECK(help.exit_code == 0);
    CHECK_THAT(help.out, Catch::Contains("Example") && !Catch::Contains("Exit codes:"));
    CHECK_THAT(help.out, Catch::Contains("-c,--config FILE"));  // the options it inherits are named too
  }
}

TEST_CASE("cli: prune --dry-run writes nothing: a missing folder is not created", "[cli][prune]") {
  test::TempDir dir;
  test::write_text(dir / "app.toml", kOneDatabase);
  CliResult r = run({"prune", "--dry-run", "-c", dir / "app.toml"});
  CHECK(r.exit_code == 0);
  CHECK_THAT(r.out, Catch::Contains("Would delete 0 old backup(s)"));
  CHECK(system(("test ! -e '" + (dir / "backups") + "'").c_str()) == 0);
}

TEST_CASE("cli: list --json says null for what is absent, RFC 3339 times and each file's alias", "[cli][list][json]") {
  test::TempDir dir;
  test::write_text(dir / "app.toml",
                   std::string(kOneDatabase) + "[[databases]]\nalias = \"other\"\ndbname = \"other_db\"\n");
  std::string folder = dir / "backups";
  REQUIRE(
      system(("mkdir -p '" + folder + "' && printf x | gzip > '" + folder + "/portfolio_db_20250101_000000.dump.gz'")
                 .c_str()) == 0);
  CliResult r = run({"list", "--json", "-c", dir / "app.toml"});
  CHECK(r.exit_code == 0);
  CHECK_THAT(r.out, Catch::Contains("\"latest\": null") && Catch::Contains("\"alias\": \"portfolio\""));
  CHECK_THAT(r.out, Catch::Matches(R"([\s\S]*"created": "2025-01-01T00:00:00[+-]\d\d:\d\d"[\s\S]*)"));
}

namespace {

// A configuration whose server cannot be reached (no socket there), with an [audit] section, and a
// backup 20250101_000000 of portfolio_db whose manifest describes a table 'portfolios': analyze
// --backup reads it without a server. The dump itself is one gzip'd byte (analyze never opens it).
struct AuditWithoutServer {
  test::TempDir dir;
  std::string config = dir / "app.toml";
  explicit AuditWithoutServer(const std::string& create_log, const std::string& mapping = {}) {
    test::write_text(config,
                     "[backup]\ndir = \"backups\"\n[[databases]]\nalias = \"portfolio\"\n"
                     "dbname = \"portfolio_db\"\nconninfo = \"host=" +
                         (dir / "no-server") +
                         " port=5432 user=nobody connect_timeout=2\"\n"
                         "[audit]\ndir = \"audit\"\ndatabase = \"portfolio\"\n" +
                         (mapping.empty() ? "" : "mapping = \"mapping.toml\"\n"));
    if (!mapping.empty()) test::write_text(dir / "mapping.toml", mapping);
    REQUIRE(system(("mkdir -p '" + (dir / "backups") + "' '" + (dir / "audit") + "' && printf x | gzip > '" +
                    (dir / "backups/portfolio_db_20250101_000000.dump.gz") + "'")
                       .c_str()) == 0);
    verify::Manifest m;
    m.alias = "portfolio";
    m.dbname = "portfolio_db";
    m.stamp = "20250101_000000";
    m.snapshot_time_utc = "2025-01-01T00:00:00.000000Z";
    m.server_version = "15.0";
    m.server_version_num = 150000;
    m.pg_dump_version = "15.0";
    verify::TableChecksum t;
    t.schema = "public";
    t.name = "portfolios";
    t.primary_key = {"id"};
    t.column_sums = {{"id", 0}, {"title", 0}};
    m.tables = {t};
    m.file_name = "portfolio_db_20250101_000000.dump.gz";
    m.file_sha256 = std::string(64, '0');
    test::write_text(dir / "backups/portfolio_db_20250101_000000.manifest.json", verify::manifest_to_json(m));
    test::write_text(dir / "audit/create.log", create_log);
  }
};

const char* kGoodLine =
    R"({"level":"info","operation":"CREATE_PORTFOLIO","portfolioID":1,"title":"T","time":"2025-01-01T10:00:00Z"})"
    "\n";

}  // namespace

TEST_CASE("cli: analyze with the server down points at --backup latest", "[cli][analyze]") {
  AuditWithoutServer f(kGoodLine);
  CliResult down = run({"analyze", "-c", f.config});
  CHECK(down.exit_code == 1);
  CHECK_THAT(down.err, Catch::Contains("unable to connect") && Catch::Contains("auditpitr analyze --backup latest"));
  CliResult offline = run({"analyze", "--backup", "20250101_000000", "-c", f.config});
  CHECK(offline.exit_code == 0);
  CHECK_THAT(offline.out, Catch::Contains("CREATE_PORTFOLIO"));
  // Its --json says null for what is absent (no rules file, no reason, no invalid line), never "".
  CliResult json = run({"analyze", "--backup", "20250101_000000", "--json", "-c", f.config});
  CHECK(json.exit_code == 0);
  CHECK_THAT(json.out, Catch::Contains("\"mapping\": null") && Catch::Contains("\"first_invalid\": null") &&
                           !Catch::Contains("\"\""));
}

TEST_CASE("cli: a malformed log line reads the same in the report, in --strict's error and in the docs", "[cli]") {
  AuditWithoutServer f(std::string(kGoodLine) + "{\"level\":\"info\",\"operation\":\"CREATE_PORTF\n" + kGoodLine);
  std::string said = "audit log '" + (f.dir / "audit/create.log") + "' line 2: malformed JSON (cut short or broken)";
  CliResult report = run({"analyze", "--backup", "20250101_000000", "-c", f.config});
  CHECK(report.exit_code == 0);
  CHECK_THAT(report.out, Catch::Contains(said));
  CliResult strict = run({"analyze", "--strict", "--backup", "20250101_000000", "-c", f.config});
  CHECK(strict.exit_code == 3);
  CHECK_THAT(strict.err, Catch::Contains(said));
  std::string docs = test::read_text(std::string(AUDITPITR_SOURCE_DIR) + "/docs/log-format.md");
  CHECK_THAT(docs, Catch::Contains("`audit log 'audit/create.log' line 12: malformed JSON (cut short or broken)`"));
}

TEST_CASE("cli: every mistake of a mapping rules file is named in one run", "[cli][mapping]") {
  // Structure: an unknown key, an unknown action and a misspelt table option, in three rules.
  AuditWithoutServer structure(kGoodLine,
                               "[operations.CREATE_PORTFOLIO]\ntabel = \"portfolios\"\n"
                               "[operations.MOVE_THING]\ntable = \"portfolios\"\naction = \"shove\"\n"
                               "[tables.portfolios]\nsoft_delet = \"x\"\n");
  std::string at = structure.dir / "mapping.toml";
  CliResult r = run({"analyze", "--backup", "20250101_000000", "-c", structure.config});
  CHECK(r.exit_code == 2);
  CHECK(r.out.empty());
  CHECK_THAT(r.err, Catch::StartsWith("auditpitr: 3 problems in the mapping rules '" + at + "':"));
  CHECK_THAT(r.err, Catch::Contains(at + ":2': unknown key 'tabel' in [operations.CREATE_PORTFOLIO]") &&
                        Catch::Contains(at + ":5': unknown action 'shove'") &&
                        Catch::Contains(at + ":7': unknown key 'soft_delet' in [tables.portfolios]"));
  CHECK_THAT(r.err, Catch::Contains("\nHINT: fix them all"));

  // Names against the tables (here a backup's manifest: portfolios has id and title).
  AuditWithoutServer names(kGoodLine,
                           "[operations.UPDATE_PORTFOLIO]\nfields = { titel = \"titel\", nam = \"name\" }\n"
                           "[tables.portfolios]\nsoft_delete = \"gone_at\"\n");
  at = names.dir / "mapping.toml";
  CliResult n = run({"analyze", "--backup", "20250101_000000", "-c", names.config});
  CHECK(n.exit_code == 2);
  CHECK_THAT(n.err, Catch::StartsWith("auditpitr: 3 problems in the mapping rules '" + at + "':"));
  CHECK_THAT(n.err, Catch::Contains("unknown column 'titel'") && Catch::Contains("unknown column 'name'") &&
                        Catch::Contains("unknown column 'gone_at'"));

  // Both kinds at once: the broken rule is left out, the sound one's names are still checked.
  AuditWithoutServer both(kGoodLine,
                          "[operations.CREATE_PORTFOLIO]\ntabel = \"portfolios\"\n"
                          "[operations.UPDATE_PORTFOLIO]\nfields = { titel = \"titel\" }\n");
  at = both.dir / "mapping.toml";
  CliResult b = run({"analyze", "--backup", "20250101_000000", "-c", both.config});
  CHECK(b.exit_code == 2);
  CHECK_THAT(b.err, Catch::StartsWith("auditpitr: 2 problems in the mapping rules '" + at +
                                      "':\n  - invalid "
                                      "mapping rules '" +
                                      at + ":2': unknown key 'tabel'"));
  CHECK_THAT(b.err, Catch::Contains("mapping rules '" + at +
                                    ":4': operation 'UPDATE_PORTFOLIO' names unknown "
                                    "column 'titel' of table 'portfolios'"));
  // Without the tables (no server, no --backup) the structure mistake is still named, alone.
  CliResult down = run({"analyze", "-c", both.config});
  CHECK(down.exit_code == 2);
  CHECK_THAT(down.err, Catch::StartsWith("auditpitr: invalid mapping rules '" + at + ":2': unknown key 'tabel'"));
}

TEST_CASE("cli: README and contrib/auditpitr.mk say the same include line", "[cli][docs]") {
  std::string readme = test::read_text(std::string(AUDITPITR_SOURCE_DIR) + "/README.md");
  std::string makefile = test::read_text(std::string(AUDITPITR_SOURCE_DIR) + "/contrib/auditpitr.mk");
  CHECK_THAT(readme, Catch::Contains("`include contrib/auditpitr.mk`"));
  CHECK_THAT(makefile, Catch::Contains("`include contrib/auditpitr.mk`"));
  CHECK_THAT(makefile, !Catch::Contains("`include auditpitr.mk`"));
}

namespace {

// A --json failure: stdout is one error document, nothing else; stderr says it as always.
void check_json_error(const CliResult& r, int code, const std::string& kind, const std::string& message) {
  CHECK(r.exit_code == code);
  CHECK_THAT(r.out, Catch::StartsWith("{\n  \"format\": 1,\n  \"error\": {\n    \"kind\": \"" + kind + "\""));
  CHECK_THAT(r.out, Catch::Contains("\"exit_code\": " + std::to_string(code)) &&
                        Catch::Contains("\"message\": \"" + message) && Catch::Contains("\"hint\": "));
  CHECK_THAT(r.out, Catch::EndsWith("}\n"));
  CHECK(r.out.find("\"format\"", 1) == r.out.rfind("\"format\""));  // one document
  CHECK_THAT(r.err, Catch::StartsWith("auditpitr: " + message));
}

}  // namespace

TEST_CASE("cli: every --json document starts with format 1; a failure is one error document", "[cli][json]") {
  EmptyFolder f;
  CliResult list = run({"list", "--json", "-c", f.config});
  CHECK(list.exit_code == 0);
  CHECK_THAT(list.out, Catch::StartsWith("{\n  \"format\": 1,\n  \"dir\": "));
  check_json_error(run({"list", "--json", "-c", f.dir / "none.toml"}), 2, "usage", "configuration file '");
  check_json_error(run({"--json", "bakup"}), 2, "usage", "unknown command 'bakup'");
  check_json_error(run({"check", "latest", "--json", "-c", f.config}), 1, "runtime", "");
  CliResult no_json = run({"check", "latest", "-c", f.config});
  CHECK(no_json.exit_code == 1);
  CHECK(no_json.out.empty());
}

TEST_CASE("cli: check --json names the alias and says null for no problem; its verdict is its own document",
          "[cli][json]") {
  EmptyFolder f;
  std::string folder = f.dir / "backups";
  REQUIRE(
      system(("mkdir -p '" + folder + "' && printf x | gzip > '" + folder + "/portfolio_db_20250101_000000.dump.gz'")
                 .c_str()) == 0);
  CliResult damaged = run({"check", "20250101_000000", "--json", "-c", f.config});
  CHECK(damaged.exit_code == 3);
  CHECK_THAT(damaged.out, Catch::StartsWith("{\n  \"format\": 1,\n  \"stamp\": \"20250101_000000\""));
  CHECK_THAT(damaged.out, Catch::Contains("\"alias\": \"portfolio\",\n      \"dbname\": \"portfolio_db\""));
  CHECK_THAT(damaged.out, Catch::Contains("\"manifest_problem\": null") && Catch::Contains("\"problem\": \""));
  CHECK_THAT(damaged.out, !Catch::Contains("\"error\"") && !Catch::Contains("\"\""));
}

TEST_CASE("cli: prune --dry-run --json reports what it would delete, never deleted_stamps", "[cli][json][prune]") {
  EmptyFolder f;
  CliResult dry = run({"prune", "--dry-run", "--json", "-c", f.config});
  CHECK(dry.exit_code == 0);
  CHECK_THAT(dry.out, Catch::Contains("\"dry_run\": true") && Catch::Contains("\"would_delete_stamps\": []") &&
                          Catch::Contains("\"would_delete_files\": []"));
  CHECK_THAT(dry.out, !Catch::Contains("deleted_stamps") && !Catch::Contains("deleted_files"));
  CliResult real = run({"prune", "--json", "-c", f.config});
  CHECK(real.exit_code == 0);
  CHECK_THAT(real.out, Catch::Contains("\"deleted_stamps\": []") && !Catch::Contains("would_delete"));
}

TEST_CASE("cli: restore latest with no backup at all is a runtime error (exit 1), before any server is asked",
          "[cli][restore]") {
  EmptyFolder f;
  CliResult r = run({"restore", "latest", "--yes", "-c", f.config});
  CHECK(r.exit_code == 1);
  CHECK_THAT(r.err, Catch::Contains("there is none") && !Catch::Contains("unable to connect"));
  CHECK(r.out.empty());  // nothing was checked, nothing started
}

TEST_CASE("cli: odd names and absurd TOML are refused with a clear message, never a crash", "[cli][config]") {
  test::TempDir dir;
  CliResult newline = list_with(dir, "[backup]\n[[databases]]\ndbname = \"app\\ndb\"\n");
  CHECK(newline.exit_code == 2);
  CHECK_THAT(newline.err, Catch::Contains("app.toml:3") && Catch::Contains("dbname 'app\\x0adb' contains a control "
                                                                           "character"));
  std::string header = "[a";
  for (int i = 0; i < 50000; ++i) header += ".a";
  CliResult deep = list_with(dir, std::string(kOneDatabase) + header + "]\n");
  CHECK(deep.exit_code == 2);
  CHECK(deep.term_signal == 0);
  CHECK_THAT(deep.err, Catch::Contains("app.toml:6") && Catch::Contains("nested more than 100 levels"));
  AuditWithoutServer rules(kGoodLine, "[operations.X" + header.substr(2) + "]\n");
  CliResult deep_rules = run({"analyze", "--backup", "20250101_000000", "-c", rules.config});
  CHECK(deep_rules.exit_code == 2);
  CHECK_THAT(deep_rules.err, Catch::Contains("mapping.toml:1") && Catch::Contains("nested more than 100 levels"));
}

namespace {

std::vector<std::string> words_of(const std::string& line) {
  std::vector<std::string> words;
  std::istringstream in(line);
  for (std::string w; in >> w;) words.push_back(w);
  return words;
}

// A cron time field as crontab(5) reads it here: '*' or a number within its range.
bool cron_field_ok(const std::string& field, int low, int high) {
  if (field == "*") return true;
  if (field.empty() || field.find_first_not_of("0123456789") != std::string::npos) return false;
  int n = std::stoi(field);
  return n >= low && n <= high;
}

// The systemd output's files, split at their "# NAME" headings.
std::map<std::string, std::string> units_of(const std::string& out) {
  std::map<std::string, std::string> units;
  std::string name;
  std::istringstream in(out);
  for (std::string line; std::getline(in, line);) {
    if (line.rfind("# auditpitr-", 0) == 0) name = line.substr(2);
    else if (!name.empty()) units[name] += line + "\n";
  }
  return units;
}

}  // namespace

TEST_CASE("cli: schedule --print cron gives crontab lines of 5 time fields and the absolute command",
          "[cli][schedule]") {
  EmptyFolder f;
  CliResult r = run({"schedule", "--print", "cron", "-c", f.config, "--backup", "weekly@sat@23:05"});
  REQUIRE(r.exit_code == 0);
  int jobs = 0;
  std::istringstream in(r.out);
  for (std::string line; std::getline(in, line);) {
    if (line.empty() || line[0] == '#') continue;
    auto w = words_of(line);
    REQUIRE(w.size() >= 6);
    CHECK((cron_field_ok(w[0], 0, 59) && cron_field_ok(w[1], 0, 23) && cron_field_ok(w[2], 1, 31) &&
           cron_field_ok(w[3], 1, 12) && cron_field_ok(w[4], 0, 7)));
    CHECK(std::vector<std::string>(w.begin(), w.begin() + 5) == std::vector<std::string>{"5", "23", "*", "*", "6"});
    CHECK(w[5] == "flock");
    CHECK(w[6] == "-n");
    CHECK(w[7].rfind("/run/lock/auditpitr-backup-", 0) == 0);
    CHECK(w[8][0] == '/');
    CHECK(w[8].substr(w[8].size() - 10) == "/auditpitr");
    CHECK(std::vector<std::string>(w.begin() + 9, w.end()) == std::vector<std::string>{"-c", f.config, "backup"});
    ++jobs;
  }
  CHECK(jobs == 1);
  CliResult daily = run({"schedule", "--print", "cron", "-c", f.config});
  CHECK_THAT(daily.out, Catch::Contains("\n0 2 * * * flock -n "));
  CliResult monthly = run({"schedule", "--print", "cron", "-c", f.config, "--backup", "monthly"});
  CHECK_THAT(monthly.out, Catch::Contains("\n0 4 1 * * flock -n "));
}

TEST_CASE("cli: schedule --print systemd gives a oneshot service to the journal and a persistent timer",
          "[cli][schedule]") {
  EmptyFolder f;
  CliResult r = run({"schedule", "--print", "systemd", "-c", f.config, "--backup", "weekly"});
  REQUIRE(r.exit_code == 0);
  auto units = units_of(r.out);
  REQUIRE(units.size() == 2);
  const std::string& service = units["auditpitr-backup.service"];
  const std::string& timer = units["auditpitr-backup.timer"];
  CHECK_THAT(service, Catch::Contains("\n[Service]\n") && Catch::Contains("\nType=oneshot\n") &&
                          Catch::Contains("\nStandardOutput=journal\n") &&
                          Catch::Contains("\nStandardError=journal\n") && Catch::Contains("\nUser=") &&
                          Catch::Contains("/auditpitr -c " + f.config + " backup\n"));
  CHECK_THAT(service, Catch::Contains("\nExecStart=/"));
  CHECK_THAT(timer,
             Catch::Contains("\n[Timer]\nOnCalendar=Sun *-*-* 03:00:00\n") && Catch::Contains("\nPersistent=true\n") &&
                 Catch::Contains("\nUnit=auditpitr-backup.service\n") && Catch::Contains("\nWantedBy=timers.target\n"));
  // The units as systemd reads them, when systemd-analyze is here: no warning, no error.
  if (std::system("command -v systemd-analyze >/dev/null 2>&1") != 0) {
    WARN("systemd-analyze is not installed: the units were not verified by systemd");
    return;
  }
  for (const auto& [name, content] : units) test::write_text(f.dir / name, content);
  std::string log = f.dir / "verify.log";
  int rc =
      std::system(("cd '" + f.dir.path() +
                   "' && systemd-analyze verify ./auditpitr-backup.service ./auditpitr-backup.timer >verify.log 2>&1")
                      .c_str());
  INFO(test::read_text(log));
  CHECK(rc == 0);
  CHECK(test::read_text(log).empty());
}

TEST_CASE("cli: schedule --json carries the units as strings", "[cli][schedule][json]") {
  EmptyFolder f;
  CliResult r = run({"schedule", "--print", "systemd", "--json", "-c", f.config});
  REQUIRE(r.exit_code == 0);
  CHECK_THAT(r.out, Catch::StartsWith("{\n  \"format\": 1,\n  \"print\": \"systemd\"") &&
                        Catch::Contains("\"when\": \"daily@02:00\"") &&
                        Catch::Contains("\"name\": \"auditpitr-backup.timer\"") &&
                        Catch::Contains("OnCalendar=*-*-* 02:00:00\\n"));
}

TEST_CASE("cli: schedule refuses a bad WHEN, an unknown format, and jobs the configuration cannot run",
          "[cli][schedule]") {
  EmptyFolder f;
  check_usage_error(run({"schedule", "--print", "cron", "-c", f.config, "--backup", "daily@25:00"}),
                    "invalid schedule 'daily@25:00' for --backup: '25:00' is not a time HH:MM", "daily@HH:MM");
  check_usage_error(run({"schedule", "--print", "cron", "-c", f.config, "--backup", "weekly@Funday"}),
                    "invalid schedule 'weekly@Funday' for --backup: 'Funday' is not a day", "weekly@DAY@HH:MM");
  check_usage_error(run({"schedule", "--print", "cron", "-c", f.config, "--backup", "hourly"}),
                    "invalid schedule 'hourly' for --backup: it starts with daily, weekly or monthly", "monthly@HH:MM");
  check_usage_error(run({"schedule", "--print", "anacron", "-c", f.config}), "--print takes cron or systemd",
                    "--print cron");
  check_usage_error(run({"schedule", "--print", "cron", "-c", f.config, "--push", "daily@03:00"}),
                    "--push needs a [[remotes]] section in " + f.config + ": there is nowhere to push to",
                    "docs/push.md");
  check_usage_error(run({"schedule", "--print", "cron", "-c", f.config, "--drill", "monthly"}),
                    "no [audit] section in '" + f.config + "'", "[audit]");
  check_usage_error(run({"schedule", "-c", f.config}), "", "--help");
}

namespace {

// EmptyFolder's configuration with an [audit] section and an off-site remote: push and drill can run.
struct WithRemoteAndAudit {
  EmptyFolder f;
  WithRemoteAndAudit() {
    test::write_text(f.config, test::read_text(f.config) +
                                   "[audit]\ndir = \"audit\"\ndatabase = \"portfolio\"\n"
                                   "[[remotes]]\nname = \"offsite\"\nrclone = \"/srv/offsite\"\n");
  }
};

}  // namespace

TEST_CASE("cli: schedule --push and --drill add their jobs beside the backup", "[cli][schedule]") {
  WithRemoteAndAudit w;
  const std::string& config = w.f.config;
  CliResult cron =
      run({"schedule", "--print", "cron", "-c", config, "--push", "daily@03:00", "--drill", "monthly@05:30"});
  REQUIRE(cron.exit_code == 0);
  CHECK_THAT(cron.out, Catch::Contains("\n0 2 * * * flock -n /run/lock/auditpitr-backup-") &&
                           Catch::Contains(" -c " + config + " backup\n"));
  CHECK_THAT(cron.out, Catch::Contains("\n0 3 * * * flock -n /run/lock/auditpitr-push-") &&
                           Catch::Contains(" -c " + config + " push --logs\n"));
  CHECK_THAT(cron.out, Catch::Contains("\n30 5 1 * * flock -n /run/lock/auditpitr-drill-") &&
                           Catch::Contains(" -c " + config + " drill\n"));
  check_usage_error(run({"schedule", "--print", "cron", "-c", config, "--drill", "yearly"}),
                    "invalid schedule 'yearly' for --drill", "monthly@HH:MM");

  CliResult systemd =
      run({"schedule", "--print", "systemd", "-c", config, "--push", "daily@03:00", "--drill", "monthly"});
  REQUIRE(systemd.exit_code == 0);
  auto units = units_of(systemd.out);
  REQUIRE(units.size() == 6);
  CHECK_THAT(units["auditpitr-push.service"], Catch::Contains("/auditpitr -c " + config + " push --logs\n"));
  CHECK_THAT(units["auditpitr-push.timer"], Catch::Contains("\nOnCalendar=*-*-* 03:00:00\n"));
  CHECK_THAT(units["auditpitr-drill.service"], Catch::Contains("/auditpitr -c " + config + " drill\n"));
  CHECK_THAT(units["auditpitr-drill.timer"],
             Catch::Contains("\nOnCalendar=*-*-01 04:00:00\n") && Catch::Contains("\nPersistent=true\n"));
}
