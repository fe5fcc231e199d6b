// The Mapper: conventions alone, rules, drift checks, fan-out, cascades, unmapped fields.
#include "replay/mapping/mapping.h"

#include <catch2/catch.hpp>

#include "tests/unit/replay/mapping/mapping_test_support.h"

using namespace auditpitr;
using namespace auditpitr::replay;

namespace {

Mapper conventions_only() { return Mapper(MappingRules{}, test::portfolio_catalog()); }

Mapper with_rules(const std::string& text) {
  return Mapper(parse_mapping_rules(text, "rules.toml"), test::portfolio_catalog());
}

MapResult map(Mapper& mapper, const std::string& op, const std::string& json) {
  test::EventHolder holder(op, json);
  return mapper.map(holder.event);
}

std::string set_value(const RowChange& c, const std::string& column) {
  const ColumnValue* v = c.find_set(column);
  return v ? v->value.text : "(unset)";
}

}  // namespace

TEST_CASE("a conventional create inserts with the key, mapped fields and timestamps", "[mapping]") {
  Mapper m = conventions_only();
  auto r = map(m, "CREATE_SECTION",
               R"({"level":"info","msg":"m","operation":"CREATE_SECTION","time":"2025-01-15T10:00:00Z",)"
               R"("sectionID":9,"title":"News","portfolioID":1,"position":3,"isPinned":true})");
  REQUIRE(r.outcome == MapOutcome::mapped);
  REQUIRE(r.changes.size() == 1);
  const RowChange& c = r.changes[0];
  CHECK(c.table == "sections");
  CHECK(c.action == ChangeAction::insert);
  REQUIRE(c.key.size() == 1);
  CHECK(c.key[0].column == "id");
  CHECK(c.key[0].value == Value::of(Value::Kind::integer, "9"));
  CHECK(set_value(c, "title") == "News");
  CHECK(c.find_set("title")->value.kind == Value::Kind::string);
  CHECK(set_value(c, "portfolio_id") == "1");
  CHECK(set_value(c, "position") == "3");
  CHECK(set_value(c, "created_at") == "2025-01-15T10:00:00.000000Z");
  CHECK(set_value(c, "updated_at") == "2025-01-15T10:00:00.000000Z");
  CHECK(c.find_set("created_at")->origin == ValueOrigin::event_time);
  CHECK(c.find_set("level") == nullptr);  // reserved
  CHECK(c.find_set("msg") == nullptr);
  CHECK(c.line_number == 7);
  CHECK(c.file == "update.log");
  REQUIRE(m.unmapped_fields().size() == 1);
  CHECK(m.unmapped_fields()[0].field == "isPinned");
}

TEST_CASE("unmapped fields are reported once each, with a count", "[mapping]") {
  Mapper m = conventions_only();
  for (int i = 0; i < 3; ++i) map(m, "UPDATE_PORTFOLIO", R"({"portfolioID":1,"title":"T","userID":"u"})");
  REQUIRE(m.unmapped_fields().size() == 1);
  CHECK(m.unmapped_fields()[0].field == "userID");  // user_id is not a column; owner_id needs a rule
  CHECK(m.unmapped_fields()[0].count == 3);
  CHECK(m.unmapped_fields()[0].line_number == 7);
}

TEST_CASE("an update with changes sets 'to' and checks 'from'", "[mapping]") {
  Mapper m = conventions_only();
  auto r = map(
      m, "UPDATE_SECTION_CONTENT",
      R"({"sectionContentID":2,"changes":{"content":{"from":"old","to":"new"},"metadata":{"from":null,"to":{"alt":"x"}}}})");
  REQUIRE(r.outcome == MapOutcome::mapped);
  const RowChange& c = r.changes[0];
  CHECK(c.table == "section_contents");
  CHECK(c.action == ChangeAction::update);
  CHECK(set_value(c, "content") == "new");
  CHECK(c.find_set("content")->origin == ValueOrigin::change);
  CHECK(c.find_set("metadata")->value == Value::of(Value::Kind::json, R"({"alt":"x"})"));
  CHECK(c.find_set("updated_at") != nullptr);
  CHECK(c.find_set("created_at") == nullptr);
  REQUIRE(c.expect.size() == 2);
  CHECK(c.expect[0].column == "content");
  CHECK(c.expect[0].expected.text == "old");
  CHECK(c.expect[0].field == "changes.content.from");
  CHECK(c.expect[1].expected.is_null());
}

TEST_CASE("a delete soft-deletes where the table can and turns other fields into checks", "[mapping]") {
  Mapper m = conventions_only();
  auto r = map(m, "DELETE_PROJECT", R"({"projectID":3,"categoryID":3,"title":"Patagonia"})");
  REQUIRE(r.outcome == MapOutcome::mapped);
  const RowChange& c = r.changes[0];
  CHECK(c.action == ChangeAction::soft_delete);
  CHECK(c.set.size() == 1);
  CHECK(set_value(c, "deleted_at") == "2025-01-15T10:00:00.000000Z");
  REQUIRE(c.expect.size() == 2);
  CHECK(c.expect[0].column == "category_id");
  CHECK(c.expect[1].column == "title");
}

TEST_CASE("a table without a soft-delete column gets real deletes", "[mapping]") {
  Mapper m = with_rules("[tables.projects]\nsoft_delete = \"\"\n");
  auto r = map(m, "DELETE_PROJECT", R"({"projectID":3})");
  CHECK(r.changes.at(0).action == ChangeAction::remove);
  CHECK(r.changes.at(0).set.empty());
}

