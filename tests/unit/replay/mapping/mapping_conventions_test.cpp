// Naming conventions: operations, plurals, camelCase -> snake_case, key names, reserved fields.
#include "replay/mapping/mapping_conventions.h"

#include <catch2/catch.hpp>

using namespace auditpitr::replay;

TEST_CASE("conventional operations are CREATE_/UPDATE_/DELETE_ plus an upper snake entity", "[mapping]") {
  auto op = parse_conventional_operation("DELETE_SECTION_CONTENT");
  REQUIRE(op);
  CHECK(op->verb == ConventionVerb::remove);
  CHECK(op->entity == "SECTION_CONTENT");
  CHECK(parse_conventional_operation("CREATE_PORTFOLIO")->verb == ConventionVerb::create);
  CHECK_FALSE(parse_conventional_operation("BULK_REORDER_CATEGORIES"));
  CHECK_FALSE(parse_conventional_operation("CREATE_"));
  CHECK_FALSE(parse_conventional_operation("CREATE_portfolio"));
  CHECK_FALSE(parse_conventional_operation("UPDATE__X"));
  CHECK_FALSE(parse_conventional_operation("CREATE_X_"));
}

TEST_CASE("tables are the pluralised snake case of the entity", "[mapping]") {
  CHECK(pluralise(entity_to_snake("PORTFOLIO")) == "portfolios");
  CHECK(pluralise(entity_to_snake("CATEGORY")) == "categories");
  CHECK(pluralise(entity_to_snake("SECTION_CONTENT")) == "section_contents");
  CHECK(pluralise("box") == "boxes");
  CHECK(pluralise("status") == "statuses");
  CHECK(pluralise("key") == "keys");
}

TEST_CASE("camelCase fields become snake_case columns, a trailing ID being one word", "[mapping]") {
  CHECK(camel_to_snake("portfolioID") == "portfolio_id");
  CHECK(camel_to_snake("isPublic") == "is_public");
  CHECK(camel_to_snake("userID") == "user_id");
  CHECK(camel_to_snake("id") == "id");
  CHECK(camel_to_snake("title") == "title");
  CHECK(camel_to_snake("sectionContentID") == "section_content_id");
  CHECK(camel_to_snake("HTMLContent") == "html_content");
  CHECK(camel_to_snake("already_snake") == "already_snake");
}

TEST_CASE("key fields are named after the entity in lower camel case", "[mapping]") {
  CHECK(entity_to_lower_camel("SECTION_CONTENT") + "ID" == "sectionContentID");
  CHECK(entity_to_lower_camel("PORTFOLIO") + "ID" == "portfolioID");
}

TEST_CASE("level, msg, time and operation are reserved", "[mapping]") {
  for (const char* f : {"level", "msg", "time", "operation"}) CHECK(is_reserved_field(f));
  CHECK_FALSE(is_reserved_field("title"));
}
