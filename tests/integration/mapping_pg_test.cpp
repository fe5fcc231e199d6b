// Rules validated against a real catalog, the shipped Portfolio Manager rules, and `analyze`
// end to end on fixtures/portfolio-manager/audit.
#include <simdjson.h>

#include <catch2/catch.hpp>
#include <filesystem>

#include "src/error.h"
#include "src/ops/analyze.h"
#include "src/pg/connection.h"
#include "tests/support/cli_runner.h"
#include "tests/support/temp_dir.h"
#include "tests/support/test_cluster.h"
#include "verify/database_checksum.h"

using namespace auditpitr;

namespace {

replay::MappingCatalog catalog_of(const pg::ConnInfo& info) {
  pg::Connection conn(info);
  pqxx::read_transaction tx(conn.raw());
  return replay::MappingCatalog(verify::list_tables(tx));
}

std::string config_text(const pg::ConnInfo& info, const std::string& mapping, const std::string& audit_dir) {
  return "[backup]\ndir = \"backups\"\n[[databases]]\nalias = \"portfolio\"\ndbname = \"" + info.dbname() +
         "\"\nconninfo = \"" + info.to_libpq_string() + "\"\n[audit]\ndir = \"" + audit_dir +
         "\"\ndatabase = \"portfolio\"\n" + (mapping.empty() ? "" : "mapping = \"" + mapping + "\"\n");
}

std::string shipped_rules() { return test::source_path("fixtures/portfolio-manager/mapping.toml"); }
std::string fixture_logs() { return test::source_path("fixtures/portfolio-manager/audit"); }

std::string usage_message(const std::string& rules, const replay::MappingCatalog& catalog) {
  try {
    replay::Mapper(replay::parse_mapping_rules(rules, "pm.toml"), catalog);
  } catch (const Error& e) {
    CHECK(e.kind() == ErrorKind::usage);
    return e.what();
  }
  return "(no error)";
}

}  // namespace

TEST_CASE("the shipped Portfolio Manager rules load against its schema", "[pg][mapping]") {
  auto catalog = catalog_of(test::portfolio_database("mapping_shipped"));
  replay::Mapper mapper(replay::load_mapping_rules(shipped_rules()), catalog);
  for (const char* op :
       {"CREATE_PORTFOLIO", "UPDATE_PORTFOLIO", "DELETE_PORTFOLIO", "CREATE_CATEGORY", "DELETE_CATEGORY",
        "UPDATE_CATEGORY_POSITION", "BULK_REORDER_CATEGORIES", "CREATE_SECTION", "DELETE_SECTION",
        "UPDATE_SECTION_POSITION", "BULK_REORDER_SECTIONS", "DELETE_PROJECT", "DELETE_SECTION_CONTENT"})
    CHECK(mapper.target(op).outcome == replay::MapOutcome::mapped);
  CHECK(mapper.target("CREATE_IMAGE").outcome == replay::MapOutcome::ignored);
  CHECK(mapper.target("UPDATE_IMAGE").outcome == replay::MapOutcome::ignored);
  auto cascade = mapper.cascades_of("portfolios");
  REQUIRE(cascade.size() == 2);
  CHECK(cascade[0].children.at(0).table == "projects");
  CHECK(cascade[1].children.at(0).table == "section_contents");
}

TEST_CASE("rules naming unknown tables or columns fail with the rule and its line", "[pg][mapping]") {
  auto catalog = catalog_of(test::portfolio_database("mapping_unknown"));
  CHECK_THAT(
      usage_message("\n\n[operations.BULK_REORDER_PROJECTS]\ntable = \"project\"\naction = \"update\"\n", catalog),
      Catch::Contains("'pm.toml:3'") && Catch::Contains("operation 'BULK_REORDER_PROJECTS'") &&
          Catch::Contains("unknown table 'project'"));
  CHECK_THAT(usage_message("[operations.UPDATE_SECTION_POSITION]\ntable = \"sections\"\naction = \"update\"\n"
                           "expect = { oldPosition = \"pos\" }\n",
                           catalog),
             Catch::Contains("pm.toml:4") && Catch::Contains("unknown column 'pos' of table 'sections'"));
  CHECK_THAT(usage_message("[tables.categories]\nsoft_delete = \"removed_at\"\n", catalog),
             Catch::Contains("pm.toml:1") && Catch::Contains("table rule 'categories'") &&
                 Catch::Contains("unknown column 'removed_at'"));
}

