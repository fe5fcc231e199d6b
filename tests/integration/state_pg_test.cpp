// `auditpitr state` against a real PostgreSQL: a backup made by auditpitr, then audit lines written
// after it; the row read at three moments (before its creation, after an update, after its
// deletion by a cascade), each column's source checked; a time before every backup refused.
#include <simdjson.h>

#include <catch2/catch.hpp>
#include <ctime>

#include "tests/integration/replay_support.h"
#include "tests/support/test_cluster.h"

using namespace auditpitr;
using test::LogLine;

namespace {

using test::rfc3339;

/// The column `name` of state's JSON: {value, source, operation of its event}.
struct Column {
  std::string value, source, operation;
};

Column column(simdjson::dom::element doc, const std::string& name) {
  for (simdjson::dom::element c : doc["columns"].get_array()) {
    if (std::string(c["name"].get_string().value()) != name) continue;
    Column out;
    if (!c["value"].is_null()) out.value = std::string(c["value"].get_string().value());
    out.source = std::string(c["source"].get_string().value());
    if (!c["event"].is_null()) out.operation = std::string(c["event"]["operation"].get_string().value());
    return out;
  }
  FAIL("no column " << name);
  return {};
}

}  // namespace

TEST_CASE("state of a row before its creation, after an update, after a cascade deleted it", "[pg][state]") {
  auto db = test::portfolio_database("investigate_state");
  std::time_t base = std::time(nullptr) + 120;  // after the backup's snapshot
  std::vector<LogLine> lines = {
      {"CREATE_PORTFOLIO", rfc3339(base), R"("portfolioID":10,"title":"Ten","userID":"user-carol")"},
      {"CREATE_CATEGORY", rfc3339(base + 1),
       R"("categoryID":20,"portfolioID":10,"title":"Twenty","userID":"user-carol")"},
      {"UPDATE_PORTFOLIO", rfc3339(base + 2), R"("portfolioID":1,"title":"Design v2","userID":"user-alice")"},
      {"DELETE_PORTFOLIO", rfc3339(base + 3), R"("portfolioID":10,"userID":"user-carol")"},
  };
  test::ReplayWorkspace ws(db, lines);
  auto backup = ws.cli({"backup"});
  INFO(backup.err);
  REQUIRE(backup.exit_code == 0);
  simdjson::dom::parser parser;

  auto before = ws.cli({"state", "categories", "20", "--at", rfc3339(base)});
  INFO(before.out << before.err);
  REQUIRE(before.exit_code == 0);
  CHECK_THAT(before.out, Catch::Contains("did not exist"));

  auto updated = ws.cli({"state", "portfolios", "1", "--at", rfc3339(base + 2), "--json"});
  INFO(updated.out << updated.err);
  REQUIRE(updated.exit_code == 0);
  simdjson::dom::element doc = parser.parse(updated.out);
  CHECK(test::json_keys_against_docs(updated.out, "state.md") == "");
  CHECK(std::string(doc["status"].get_string().value()) == "existed");
  CHECK(doc["backup"]["row_in_backup"].get_bool().value());
  Column title = column(doc, "title");
  CHECK(title.value == "Design v2");
  CHECK(title.source == "event");
  CHECK(title.operation == "UPDATE_PORTFOLIO");
  Column description = column(doc, "description");
  CHECK(description.value == "Selected work");
  CHECK(description.source == "backup");
  // a moment earlier the update had not happened
  auto earlier = ws.cli({"state", "portfolios", "1", "--at", rfc3339(base + 1), "--json"});
  REQUIRE(earlier.exit_code == 0);
  CHECK(column(parser.parse(earlier.out), "title").value == "Design Portfolio");

  auto deleted = ws.cli({"state", "categories", "20", "--at", rfc3339(base + 10), "--json"});
  INFO(deleted.out << deleted.err);
  REQUIRE(deleted.exit_code == 0);
  doc = parser.parse(deleted.out);
  CHECK(std::string(doc["status"].get_string().value()) == "deleted");
  CHECK_FALSE(doc["backup"]["row_in_backup"].get_bool().value());
  CHECK(column(doc, "deleted_at").operation == "DELETE_PORTFOLIO");
  CHECK(column(doc, "title").value == "Twenty");
  CHECK(column(doc, "description").source == "unknown");
  auto text = ws.cli({"state", "categories", "20", "--at", rfc3339(base + 10)});
  CHECK_THAT(text.out, Catch::Contains("not vouched for") && Catch::Contains("set by DELETE_PORTFOLIO"));

  auto too_early = ws.cli({"state", "portfolios", "1", "--at", "2000-01-01T00:00:00Z"});
  CHECK(too_early.exit_code == 2);
  CHECK_THAT(too_early.err, Catch::Contains("no backup"));
  auto unknown = ws.cli({"state", "portfolio", "1", "--at", rfc3339(base)});
  CHECK(unknown.exit_code == 2);
  CHECK_THAT(unknown.err, Catch::Contains("portfolios"));
}
