// `auditpitr lost` against a real PostgreSQL: a backup, logged changes after it applied by replay,
// then rows deleted and changed behind the logs' back. lost finds exactly those (and not the rows
// a logged delete explains); --sql through psql and --restore each bring exactly them back.
#include <simdjson.h>

#include <catch2/catch.hpp>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <map>
#include <set>

#include "src/pg/local_cluster.h"
#include "src/pg/process_runner.h"
#include "tests/integration/replay_support.h"
#include "tests/support/cli_runner.h"
#include "tests/support/test_cluster.h"

using namespace auditpitr;
using test::LogLine;

namespace {

using test::rfc3339;

/// rfc3339(t) with .1205 of a second: "…:SS.120500Z".
std::string fraction_of_second(std::time_t t) {
  std::string text = rfc3339(t);
  return text.substr(0, text.size() - 1) + ".120500Z";
}

/// "table key kind" of each row lost's JSON lists.
std::set<std::string> findings(const std::string& json) {
  simdjson::dom::parser parser;
  simdjson::dom::element doc = parser.parse(json);
  std::set<std::string> out;
  for (simdjson::dom::element row : doc["rows"].get_array()) {
    std::string key;
    for (simdjson::dom::element k : row["key"].get_array()) key += std::string(k.get_string().value());
    out.insert(std::string(row["table"].get_string().value()) + " " + key + " " +
               std::string(row["kind"].get_string().value()));
  }
  return out;
}

/// Runs `script` through psql as the reviewer would: "" when it ran, else psql's complaint.
std::string applied_by_psql(const pg::ConnInfo& db, const std::string& script) {
  pg::Command psql;
  psql.program = pg::server_bin_dir() + "/psql";
  psql.args = {"-X", "-q", "-v", "ON_ERROR_STOP=1", "-f", script};
  psql.env = db.child_environment();
  auto applied = pg::PosixProcessRunner().run(psql);
  return applied.ok() ? "" : "psql failed: " + applied.stderr_tail;
}

void tamper(const pg::ConnInfo& db) {
  test::execute(db,
                "DELETE FROM categories WHERE id = 20; "                         // created by the logs
                "UPDATE portfolios SET title = 'Tampered' WHERE id = 1; "        // a logged column
                "UPDATE portfolios SET description = 'unlogged' WHERE id = 2; "  // not a logged value: no finding
                "DELETE FROM projects WHERE id = 1; "                            // in the backup, never logged
                "DELETE FROM categories WHERE id = 1; "   // the same, in a table the logs touch (its project gone)
                "DELETE FROM categories WHERE id = 21");  // logged created, its portfolio deleted in the logs
}

}  // namespace