TEST_CASE("analyze --json reports files, operations, gaps and column coverage", "[pg][mapping][cli]") {
  auto info = test::portfolio_database("mapping_analyze_json");
  test::TempDir dir;
  test::write_text(dir / "auditpitr.toml", config_text(info, shipped_rules(), fixture_logs()));
  auto result = test::run_cli({"-c", dir / "auditpitr.toml", "analyze", "--json"});
  INFO(result.err);
  REQUIRE(result.exit_code == 0);

  simdjson::dom::parser parser;
  simdjson::dom::element doc = parser.parse(result.out);
  CHECK(int64_t(doc["events"]) == 18);
  CHECK(std::string_view(doc["first"]) == "2025-01-15T09:00:00.000000Z");
  auto files = simdjson::dom::array(doc["files"]);
  REQUIRE(files.size() == 3);
  simdjson::dom::element create = files.at(0);
  CHECK(int64_t(create["lines"]) == 6);
  CHECK(int64_t(create["events"]) == 6);
  CHECK(int64_t(create["malformed"]) == 0);  // its cut last line is the one being written
  auto unfinished = simdjson::dom::array(doc["unfinished_lines"]);
  REQUIRE(unfinished.size() == 1);
  CHECK(std::string_view(unfinished.at(0)["path"]) == fixture_logs() + "/create.log");
  CHECK(int64_t(unfinished.at(0)["bytes"]) == 105);
  CHECK(simdjson::dom::array(doc["unread_files"]).size() == 0);
  CHECK(int64_t(doc["errors"]["operations"]["CREATE_PROJECT_DB_ERROR"]) == 2);
  CHECK(int64_t(doc["errors"]["operations"]["UPDATE_PORTFOLIO_NOT_FOUND"]) == 1);

  std::map<std::string, simdjson::dom::element> ops;
  for (auto op : simdjson::dom::array(doc["operations"])) ops[std::string(std::string_view(op["operation"]))] = op;
  CHECK(std::string_view(ops.at("BULK_REORDER_SECTIONS")["table"]) == "sections");
  CHECK(int64_t(ops.at("BULK_REORDER_SECTIONS")["changes"]) == 2);
  CHECK(std::string_view(ops.at("CREATE_IMAGE")["outcome"]) == "ignored");
  CHECK(std::string_view(ops.at("DELETE_SECTION_CONTENT")["action"]) == "delete");

  auto gaps = simdjson::dom::array(doc["gaps"]["list"]);
  REQUIRE(gaps.size() == 1);  // 09:40 -> 12:30
  CHECK(int64_t(gaps.at(0)["seconds"]) == 2 * 3600 + 50 * 60);
  CHECK(simdjson::dom::array(doc["unmapped_fields"]).size() == 0);

  std::map<std::string, std::string> coverage;
  std::map<std::string, bool> no_creates;
  for (auto table : simdjson::dom::array(doc["coverage"])) {
    std::string name{std::string_view(table["table"])};
    no_creates[name] = bool(table["no_create_events"]);
    for (auto column : simdjson::dom::array(table["columns"]))
      coverage[name + "." + std::string(std::string_view(column["column"]))] =
          std::string(std::string_view(column["coverage"]));
  }
  CHECK(coverage.at("portfolios.title") == "created_and_updated");
  CHECK(coverage.at("portfolios.owner_id") == "created_only");
  CHECK(coverage.at("portfolios.description") == "never_written");
  CHECK(coverage.at("portfolios.updated_at") == "automatic_timestamp");
  CHECK(coverage.at("portfolios.id") == "key");
  CHECK(coverage.at("categories.title") == "created_only");
  CHECK(coverage.at("categories.position") == "updated_only");
  CHECK(coverage.at("sections.position") == "created_and_updated");
  CHECK(coverage.at("projects.title") == "never_written");
  CHECK(coverage.at("projects.deleted_at") == "automatic_timestamp");
  CHECK(no_creates.at("projects"));
  CHECK(no_creates.at("section_contents"));
  CHECK_FALSE(no_creates.at("portfolios"));
}

