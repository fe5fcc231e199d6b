// history and changes through the command line: the fixture application's logs, the schema from a
// real server; --json valid; the documented exit codes for an unknown table or key, a missing
// folder, missing options.
#include <simdjson.h>

#include <catch2/catch.hpp>

#include "tests/integration/replay_support.h"
#include "tests/support/test_cluster.h"

using namespace auditpitr;

namespace {

std::string fixture_logs() { return test::source_path("fixtures/portfolio-manager/audit"); }

test::CliResult cli(const test::ReplayWorkspace& ws, std::vector<std::string> args) {
  args.insert(args.begin(), {"-c", ws.config()});
  args.insert(args.begin() + 3, {"--audit-dir", fixture_logs()});
  return test::run_cli(args);
}

}  // namespace

TEST_CASE("history on the command line: text, --json, and its exit codes", "[pg][history]") {
  auto db = test::portfolio_database("investigate_history");
  test::ReplayWorkspace ws(db, {});
  auto text = cli(ws, {"history", "sections", "3"});
  INFO(text.err);
  REQUIRE(text.exit_code == 0);
  CHECK_THAT(text.out, Catch::Contains("BULK_REORDER_SECTIONS") && Catch::Contains("cascade from portfolios 4") &&
                           Catch::Contains("times in UTC") && Catch::Contains("create.log:3"));
  auto json = cli(ws, {"history", "sections", "3", "--json"});
  REQUIRE(json.exit_code == 0);
  simdjson::dom::parser parser;
  simdjson::dom::element doc = parser.parse(json.out);
  CHECK(doc["entries"].get_array().size() == 3);
  CHECK(test::json_keys_against_docs(json.out, "history.md") == "");
  CHECK(std::string(doc["schema_source"].get_string().value()).find("database") != std::string::npos);

  auto unknown_table = cli(ws, {"history", "category", "4"});
  CHECK(unknown_table.exit_code == 2);
  CHECK_THAT(unknown_table.err, Catch::Contains("'category'") && Catch::Contains("categories"));
  auto unknown_key = cli(ws, {"history", "portfolios", "99"});
  CHECK(unknown_key.exit_code == 1);
  CHECK_THAT(unknown_key.out, Catch::Contains("no logged event touched portfolios id=99"));
  auto no_key = cli(ws, {"history", "portfolios"});
  CHECK(no_key.exit_code == 2);
  auto missing = test::run_cli({"-c", ws.config(), "history", "--audit-dir", ws.path() + "/nope", "sections", "3"});
  CHECK(missing.exit_code == 2);
  CHECK_THAT(missing.err, Catch::Contains("not found"));
}

TEST_CASE("changes on the command line: by user, --json, and its exit codes", "[pg][changes]") {
  auto db = test::portfolio_database("investigate_changes");
  test::ReplayWorkspace ws(db, {});
  auto text =
      cli(ws, {"changes", "--from", "2025-01-15T00:00:00Z", "--to", "2025-01-16T00:00:00Z", "--user", "user-bob"});
  INFO(text.err);
  REQUIRE(text.exit_code == 0);
  CHECK_THAT(text.out, Catch::Contains("BULK_REORDER_CATEGORIES") && !Catch::Contains("user-alice"));
  auto json = cli(ws, {"changes", "--from", "2025-01-15T00:00:00Z", "--to", "2025-01-16T00:00:00Z", "--json"});
  REQUIRE(json.exit_code == 0);
  simdjson::dom::parser parser;
  simdjson::dom::element doc = parser.parse(json.out);
  CHECK(doc["groups"].get_array().size() == 11);
  CHECK(test::json_keys_against_docs(json.out, "changes.md") == "");
  auto unknown_table =
      cli(ws, {"changes", "--from", "2025-01-15T00:00:00Z", "--to", "2025-01-16T00:00:00Z", "--table", "category"});
  CHECK(unknown_table.exit_code == 2);
  CHECK_THAT(unknown_table.err, Catch::Contains("categories"));
  auto no_from = cli(ws, {"changes", "--to", "2025-01-16T00:00:00Z"});
  CHECK(no_from.exit_code == 2);
  auto reversed = cli(ws, {"changes", "--from", "2025-01-16T00:00:00Z", "--to", "2025-01-15T00:00:00Z"});
  CHECK(reversed.exit_code == 2);
}

TEST_CASE("an event without an acting user says null, not an empty string", "[pg][history]") {
  auto db = test::portfolio_database("investigate_no_user");
  test::ReplayWorkspace ws(db, {{"CREATE_PORTFOLIO", "2025-01-15T10:00:00Z", R"("portfolioID":10,"title":"Ten")"}});
  auto json = test::run_cli({"-c", ws.config(), "history", "portfolios", "10", "--json"});
  INFO(json.err);
  REQUIRE(json.exit_code == 0);
  simdjson::dom::parser parser;
  simdjson::dom::element doc = parser.parse(json.out);
  REQUIRE(doc["entries"].get_array().size() == 1);
  CHECK(doc["entries"].at(0)["user"].is_null());
  auto changes = test::run_cli(
      {"-c", ws.config(), "changes", "--from", "2025-01-15T00:00:00Z", "--to", "2025-01-16T00:00:00Z", "--json"});
  REQUIRE(changes.exit_code == 0);
  CHECK(parser.parse(changes.out)["groups"].at(0)["rows"].at(0)["user"].is_null());
}