TEST_CASE("lost finds rows deleted or changed behind the logs' back, and brings exactly them back", "[pg][lost]") {
  auto db = test::portfolio_database("investigate_lost");
  std::time_t base = std::time(nullptr) + 120;  // after the backup's snapshot
  std::vector<LogLine> lines = {
      {"CREATE_PORTFOLIO", rfc3339(base), R"("portfolioID":10,"title":"Ten","userID":"user-carol")"},
      {"CREATE_CATEGORY", rfc3339(base + 1),
       R"("categoryID":20,"portfolioID":10,"title":"Tab\tand 'quote'","userID":"user-carol")"},
      {"UPDATE_PORTFOLIO", rfc3339(base + 2), R"("portfolioID":1,"title":"Design v2","userID":"user-alice")"},
      {"CREATE_PORTFOLIO", rfc3339(base + 3), R"("portfolioID":11,"title":"Eleven","userID":"user-bob")"},
      {"CREATE_CATEGORY", rfc3339(base + 4), R"("categoryID":21,"portfolioID":11,"title":"Gone","userID":"user-bob")"},
      {"DELETE_PORTFOLIO", rfc3339(base + 5), R"("portfolioID":11,"userID":"user-bob")"},
      // rendered without PostgreSQL (verify/row_fold.h, local_rendering): a fraction of a second,
      // a backslash, a newline and non-ASCII text, which must read as PostgreSQL renders them
      {"UPDATE_CATEGORY", fraction_of_second(base + 6),
       R"("categoryID":20,"title":"Back\\slash\nline \u00e9 \u2713","userID":"user-dave")"},
  };
  test::ReplayWorkspace ws(db, lines);

  auto none = ws.cli({"lost"});
  CHECK(none.exit_code == 2);
  CHECK_THAT(none.err, Catch::Contains("no backup"));

  auto backup = ws.cli({"backup"});
  INFO(backup.err);
  REQUIRE(backup.exit_code == 0);
  auto replayed = ws.replay({"--from", rfc3339(base - 60), "--to", rfc3339(base + 60)});
  INFO(replayed.out << replayed.err);
  REQUIRE(replayed.exit_code == 0);

  auto clean = ws.cli({"lost"});
  INFO(clean.out << clean.err);
  CHECK(clean.exit_code == 0);
  CHECK_THAT(clean.out, Catch::Contains("Nothing is lost"));

  // category 21's portfolio was deleted in the logs, but the application soft-deletes: the row must
  // still be there, so a hard delete of it is a loss too.
  auto intact = test::snapshot(db);
  tamper(db);
  std::set<std::string> expected = {"public.categories 1 deleted_unlogged", "public.categories 20 missing",
                                    "public.categories 21 missing", "public.portfolios 1 changed",
                                    "public.projects 1 deleted_unlogged"};
  auto found = ws.cli({"lost", "--json"});
  INFO(found.out << found.err);
  CHECK(found.exit_code == 3);
  CHECK(findings(found.out) == expected);
  CHECK(test::json_keys_against_docs(found.out, "lost.md") == "");
  // The live rows are read whole when the logs touched a large part of a table (here, once the
  // planner knows how few rows the tables hold), and by key otherwise (as if the tables were large).
  test::execute(db, "ANALYZE");
  CHECK(findings(ws.cli({"lost", "--json"}).out) == expected);
  test::execute(db, "UPDATE pg_class SET reltuples = 1e9 WHERE relnamespace = 'public'::regnamespace");
  CHECK(findings(ws.cli({"lost", "--json"}).out) == expected);
  test::execute(db, "ANALYZE");
  simdjson::dom::parser parser;
  simdjson::dom::element doc = parser.parse(found.out);
  for (simdjson::dom::element row : doc["rows"].get_array()) {
    if (std::string(row["kind"].get_string().value()) != "changed") continue;
    simdjson::dom::element title = row["values"].at(0);
    CHECK(std::string(title["column"].get_string().value()) == "title");
    CHECK(std::string(title["value"].get_string().value()) == "Design v2");
    CHECK(std::string(title["live"].get_string().value()) == "Tampered");
    CHECK(std::string(title["event"]["operation"].get_string().value()) == "UPDATE_PORTFOLIO");
    CHECK(std::string(title["event"]["user"].get_string().value()) == "user-alice");
  }

  for (simdjson::dom::element row : doc["rows"].get_array()) {
    if (std::string(row["table"].get_string().value()) != "public.categories" ||
        std::string(row["key"].at(0).get_string().value()) != "20")
      continue;
    std::map<std::string, std::string> values;
    for (simdjson::dom::element v : row["values"].get_array())
      values[std::string(v["column"].get_string().value())] = std::string(v["value"].get_string().value());
    std::string stamp = rfc3339(base + 6);
    CHECK(values["updated_at"] == stamp.substr(0, 10) + " " + stamp.substr(11, 8) + ".1205+00");
    CHECK(values["title"] == "Back\\slash\nline \xc3\xa9 \xe2\x9c\x93");
  }

  auto alice = ws.cli({"lost", "--json", "--user", "user-alice"});
  CHECK(findings(alice.out) == std::set<std::string>{"public.portfolios 1 changed"});
  CHECK(parser.parse(alice.out)["backup_rows_read"].get_uint64().value() > 0);  // in_backup of its finding
  // --user with nothing found for the user: the backup has nothing to add, and is not read
  auto nobody = ws.cli({"lost", "--json", "--user", "user-nobody"});
  CHECK(nobody.exit_code == 0);
  CHECK(findings(nobody.out).empty());
  CHECK(parser.parse(nobody.out)["backup_rows_read"].get_uint64().value() == 0);
  CHECK(findings(ws.cli({"lost", "--json", "--table", "projects"}).out) ==
        std::set<std::string>{"public.projects 1 deleted_unlogged"});
  auto text = ws.cli({"lost"});
  CHECK_THAT(text.out, Catch::Contains("deleted without a logged delete") && Catch::Contains("Tampered"));

  // --sql, applied by psql, brings back exactly what was lost
  std::string script = ws.path() + "/lost.sql";
  auto sql = ws.cli({"lost", "--sql", script});
  INFO(sql.out << sql.err);
  REQUIRE(sql.exit_code == 0);
  REQUIRE(applied_by_psql(db, script) == "");
  CHECK(ws.cli({"lost"}).exit_code == 0);
  CHECK(test::query_value(db, "SELECT description FROM portfolios WHERE id = 2") == "unlogged");  // left alone
  test::execute(db, "UPDATE portfolios SET description = NULL WHERE id = 2");
  CHECK(test::compare(intact, test::snapshot(db)) == "");

  // --restore: refused without an answer, then exactly the lost rows, every other row untouched
  tamper(db);
  auto refused = ws.cli({"lost", "--restore"});
  CHECK(refused.exit_code == 4);
  CHECK(findings(ws.cli({"lost", "--json"}).out) == expected);
  auto restored = ws.cli({"lost", "--restore", "--yes"});
  INFO(restored.out << restored.err);
  REQUIRE(restored.exit_code == 0);
  auto after_restore = test::snapshot(db);
  auto again = ws.cli({"lost", "--restore", "--yes"});
  CHECK(again.exit_code == 0);
  CHECK_THAT(again.out, Catch::Contains("Nothing is lost"));
  CHECK(test::compare(after_restore, test::snapshot(db)) == "");  // a second run changes nothing
  test::execute(db, "UPDATE portfolios SET description = NULL WHERE id = 2");
  CHECK(test::compare(intact, test::snapshot(db)) == "");

  auto unknown = ws.cli({"lost", "--table", "projekts"});
  CHECK(unknown.exit_code == 2);
  CHECK_THAT(unknown.err, Catch::Contains("projects"));
  auto no_logs = ws.cli({"lost", "--audit-dir", ws.path() + "/nowhere"});
  CHECK(no_logs.exit_code == 2);
}