TEST_CASE("analyze prints a readable report and honours --audit-dir", "[pg][mapping][cli]") {
  auto info = test::portfolio_database("mapping_analyze_text");
  test::TempDir dir;
  test::write_text(dir / "auditpitr.toml", config_text(info, shipped_rules(), dir / "nowhere"));
  auto result =
      test::run_cli({"-c", dir / "auditpitr.toml", "analyze", "--audit-dir", fixture_logs(), "--gap-minutes", "600"});
  INFO(result.err);
  REQUIRE(result.exit_code == 0);
  CHECK_THAT(result.out, Catch::Contains("projects: no create events: rows created after the backup cannot come back"));
  CHECK_THAT(result.out, Catch::Contains("never_written") && Catch::Contains("description"));
  CHECK_THAT(result.out, Catch::Contains("not read yet, as the application is still writing it (no newline): the "
                                         "last line of create.log (105 bytes)"));
  CHECK_THAT(result.out, !Catch::Contains("malformed line "));
  CHECK_THAT(result.out, Catch::Contains("no gap longer than 10 h"));
  CHECK_THAT(result.out, Catch::Contains("CREATE_PROJECT_DB_ERROR"));
  CHECK_THAT(result.out, Catch::Contains("Operations (18 events, 18 row changes)"));
  CHECK_THAT(result.out, Catch::Contains("portfolios: 1 insert, 1 update, 1 delete"));
}

TEST_CASE("analyze without rules reports what the conventions cannot map", "[pg][mapping][cli]") {
  auto info = test::portfolio_database("mapping_analyze_bare");
  test::TempDir dir;
  test::write_text(dir / "auditpitr.toml", config_text(info, "", fixture_logs()));
  auto result = test::run_cli({"-c", dir / "auditpitr.toml", "analyze"});
  INFO(result.err);
  REQUIRE(result.exit_code == 0);
  CHECK_THAT(result.out, Catch::Contains("BULK_REORDER_SECTIONS") && Catch::Contains("UNMAPPED"));
  CHECK_THAT(result.out, Catch::Contains("field 'userID' of CREATE_PORTFOLIO maps to no column"));
  CHECK_THAT(result.out, Catch::Contains("no table 'images'"));
}

TEST_CASE("analyze exit codes: 2 for configuration and rules, 1 for an unreachable server", "[pg][mapping][cli]") {
  auto info = test::portfolio_database("mapping_analyze_codes");
  test::TempDir dir;
  test::write_text(dir / "bad.toml",
                   "[operations.UPDATE_CATEGORY_POSITION]\ntable = \"categories\"\naction = \"update\"\n"
                   "fields = { newPosition = \"positon\" }\n");
  test::write_text(dir / "auditpitr.toml", config_text(info, dir / "bad.toml", fixture_logs()));
  auto bad_rules = test::run_cli({"-c", dir / "auditpitr.toml", "analyze"});
  CHECK(bad_rules.exit_code == 2);
  CHECK_THAT(bad_rules.err, Catch::Contains("bad.toml:4") && Catch::Contains("'positon'"));

  test::write_text(dir / "syntax.toml", "[operations.X\n");
  test::write_text(dir / "auditpitr.toml", config_text(info, dir / "syntax.toml", fixture_logs()));
  CHECK(test::run_cli({"-c", dir / "auditpitr.toml", "analyze"}).exit_code == 2);

  test::write_text(dir / "noaudit.toml", "[backup]\n[[databases]]\ndbname = \"x\"\n");
  auto no_audit = test::run_cli({"-c", dir / "noaudit.toml", "analyze"});
  CHECK(no_audit.exit_code == 2);
  CHECK_THAT(no_audit.err, Catch::Contains("no [audit] section"));

  test::write_text(dir / "down.toml",
                   "[backup]\n[[databases]]\nalias = \"portfolio\"\ndbname = \"x\"\n"
                   "conninfo = \"host=127.0.0.1 port=1 connect_timeout=2\"\n[audit]\ndir = \"" +
                       fixture_logs() + "\"\n");
  CHECK(test::run_cli({"-c", dir / "down.toml", "analyze"}).exit_code == 1);
  // A wrong folder is a usage error, said before the (unreachable) server is tried.
  auto no_dir = test::run_cli({"-c", dir / "down.toml", "analyze", "--audit-dir", dir / "nowhere"});
  CHECK(no_dir.exit_code == 2);
  CHECK_THAT(no_dir.err, Catch::Contains("audit log folder '" + (dir / "nowhere") + "' not found"));
}