TEST_CASE("operations without a rule or a convention are not events", "[mapping]") {
  Mapper m = conventions_only();
  CHECK(map(m, "BULK_REORDER_SECTIONS", R"({"items":[]})").outcome == MapOutcome::not_an_event);
  auto r = map(m, "CREATE_IMAGE", R"({"imageID":1})");
  CHECK(r.outcome == MapOutcome::unknown_table);
  CHECK_THAT(r.reason, Catch::Contains("images"));
  CHECK(map(m, "CREATE_PROJECT_DB_ERROR", "{}").outcome == MapOutcome::unknown_table);
}

TEST_CASE("missing keys and broken lines are invalid, not fatal", "[mapping]") {
  Mapper m = conventions_only();
  auto r = map(m, "UPDATE_PORTFOLIO", R"({"title":"x"})");
  CHECK(r.outcome == MapOutcome::invalid);
  CHECK_THAT(r.reason, Catch::Contains("'portfolioID'") && Catch::Contains("'id'"));
  CHECK(map(m, "UPDATE_PORTFOLIO", R"({"portfolioID":null})").outcome == MapOutcome::invalid);
  CHECK(map(m, "UPDATE_PORTFOLIO", R"({"portfolioID":1,)").outcome == MapOutcome::invalid);
  CHECK(map(m, "UPDATE_PORTFOLIO", R"([1,2])").outcome == MapOutcome::invalid);
}

TEST_CASE("rules rename fields, add checks, constants and event times", "[mapping]") {
  Mapper m = with_rules(R"(
[fields]
userID = "owner_id"
[operations.UPDATE_CATEGORY_POSITION]
table = "categories"
action = "update"
key = { categoryID = "id" }
fields = { newPosition = "position" }
expect = { oldPosition = "position", userID = "owner_id" }
constants = { description = "moved" }
)");
  auto r =
      map(m, "UPDATE_CATEGORY_POSITION", R"({"categoryID":2,"oldPosition":2,"newPosition":1,"userID":"user-alice"})");
  REQUIRE(r.outcome == MapOutcome::mapped);
  const RowChange& c = r.changes[0];
  CHECK(set_value(c, "position") == "1");
  CHECK(set_value(c, "description") == "moved");
  CHECK(c.find_set("owner_id") == nullptr);  // expect wins over the global rename
  REQUIRE(c.expect.size() == 2);
  CHECK(c.expect[0].column == "position");
  CHECK(c.expect[0].expected.text == "2");
  CHECK(c.expect[1].column == "owner_id");
  CHECK(m.unmapped_fields().empty());

  auto create = map(m, "CREATE_PORTFOLIO", R"({"portfolioID":4,"title":"T","userID":"user-bob"})");
  CHECK(set_value(create.changes.at(0), "owner_id") == "user-bob");
}

TEST_CASE("fan-out makes one change per array element", "[mapping]") {
  Mapper m = with_rules(R"(
[operations.BULK_REORDER_CATEGORIES]
table = "categories"
action = "update"
each = "items"
key = "id"
ignore = ["itemCount", "userID"]
)");
  auto r = map(m, "BULK_REORDER_CATEGORIES",
               R"({"userID":"u","itemCount":2,"items":[{"id":2,"position":1},{"id":1,"position":2}]})");
  REQUIRE(r.outcome == MapOutcome::mapped);
  REQUIRE(r.changes.size() == 2);
  CHECK(r.changes[0].key[0].value.text == "2");
  CHECK(r.changes[0].key[0].field == "items[0].id");
  CHECK(set_value(r.changes[0], "position") == "1");
  CHECK(set_value(r.changes[1], "position") == "2");
  CHECK(r.changes[1].find_set("position")->field == "items[1].position");
  CHECK(m.unmapped_fields().empty());
  CHECK(map(m, "BULK_REORDER_CATEGORIES", R"({"items":"no"})").outcome == MapOutcome::invalid);
  CHECK(map(m, "BULK_REORDER_CATEGORIES", R"({"items":[1]})").outcome == MapOutcome::invalid);
}

TEST_CASE("delete cascades follow the table rules recursively", "[mapping]") {
  Mapper m = with_rules(R"(
[tables.portfolios]
cascade = [{ table = "categories", column = "portfolio_id" }, { table = "sections", column = "portfolio_id" }]
[tables.categories]
cascade = [{ table = "projects", column = "category_id" }]
[tables.sections]
cascade = [{ table = "section_contents", column = "section_id" }]
)");
  auto r = map(m, "DELETE_PORTFOLIO", R"({"portfolioID":1})");
  const RowChange& c = r.changes.at(0);
  REQUIRE(c.cascade.size() == 2);
  CHECK(c.cascade[0].table == "categories");
  CHECK(c.cascade[0].soft_delete_column == "deleted_at");
  REQUIRE(c.cascade[0].children.size() == 1);
  CHECK(c.cascade[0].children[0].table == "projects");
  CHECK(c.cascade[0].children[0].foreign_key == "category_id");
  CHECK(c.cascade[1].children.at(0).table == "section_contents");
}

TEST_CASE("ignored operations and targets are described without a line", "[mapping]") {
  Mapper m = with_rules("[operations.LOGIN]\naction = \"ignore\"\n");
  CHECK(m.target("LOGIN").outcome == MapOutcome::ignored);
  auto t = m.target("DELETE_CATEGORY");
  CHECK(t.outcome == MapOutcome::mapped);
  CHECK(t.table == "categories");
  CHECK(t.action == RuleAction::remove);
  CHECK_FALSE(t.from_rule);
}