TEST_CASE("lost does not count rows a logged real delete's cascade removed", "[pg][lost]") {
  auto db = test::portfolio_database("investigate_lost_cascade");
  // Without a soft-delete column, deletes of categories and projects are real, and a category's
  // delete cascades to its projects (the fixture's rules).
  test::execute(db, "ALTER TABLE categories DROP COLUMN deleted_at; ALTER TABLE projects DROP COLUMN deleted_at");
  std::time_t base = std::time(nullptr) + 120;
  test::ReplayWorkspace ws(
      db, {{"DELETE_CATEGORY", rfc3339(base), R"("categoryID":1,"portfolioID":1,"userID":"user-alice")"}});
  REQUIRE(ws.cli({"backup"}).exit_code == 0);
  REQUIRE(test::query_value(db, "SELECT count(*) FROM projects WHERE category_id = 1") == "1");
  auto replayed = ws.replay({"--from", rfc3339(base - 60), "--to", rfc3339(base + 60)});
  INFO(replayed.out << replayed.err);
  REQUIRE(replayed.exit_code == 0);
  REQUIRE(test::query_value(db, "SELECT count(*) FROM projects WHERE category_id = 1") == "0");

  auto found = ws.cli({"lost", "--json"});
  INFO(found.out << found.err);
  CHECK(found.exit_code == 0);
  CHECK(findings(found.out).empty());
  simdjson::dom::parser parser;
  CHECK(parser.parse(found.out)["explained_by_cascades"].get_uint64().value() == 1);

  // the same project gone while its category is still there is a loss
  test::execute(db, "DELETE FROM projects WHERE id = 2");
  CHECK(findings(ws.cli({"lost", "--json"}).out) == std::set<std::string>{"public.projects 2 deleted_unlogged"});
}