namespace {

std::string schema_source_of(const std::string& json) {
  simdjson::dom::parser parser;
  return std::string(std::string_view(parser.parse(json)["schema_source"]));
}

// Every table.column's coverage class in an analyze --json report.
std::map<std::string, std::string> coverage_of(const std::string& json) {
  simdjson::dom::parser parser;
  simdjson::dom::element doc = parser.parse(json);
  std::map<std::string, std::string> coverage;
  for (auto table : simdjson::dom::array(doc["coverage"])) {
    std::string name{std::string_view(table["table"])};
    coverage[name] = bool(table["no_create_events"]) ? "no creates" : "creates";
    for (auto column : simdjson::dom::array(table["columns"]))
      coverage[name + "." + std::string(std::string_view(column["column"]))] =
          std::string(std::string_view(column["coverage"]));
  }
  return coverage;
}

}  // namespace

TEST_CASE("analyze --backup takes the schema from a backup's manifest and never contacts the server",
          "[pg][mapping][cli]") {
  auto info = test::portfolio_database("mapping_analyze_offline");
  test::TempDir dir;
  test::write_text(dir / "auditpitr.toml", config_text(info, shipped_rules(), fixture_logs()));
  auto backup = test::run_cli({"-c", dir / "auditpitr.toml", "backup"});
  REQUIRE(backup.exit_code == 0);
  auto online = test::run_cli({"-c", dir / "auditpitr.toml", "analyze", "--json"});
  REQUIRE(online.exit_code == 0);
  CHECK(schema_source_of(online.out) == "database 'mapping_analyze_offline'");

  // The same configuration with the server out of reach: without --backup analyze fails.
  std::string unreachable = config_text(info, shipped_rules(), fixture_logs());
  std::size_t port = unreachable.find("port=");
  REQUIRE(port != std::string::npos);
  unreachable.replace(port, unreachable.find_first_of(" \"", port) - port, "port=9");
  test::write_text(dir / "unreachable.toml", unreachable);
  CHECK(test::run_cli({"-c", dir / "unreachable.toml", "analyze"}).exit_code == 1);

  auto offline = test::run_cli({"-c", dir / "unreachable.toml", "analyze", "--json", "--backup", "latest"});
  INFO(offline.err);
  REQUIRE(offline.exit_code == 0);
  CHECK_THAT(schema_source_of(offline.out), Catch::StartsWith("backup ") && Catch::EndsWith(" (manifest)"));
  CHECK(coverage_of(offline.out) == coverage_of(online.out));
  auto text = test::run_cli({"-c", dir / "unreachable.toml", "analyze", "--backup", "latest"});
  CHECK(text.exit_code == 0);
  CHECK_THAT(text.out, Catch::Contains("tables and columns from the backup "));

  // A backup of the old scripts has no manifest, so no columns: said, with what to do.
  test::old_script_backup("mapping_analyze_offline", dir / "backups", "20200101_000000");
  auto old = test::run_cli({"-c", dir / "unreachable.toml", "analyze", "--backup", "20200101_000000"});
  CHECK(old.exit_code == 2);
  CHECK_THAT(old.err,
             Catch::Contains("20200101_000000") && Catch::Contains("no manifest") && Catch::Contains("--backup"));
}

