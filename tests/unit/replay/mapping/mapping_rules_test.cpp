// Rules file parsing: the accepted syntax, and errors that name file:line and the rule.
#include "replay/mapping/mapping_rules.h"

#include <catch2/catch.hpp>

#include "src/error.h"
#include "tests/unit/replay/mapping/mapping_test_support.h"

using namespace auditpitr;
using namespace auditpitr::replay;

namespace {

std::string error_of(const std::string& text) {
  try {
    validate_mapping_rules(parse_mapping_rules(text, "rules.toml"), test::portfolio_catalog());
  } catch (const Error& e) {
    CHECK(e.kind() == ErrorKind::usage);
    return e.what();
  }
  return "(no error)";
}

}  // namespace

TEST_CASE("a full rules file parses into operations, tables and renames", "[mapping]") {
  auto rules = parse_mapping_rules(R"(
ignore = ["cascade"]
[fields]
userID = "owner_id"
[tables.portfolios]
cascade = [{ table = "categories", column = "portfolio_id" }]
[tables.categories]
soft_delete = "deleted_at"
[operations.UPDATE_CATEGORY_POSITION]
table = "categories"
action = "update"
key = { categoryID = "id" }
fields = { newPosition = "position" }
expect = { oldPosition = "position" }
[operations.BULK_REORDER_CATEGORIES]
table = "categories"
action = "update"
each = "items"
key = "id"
constants = { description = "reordered", position = 3 }
event_time = ["updated_at"]
ignore = ["itemCount"]
[operations.LOGIN]
action = "ignore"
)",
                                   "rules.toml");
  REQUIRE(rules.operations.size() == 3);
  const auto& pos = *rules.operation("UPDATE_CATEGORY_POSITION");
  CHECK(pos.line == 9);
  CHECK(pos.action == RuleAction::update);
  REQUIRE(pos.expect.size() == 1);
  CHECK(pos.expect[0].field == "oldPosition");
  CHECK(pos.expect[0].line == 14);
  const auto& bulk = *rules.operation("BULK_REORDER_CATEGORIES");
  CHECK(bulk.each == "items");
  REQUIRE(bulk.key.size() == 1);
  CHECK(bulk.key[0].column.empty());  // the primary key
  CHECK(bulk.constants.size() == 2);
  CHECK(rules.tables.at("portfolios").cascade[0].child_table == "categories");
  CHECK(*rules.tables.at("categories").soft_delete == "deleted_at");
  CHECK(rules.fields[0].column == "owner_id");
  CHECK(rules.ignore == std::vector<std::string>{"cascade"});
  CHECK_NOTHROW(validate_mapping_rules(rules, test::portfolio_catalog()));
}

TEST_CASE("structural errors name the file, the line and the key", "[mapping]") {
  CHECK_THAT(error_of("[operations.X]\ntable = \"portfolios\"\nactoin = \"update\"\n"),
             Catch::Contains("'rules.toml:3'") && Catch::Contains("unknown key 'actoin'"));
  CHECK_THAT(error_of("[operations.UPDATE_PORTFOLIO]\naction = \"upsert\"\n"),
             Catch::Contains("rules.toml:2") && Catch::Contains("unknown action 'upsert'"));
  CHECK_THAT(error_of("title = [\n"), Catch::Contains("invalid mapping rules 'rules.toml:"));
  CHECK_THAT(error_of("[fields]\nuserID = 3\n"),
             Catch::Contains("rules.toml:2") && Catch::Contains("must be a string"));
  CHECK_THAT(error_of("[tables.portfolios]\ncascade = [{ table = \"categories\" }]\n"),
             Catch::Contains("rules.toml:2") && Catch::Contains("needs both 'table' and 'column'"));
}

TEST_CASE("an unconventional operation needs a table and an action", "[mapping]") {
  std::string message = error_of("\n[operations.BULK_REORDER_CATEGORIES]\naction = \"update\"\n");
  CHECK_THAT(message, Catch::Contains("rules.toml:2") && Catch::Contains("BULK_REORDER_CATEGORIES"));
}

TEST_CASE("delete cascades that loop are rejected", "[mapping]") {
  CHECK_THAT(error_of("[tables.portfolios]\ncascade = [{ table = \"categories\", column = \"portfolio_id\" }]\n"
                      "[tables.categories]\ncascade = [{ table = \"portfolios\", column = \"id\" }]\n"),
             Catch::Contains("loops back") && Catch::Contains("rules.toml:"));
}

TEST_CASE("names are checked against the catalog, naming the rule and its line", "[mapping]") {
  CHECK_THAT(error_of("[operations.UPDATE_CATEGORY_POSITION]\ntable = \"categorys\"\naction = \"update\"\n"),
             Catch::Contains("rules.toml:1") && Catch::Contains("operation 'UPDATE_CATEGORY_POSITION'") &&
                 Catch::Contains("unknown table 'categorys'"));
  CHECK_THAT(error_of("[operations.UPDATE_CATEGORY_POSITION]\ntable = \"categories\"\naction = \"update\"\n"
                      "fields = { newPosition = \"positon\" }\n"),
             Catch::Contains("rules.toml:4") && Catch::Contains("unknown column 'positon' of table 'categories'"));
  CHECK_THAT(error_of("[operations.CREATE_IMAGE]\nfields = { alt = \"alt\" }\n"),
             Catch::Contains("rules.toml:1") && Catch::Contains("has no table"));
  CHECK_THAT(
      error_of("[tables.sections]\ncascade = [{ table = \"section_contents\", column = \"sectionid\" }]\n"),
      Catch::Contains("rules.toml:2") && Catch::Contains("unknown column 'sectionid' of table 'section_contents'"));
  CHECK_THAT(error_of("[fields]\nuserID = \"owner\"\n"),
             Catch::Contains("rules.toml:2") && Catch::Contains("field rename 'userID'"));
  CHECK_THAT(error_of("[operations.X]\ntable = \"audit_notes\"\naction = \"update\"\nkey = \"noteID\"\n"),
             Catch::Contains("rules.toml:4") && Catch::Contains("no single-column primary key"));
}