TEST_CASE("lost --json and --sql of thousands of findings: one valid document, one script, written piece by piece",
          "[pg][lost]") {
  auto db = test::portfolio_database("investigate_many_findings");
  std::time_t base = std::time(nullptr) + 120;
  std::vector<LogLine> lines;
  for (int i = 0; i < 3000; ++i)  // logged, never replayed: all of them missing, megabytes of JSON
    lines.push_back({"CREATE_PORTFOLIO", rfc3339(base + i),
                     R"("portfolioID":)" + std::to_string(1000 + i) + R"(,"title":"Never here","userID":"user-fay")"});
  test::ReplayWorkspace ws(db, lines);
  REQUIRE(ws.cli({"backup"}).exit_code == 0);
  auto found = ws.cli({"lost", "--json"});
  CHECK(found.exit_code == 3);
  REQUIRE(found.out.size() > (1u << 20));
  CHECK(findings(found.out).size() == 3000);
  CHECK(test::json_keys_against_docs(found.out, "lost.md") == "");
  // the text report too, printed as it is made: every row, each with its values
  auto text = ws.cli({"lost"});
  CHECK(text.exit_code == 3);
  std::size_t rows = 0, titles = 0;
  for (std::size_t at = 0; (at = text.out.find("missing: the logs say it exists", at)) != std::string::npos; ++at)
    ++rows;
  for (std::size_t at = 0; (at = text.out.find("Never here", at)) != std::string::npos; ++at) ++titles;
  CHECK(rows == 3000);
  CHECK(titles == 3000);

  // --sql: a script of megabytes too, written as it is made; psql brings every row back
  std::string script = ws.path() + "/lost.sql";
  REQUIRE(ws.cli({"lost", "--sql", script}).exit_code == 0);
  REQUIRE(applied_by_psql(db, script) == "");
  CHECK(test::query_value(db, "SELECT count(*) FROM portfolios WHERE title = 'Never here'") == "3000");
  CHECK(ws.cli({"lost"}).exit_code == 0);
}