TEST_CASE("analyze --since/--until limits the report to a window, in all three time forms", "[pg][mapping][cli]") {
  auto info = test::portfolio_database("mapping_analyze_window");
  test::TempDir dir;
  test::write_text(dir / "auditpitr.toml", config_text(info, shipped_rules(), fixture_logs()));
  auto analyze = [&](std::vector<std::string> window, std::map<std::string, std::string> env = {}) {
    std::vector<std::string> args{"-c", dir / "auditpitr.toml", "analyze", "--json"};
    args.insert(args.end(), window.begin(), window.end());
    return test::run_cli(args, env);
  };
  // The fixture's 18 events run from 09:00 to 13:02 UTC; 12:30 to 13:00 holds 2 creates, 3 updates,
  // 3 deletes, and error.log one failure (12:34).
  auto result = analyze({"--since", "2025-01-15T12:30:00Z", "--until", "2025-01-15T10:00:00-03:00"});
  INFO(result.err);
  REQUIRE(result.exit_code == 0);
  simdjson::dom::parser parser;
  simdjson::dom::element doc = parser.parse(result.out);
  CHECK(int64_t(doc["events"]) == 8);
  CHECK(std::string_view(doc["since"]) == "2025-01-15T12:30:00.000000Z");
  CHECK(std::string_view(doc["until"]) == "2025-01-15T13:00:00.000000Z");
  CHECK(std::string_view(doc["first"]) == "2025-01-15T12:30:00.000000Z");
  CHECK(std::string_view(doc["last"]) == "2025-01-15T13:00:00.000000Z");
  CHECK(int64_t(doc["errors"]["operations"]["CREATE_PROJECT_DB_ERROR"]) == 1);
  CHECK(doc["errors"]["operations"]["UPDATE_PORTFOLIO_NOT_FOUND"].error() == simdjson::NO_SUCH_FIELD);
  CHECK(int64_t(simdjson::dom::array(doc["files"]).at(0)["events"]) == 6);  // files: whole logs
  CHECK(simdjson::dom::array(doc["gaps"]["list"]).size() == 0);             // 09:40 .. 12:30 is outside

  // Local time honours TZ (UTC-3 here): 10:00 local is 13:00 UTC, leaving out 13:01 and 13:02.
  auto local = analyze({"--until", "2025-01-15 10:00:00"}, {{"TZ", "<-03>3"}});
  REQUIRE(local.exit_code == 0);
  CHECK(int64_t(parser.parse(local.out)["events"]) == 16);
  // A backup stamp is local time too: from 09:30 UTC on, the two late creates and every update and delete.
  auto stamp = analyze({"--since", "20250115_093000"}, {{"TZ", "UTC0"}});
  REQUIRE(stamp.exit_code == 0);
  CHECK(int64_t(parser.parse(stamp.out)["events"]) == 14);

  auto text = test::run_cli({"-c", dir / "auditpitr.toml", "analyze", "--since", "2025-01-15T12:30:00Z"});
  REQUIRE(text.exit_code == 0);
  CHECK_THAT(text.out, Catch::Contains("events from 2025-01-15 12:30:00Z only; the file counts cover the whole logs"));

  auto bad = analyze({"--since", "yesterday"});
  CHECK(bad.exit_code == 2);
  CHECK_THAT(bad.err, Catch::Contains("--since 'yesterday' is not a time I can read") && Catch::Contains("RFC 3339"));
  auto reversed = analyze({"--since", "2025-01-15T13:00:00Z", "--until", "2025-01-15T12:00:00Z"});
  CHECK(reversed.exit_code == 2);
  CHECK_THAT(reversed.err, Catch::Contains("is before --since"));
}

TEST_CASE("analyze says when the folder holds no event log, counts error.log over its rotations, and needs none",
          "[pg][mapping][cli]") {
  auto info = test::portfolio_database("mapping_analyze_error_logs");
  test::TempDir dir;
  std::string audit = dir / "audit";
  std::filesystem::create_directory(audit);
  test::write_text(dir / "auditpitr.toml", config_text(info, shipped_rules(), audit));
  auto analyze = [&] { return test::run_cli({"-c", dir / "auditpitr.toml", "analyze", "--json"}); };

  auto nothing = test::run_cli({"-c", dir / "auditpitr.toml", "analyze"});  // an empty folder: said
  REQUIRE(nothing.exit_code == 0);
  CHECK_THAT(nothing.out, Catch::Contains("no create.log, update.log or delete.log (nor rotations of them) in '" +
                                          audit + "': is it the application's audit folder?"));

  for (const char* log : {"create.log", "update.log", "delete.log"})
    std::filesystem::copy_file(fixture_logs() + "/" + log, audit + "/" + log);
  auto without = analyze();  // an application that never failed has no error.log
  INFO(without.err);
  REQUIRE(without.exit_code == 0);
  simdjson::dom::parser parser;
  CHECK(simdjson::dom::array(parser.parse(without.out)["errors"]["files"]).size() == 0);

  // The fixture's three failures, two of them in the rotated file: all are counted.
  std::string errors = test::read_text(fixture_logs() + "/error.log");
  std::size_t second_line_end = errors.find('\n', errors.find('\n') + 1) + 1;
  test::write_text(audit + "/error.log.1", errors.substr(0, second_line_end));
  test::write_text(audit + "/error.log", errors.substr(second_line_end));
  auto rotated = analyze();
  REQUIRE(rotated.exit_code == 0);
  simdjson::dom::element doc = parser.parse(rotated.out);
  auto files = simdjson::dom::array(doc["errors"]["files"]);
  REQUIRE(files.size() == 2);
  CHECK_THAT(std::string(std::string_view(files.at(0)["path"])), Catch::EndsWith("error.log.1"));
  CHECK(int64_t(files.at(0)["lines"]) == 2);
  CHECK(int64_t(files.at(1)["lines"]) == 1);
  CHECK(int64_t(doc["errors"]["operations"]["CREATE_PROJECT_DB_ERROR"]) == 2);
  CHECK(int64_t(doc["errors"]["operations"]["UPDATE_PORTFOLIO_NOT_FOUND"]) == 1);
  auto text = test::run_cli({"-c", dir / "auditpitr.toml", "analyze"});
  CHECK_THAT(text.out, Catch::Contains("error.log.1") && Catch::Contains("error.log "));
}