TEST_CASE("lost reading a table whole, thousands of rows in groups: exactly the rows changed or deleted",
          "[pg][lost]") {
  // The live rows of a table the logs touched much of are read whole and looked up in the fold
  // 16 at a time (src/ops/lost.cpp, read_live_table): every row judged, the last group's too.
  auto db = test::portfolio_database("investigate_lost_whole");
  std::time_t base = std::time(nullptr) + 120;
  std::vector<LogLine> lines;
  for (int i = 0; i < 2001; ++i)
    lines.push_back({"CREATE_PORTFOLIO", rfc3339(base + i),
                     R"("portfolioID":)" + std::to_string(1000 + i) + R"(,"title":"Row )" + std::to_string(i) +
                         R"(","userID":"user-gus")"});
  test::ReplayWorkspace ws(db, lines);
  REQUIRE(ws.cli({"backup"}).exit_code == 0);
  auto replayed = ws.replay({"--from", rfc3339(base - 60), "--to", rfc3339(base + 3000)});
  INFO(replayed.out << replayed.err);
  REQUIRE(replayed.exit_code == 0);
  test::execute(db, "ANALYZE");  // the planner knows the table's size: it is read whole
  CHECK(findings(ws.cli({"lost", "--json"}).out).empty());
  test::execute(db, "UPDATE portfolios SET title = 'Edited' WHERE id IN (1000, 1999)");
  // Only the key and the columns the logs set are read and judged: a description no event set is
  // the database's own.
  test::execute(db, "UPDATE portfolios SET description = 'Not logged' WHERE id IN (1000, 1001)");
  // The times the logs set as the events' own (created_at, updated_at) are judged by being NULL
  // only: read as such, a NULL one is a change, another time is not.
  test::execute(db, "UPDATE portfolios SET updated_at = NULL WHERE id = 1002");
  test::execute(db, "UPDATE portfolios SET created_at = created_at + interval '1 hour' WHERE id = 1003");
  test::execute(db, "DELETE FROM portfolios WHERE id IN (1500, 3000)");
  auto found = ws.cli({"lost", "--json"});
  INFO(found.out << found.err);
  CHECK(found.exit_code == 3);
  CHECK(findings(found.out) == std::set<std::string>{"public.portfolios 1000 changed", "public.portfolios 1999 changed",
                                                     "public.portfolios 1002 changed", "public.portfolios 1500 missing",
                                                     "public.portfolios 3000 missing"});
  simdjson::dom::parser parser;
  simdjson::dom::element doc = parser.parse(found.out);
  for (simdjson::dom::element row : doc["rows"].get_array()) {
    if (std::string(row["key"].at(0).get_string().value()) != "1002") continue;
    simdjson::dom::element value = row["values"].at(0);
    CHECK(std::string(value["column"].get_string().value()) == "updated_at");
    CHECK(std::string(value["value"].get_string().value()).rfind(rfc3339(base + 2).substr(0, 10), 0) == 0);
    CHECK(value["live"].is_null());
    CHECK(row["values"].get_array().size() == 1);
  }
  // Read by key (as if the table were large), the same columns are read: the same findings.
  test::execute(db, "UPDATE pg_class SET reltuples = 1e9 WHERE relname = 'portfolios'");
  auto by_key = ws.cli({"lost", "--json"});
  INFO(by_key.out << by_key.err);
  CHECK(by_key.out == found.out);
}

TEST_CASE("lost with a damaged backup: exit 3 naming it, and the logs' own errors first", "[pg][lost]") {
  // The dump is checked and inflated on a thread of its own while the logs are read: its error
  // must still reach the user, and leave no temporary copy behind.
  auto db = test::portfolio_database("investigate_lost_damaged");
  std::time_t base = std::time(nullptr) + 120;
  test::ReplayWorkspace ws(
      db, {{"CREATE_PORTFOLIO", rfc3339(base), R"("portfolioID":900,"title":"Never here","userID":"user-hal")"}});
  REQUIRE(ws.cli({"backup"}).exit_code == 0);
  std::string dump;
  for (const auto& entry : std::filesystem::directory_iterator(ws.path() + "/backups")) {
    std::string name = entry.path().filename().string();
    if (name.find(".dump") != std::string::npos && !entry.is_symlink()) dump = entry.path().string();
  }
  REQUIRE(!dump.empty());
  std::string text = test::read_text(dump);
  for (std::size_t i = text.size() / 2; i < text.size() / 2 + 64 && i < text.size(); ++i)
    text[i] = static_cast<char>(text[i] ^ 0x5a);
  std::ofstream(dump, std::ios::binary | std::ios::trunc) << text;

  auto damaged = ws.cli({"lost", "--json"});
  INFO(damaged.out << damaged.err);
  CHECK(damaged.exit_code == 3);
  CHECK_THAT(damaged.err, Catch::Contains("damaged") && Catch::Contains(dump));
  auto missing_logs = ws.cli({"lost", "--audit-dir", ws.path() + "/nowhere"});
  CHECK(missing_logs.exit_code == 2);  // the usage error, not the backup's
  std::size_t files = 0;
  for (const auto& entry : std::filesystem::directory_iterator(ws.path() + "/backups")) {
    INFO(entry.path());
    CHECK(entry.path().filename().string().find(".tmp") == std::string::npos);
    ++files;
  }
  CHECK(files > 0);
}