TEST_CASE("analyze shows control characters from the logs as text, never sends them to the terminal",
          "[pg][mapping][cli]") {
  auto info = test::portfolio_database("mapping_analyze_controls");
  test::TempDir dir;
  std::string audit = dir / "audit";
  std::filesystem::create_directory(audit);
  // JSON escapes that decode to ESC sequences (clear the screen, recolour) and a newline.
  test::write_text(audit + "/create.log",
                   R"({"level":"info","operation":"CREATE_\u001b[2JPORTFOLIO","time":"2025-01-15T09:00:00Z"})"
                   "\n"
                   R"({"level":"info","operation":"CREATE_PORTFOLIO","portfolioID":1,"x\u001b[31m\nfake":1,)"
                   R"("time":"2025-01-15T09:00:01Z"})"
                   "\n");
  test::write_text(dir / "auditpitr.toml", config_text(info, shipped_rules(), audit));
  auto result = test::run_cli({"-c", dir / "auditpitr.toml", "analyze"});
  INFO(result.out);
  REQUIRE(result.exit_code == 0);
  CHECK(result.out.find('\x1b') == std::string::npos);
  CHECK_THAT(result.out, Catch::Contains(R"(CREATE_\x1b[2JPORTFOLIO)"));
  CHECK_THAT(result.out, Catch::Contains(R"(field 'x\x1b[31m\x0afake' of CREATE_PORTFOLIO maps to no column)"));
}

TEST_CASE(
    "analyze reads dateext rotations, names the log-like files it cannot read, and leaves the line being "
    "written alone, --strict included",
    "[pg][mapping][cli]") {
  auto info = test::portfolio_database("mapping_analyze_rotations");
  test::TempDir dir;
  std::string audit = dir / "audit";
  std::filesystem::create_directory(audit);
  auto create = [](int id, const char* time) {
    return R"({"level":"info","operation":"CREATE_PORTFOLIO","portfolioID":)" + std::to_string(id) + R"(,"time":")" +
           time + R"(","title":"p","userID":"u"})";
  };
  // logrotate with dateext and copytruncate: two days rotated, the live file being appended to.
  test::write_text(audit + "/create.log-20250114", create(1, "2025-01-14T09:00:00Z") + "\n");
  test::write_text(audit + "/create.log-20250115", create(2, "2025-01-15T09:00:00Z") + "\n");
  std::string writing = create(4, "2025-01-16T09:00:01Z").substr(0, 30);
  test::write_text(audit + "/create.log", create(3, "2025-01-16T09:00:00Z") + "\n" + writing);
  test::write_text(audit + "/update.log", "");
  test::write_text(audit + "/create.log.1.xz", "(xz data)");  // compresscmd xz: not readable here
  test::write_text(audit + "/create.log.old", create(9, "2025-01-13T09:00:00Z") + "\n");
  test::write_text(dir / "auditpitr.toml", config_text(info, shipped_rules(), audit));

  auto json = test::run_cli({"-c", dir / "auditpitr.toml", "analyze", "--json"});
  INFO(json.err);
  REQUIRE(json.exit_code == 0);
  simdjson::dom::parser parser;
  simdjson::dom::element doc = parser.parse(json.out);
  CHECK(int64_t(doc["events"]) == 3);
  CHECK(std::string_view(doc["first"]) == "2025-01-14T09:00:00.000000Z");
  auto files = simdjson::dom::array(doc["files"]);
  REQUIRE(files.size() == 4);  // create.log's three, then update.log
  CHECK(std::string_view(files.at(0)["path"]) == audit + "/create.log-20250114");
  CHECK(std::string_view(files.at(1)["path"]) == audit + "/create.log-20250115");
  CHECK(std::string_view(files.at(2)["path"]) == audit + "/create.log");
  CHECK(int64_t(files.at(2)["lines"]) == 1);
  CHECK(int64_t(files.at(2)["malformed"]) == 0);
  auto unread = simdjson::dom::array(doc["unread_files"]);
  REQUIRE(unread.size() == 2);
  CHECK(std::string_view(unread.at(0)["path"]) == audit + "/create.log.1.xz");
  CHECK_THAT(std::string(std::string_view(unread.at(0)["reason"])), Catch::Contains("compressed with xz"));
  CHECK_THAT(std::string(std::string_view(unread.at(0)["hint"])), Catch::Contains("xz -dk"));
  CHECK(std::string_view(unread.at(1)["path"]) == audit + "/create.log.old");
  auto unfinished = simdjson::dom::array(doc["unfinished_lines"]);
  REQUIRE(unfinished.size() == 1);
  CHECK(std::string_view(unfinished.at(0)["path"]) == audit + "/create.log");
  CHECK(int64_t(unfinished.at(0)["bytes"]) == static_cast<int64_t>(writing.size()));

  // Said once, in words; not a malformed line, and not fatal under --strict.
  auto strict = test::run_cli({"-c", dir / "auditpitr.toml", "analyze", "--strict"});
  INFO(strict.out);
  REQUIRE(strict.exit_code == 0);
  CHECK_THAT(strict.out, Catch::Contains("not read: '" + audit + "/create.log.1.xz': compressed with xz"));
  CHECK_THAT(strict.out, Catch::Contains("hint: decompress it where it lies"));
  CHECK_THAT(strict.out, Catch::Contains("not read: '" + audit + "/create.log.old': not a name auditpitr reads"));
  CHECK_THAT(strict.out, Catch::Contains("not read yet, as the application is still writing it (no newline): the "
                                         "last line of create.log (30 bytes)"));
  CHECK_THAT(strict.out, !Catch::Contains("malformed line"));

  // The same cut line in a rotated file is what it always was: malformed, fatal under --strict.
  test::write_text(audit + "/create.log-20250115", create(2, "2025-01-15T09:00:00Z") + "\n" + writing);
  auto rotated = test::run_cli({"-c", dir / "auditpitr.toml", "analyze", "--strict"});
  CHECK(rotated.exit_code == 3);
  CHECK_THAT(rotated.err, Catch::Contains("create.log-20250115' line 2: malformed JSON"));
}
